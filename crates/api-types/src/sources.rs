//! A source as the API answers it (never with its password).

use rosetta_domain::{Source, SslMode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

/// A source as stored, without its password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct SourceResponse {
    /// Its id.
    #[schemars(example = 1)]
    pub id: i64,
    /// Its unique, lower-cased name.
    #[schemars(example = &"orders-eu")]
    pub name: String,
    /// Host of the server.
    #[schemars(example = &"db.example.com")]
    pub pg_host: String,
    /// Port of the server.
    #[schemars(example = 5432)]
    pub pg_port: u16,
    /// Database replicated from.
    #[schemars(example = &"shop")]
    pub pg_database: String,
    /// Role that connects.
    #[schemars(example = &"replicator")]
    pub pg_username: String,
    /// Publication whose tables are replicated.
    #[schemars(example = &"shop_pub")]
    pub publication_name: String,
    /// Identifies the replication slot.
    #[schemars(example = 1)]
    pub replication_id: i64,
    /// How connections to the server use TLS.
    pub ssl_mode: SslModeName,
    /// When it was created (RFC 3339, UTC).
    pub created_at: Timestamp,
    /// When it last changed (RFC 3339, UTC).
    pub updated_at: Timestamp,
}

// Takes the source by value: its strings move into the response instead of being copied.
impl From<Source> for SourceResponse {
    fn from(source: Source) -> Self {
        Self {
            id: source.id.get(),
            name: source.name.into_string(),
            pg_host: source.pg_host.into_string(),
            pg_port: source.pg_port.get(),
            pg_database: source.pg_database.into_string(),
            pg_username: source.pg_username.into_string(),
            publication_name: source.publication_name.into_string(),
            replication_id: source.replication_id.get(),
            ssl_mode: source.ssl_mode.into(),
            created_at: source.created_at.into(),
            updated_at: source.updated_at.into(),
        }
    }
}

/// How connections to a source use TLS, as libpq's `sslmode` names it: `disable` (never),
/// `prefer` (when the server offers it; the default), `require` (always, without checking the
/// certificate) or `verify-full` (always, with a certificate a trusted authority signed for the
/// host name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "kebab-case")]
// Documented variants would turn the schema into a `oneOf`; a plain `enum` lists the values.
#[expect(missing_docs, reason = "the variants are described on the enum")]
pub enum SslModeName {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

impl From<SslMode> for SslModeName {
    fn from(mode: SslMode) -> Self {
        match mode {
            SslMode::Disable => Self::Disable,
            SslMode::Prefer => Self::Prefer,
            SslMode::Require => Self::Require,
            SslMode::VerifyFull => Self::VerifyFull,
        }
    }
}
