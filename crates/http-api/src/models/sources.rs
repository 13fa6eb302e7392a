//! Source bodies: create, update and the response (which never holds the password).

use apistos::schemars::JsonSchema;
use apistos::ApiComponent;
use rosetta_domain::{
    Name, NewSource, PortNumber, PublicationName, ReplicationId, Secret, Source, SourceUpdate,
    SslMode, Text,
};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{NAME_PATTERN, PUBLICATION_PATTERN};
use crate::error::FieldError;
use crate::extract::FromBody;
use crate::fields::Fields;
use crate::models::timestamp::Timestamp;

/// A PostgreSQL database to replicate from.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct CreateSourceBody {
    /// Unique name: 1–255 of `[A-Za-z0-9_-]`, stored lower-cased.
    #[schemars(length(min = 1, max = 255), pattern(NAME_PATTERN), example = &"orders-eu")]
    pub name: String,
    /// Host name or address of the server.
    #[schemars(length(min = 1, max = 255), example = &"db.example.com")]
    pub pg_host: String,
    /// Port of the server, 1–65535 (default 5432).
    #[schemars(range(min = 1, max = 65535), example = 5432)]
    pub pg_port: Option<i64>,
    /// Database to replicate from.
    #[schemars(length(min = 1, max = 255), example = &"shop")]
    pub pg_database: String,
    /// Role that connects.
    #[schemars(length(min = 1, max = 255), example = &"replicator")]
    pub pg_username: String,
    /// Password of that role. Write-only: never returned.
    #[schemars(length(min = 1, max = 255), example = &"s3cret")]
    pub pg_password: Option<String>,
    /// Publication whose tables are replicated: 1–255 of `[A-Za-z0-9_]`.
    #[schemars(length(min = 1, max = 255), pattern(PUBLICATION_PATTERN), example = &"shop_pub")]
    pub publication_name: String,
    /// Identifies the replication slot, 0 or more.
    #[schemars(range(min = 0), example = 1)]
    pub replication_id: i64,
    /// How connections to the server use TLS (default `prefer`).
    pub ssl_mode: Option<SslModeName>,
}

impl FromBody for CreateSourceBody {
    type Output = NewSource;

    fn from_body(object: &Map<String, Value>) -> Result<NewSource, Vec<FieldError>> {
        let mut f = Fields::json(object);
        let name = f.required("name", |f| f.parse_str("name", Name::parse));
        let pg_host = f.required("pg_host", |f| f.parse_str("pg_host", Text::parse));
        let pg_port = f.parse_int("pg_port", PortNumber::new);
        let pg_database = f.required("pg_database", |f| f.parse_str("pg_database", Text::parse));
        let pg_username = f.required("pg_username", |f| f.parse_str("pg_username", Text::parse));
        let pg_password = f.parse_str("pg_password", Secret::parse);
        let publication_name = f.required("publication_name", |f| {
            f.parse_str("publication_name", PublicationName::parse)
        });
        let replication_id = f.required("replication_id", |f| {
            f.parse_int("replication_id", ReplicationId::new)
        });
        let ssl_mode = f.parse_enum::<SslMode>("ssl_mode");
        f.finish(|| {
            Some(NewSource {
                name: name?,
                pg_host: pg_host?,
                pg_port: pg_port.unwrap_or_default(),
                pg_database: pg_database?,
                pg_username: pg_username?,
                pg_password,
                publication_name: publication_name?,
                replication_id: replication_id?,
                ssl_mode: ssl_mode.unwrap_or_default(),
            })
        })
    }
}

/// A partial update of a source: every field is optional; omitted fields (the password too)
/// keep their value.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct UpdateSourceBody {
    /// New unique name.
    #[schemars(length(min = 1, max = 255), pattern(NAME_PATTERN), example = &"orders-eu")]
    pub name: Option<String>,
    /// New host.
    #[schemars(length(min = 1, max = 255), example = &"replica.example.com")]
    pub pg_host: Option<String>,
    /// New port, 1–65535.
    #[schemars(range(min = 1, max = 65535), example = 5432)]
    pub pg_port: Option<i64>,
    /// New database.
    #[schemars(length(min = 1, max = 255))]
    pub pg_database: Option<String>,
    /// New role.
    #[schemars(length(min = 1, max = 255))]
    pub pg_username: Option<String>,
    /// New password (write-only).
    #[schemars(length(min = 1, max = 255))]
    pub pg_password: Option<String>,
    /// New publication.
    #[schemars(length(min = 1, max = 255), pattern(PUBLICATION_PATTERN))]
    pub publication_name: Option<String>,
    /// New replication id, 0 or more.
    #[schemars(range(min = 0))]
    pub replication_id: Option<i64>,
    /// New TLS mode.
    pub ssl_mode: Option<SslModeName>,
}

impl FromBody for UpdateSourceBody {
    type Output = SourceUpdate;

    fn from_body(object: &Map<String, Value>) -> Result<SourceUpdate, Vec<FieldError>> {
        let mut f = Fields::json(object);
        let update = SourceUpdate {
            name: f.parse_str("name", Name::parse),
            pg_host: f.parse_str("pg_host", Text::parse),
            pg_port: f.parse_int("pg_port", PortNumber::new),
            pg_database: f.parse_str("pg_database", Text::parse),
            pg_username: f.parse_str("pg_username", Text::parse),
            pg_password: f.parse_str("pg_password", Secret::parse),
            publication_name: f.parse_str("publication_name", PublicationName::parse),
            replication_id: f.parse_int("replication_id", ReplicationId::new),
            ssl_mode: f.parse_enum::<SslMode>("ssl_mode"),
        };
        f.finish(|| Some(update))
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
