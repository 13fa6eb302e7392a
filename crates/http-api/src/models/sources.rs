//! Source bodies: create, update and the response (which never holds the password).

use apistos::schemars::JsonSchema;
use apistos::ApiComponent;
use rosetta_domain::{
    Name, NewSource, PortNumber, PublicationName, ReplicationId, Secret, Source, SourceUpdate,
    SslMode, Text,
};
use serde::Serialize;

use crate::models::timestamp::Timestamp;
use crate::request::request_part;

request_part! {
    /// A PostgreSQL database to replicate from.
    body struct CreateSourceBody => NewSource {
        /// Unique name: 1–255 of `[A-Za-z0-9_-]`, stored lower-cased.
        #[schemars(example = &"orders-eu")]
        required name: Name,
        /// Host name or address of the server.
        #[schemars(example = &"db.example.com")]
        required pg_host: Text,
        /// Port of the server, 1–65535 (default 5432).
        #[schemars(example = 5432)]
        default pg_port: PortNumber,
        /// Database to replicate from.
        #[schemars(example = &"shop")]
        required pg_database: Text,
        /// Role that connects.
        #[schemars(example = &"replicator")]
        required pg_username: Text,
        /// Password of that role. Write-only: never returned.
        #[schemars(example = &"s3cret")]
        optional pg_password: Secret,
        /// Publication whose tables are replicated: 1–255 of `[A-Za-z0-9_]`.
        #[schemars(example = &"shop_pub")]
        required publication_name: PublicationName,
        /// Identifies the replication slot, 0 or more.
        #[schemars(example = 1)]
        required replication_id: ReplicationId,
        /// How connections to the server use TLS (default `prefer`).
        default ssl_mode: SslMode,
    }
}

request_part! {
    /// A partial update of a source: every field is optional; omitted fields (the password too)
    /// keep their value.
    body struct UpdateSourceBody => SourceUpdate {
        /// New unique name.
        #[schemars(example = &"orders-eu")]
        optional name: Name,
        /// New host.
        #[schemars(example = &"replica.example.com")]
        optional pg_host: Text,
        /// New port, 1–65535.
        #[schemars(example = 5432)]
        optional pg_port: PortNumber,
        /// New database.
        optional pg_database: Text,
        /// New role.
        optional pg_username: Text,
        /// New password (write-only).
        optional pg_password: Secret,
        /// New publication.
        optional publication_name: PublicationName,
        /// New replication id, 0 or more.
        optional replication_id: ReplicationId,
        /// New TLS mode.
        optional ssl_mode: SslMode,
    }
}

/// A source as stored, without its password.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
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
