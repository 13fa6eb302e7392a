//! A destination as answered: its configuration without the secret fields.

use rosetta_domain::{Destination, DestinationConfig, PostgresConfig, SnowflakeConfig, Text};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DestinationTypeName, SnowflakeModeName};
use crate::timestamp::Timestamp;

/// How a Snowflake destination is reached, without its private key passphrase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct SnowflakeConfigResponse {
    /// Account identifier.
    #[schemars(example = &"acme-eu")]
    pub account: String,
    /// User that loads the data.
    #[schemars(example = &"LOADER")]
    pub user: String,
    /// Database written to.
    #[schemars(example = &"RAW")]
    pub database: String,
    /// Schema written to.
    #[schemars(example = &"CDC")]
    pub schema: String,
    /// Role assumed, `null` when not set.
    #[schemars(example = &"LOADER_ROLE")]
    pub role: Option<String>,
    /// Warehouse that runs the loads, `null` when not set.
    #[schemars(example = &"LOAD_WH")]
    pub warehouse: Option<String>,
    /// Host, `null` when derived from the account.
    #[schemars(example = &"acme-eu.snowflakecomputing.com")]
    pub host: Option<String>,
    /// Path of the private key for key-pair authentication, `null` when not set.
    #[schemars(example = &"/keys/loader.p8")]
    pub private_key_path: Option<String>,
    /// How tables are written, lower-case.
    pub mode: SnowflakeModeName,
}

/// How a PostgreSQL destination is reached, without its password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct PostgresConfigResponse {
    /// Host name or address.
    #[schemars(example = &"warehouse.example.com")]
    pub host: String,
    /// Port.
    #[schemars(example = 5432)]
    pub port: u16,
    /// Database written to.
    #[schemars(example = &"dw")]
    pub database: String,
    /// Role that writes.
    #[schemars(example = &"loader")]
    pub username: String,
    /// Schema written to.
    #[schemars(example = &"public")]
    pub schema: String,
}

/// A destination's configuration, shaped by its `type`; secret fields are never returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(untagged)]
pub enum DestinationConfigResponse {
    /// For `SNOWFLAKE`.
    Snowflake(SnowflakeConfigResponse),
    /// For `POSTGRES`.
    Postgres(PostgresConfigResponse),
}

/// A destination as stored, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DestinationResponse {
    /// Its id.
    #[schemars(example = 1)]
    pub id: i64,
    /// Its unique, lower-cased name.
    #[schemars(example = &"warehouse")]
    pub name: String,
    /// Its type, upper-case.
    #[serde(rename = "type")]
    pub destination_type: DestinationTypeName,
    /// Its configuration, without secret fields.
    pub config: DestinationConfigResponse,
    /// When it was created (RFC 3339, UTC).
    pub created_at: Timestamp,
    /// When it last changed (RFC 3339, UTC).
    pub updated_at: Timestamp,
}

crate::nesting_component!(DestinationResponse);

fn optional(text: Option<Text>) -> Option<String> {
    text.map(Text::into_string)
}

// The conversions take the domain values by value: strings move instead of being copied, and
// the secrets are dropped here, never read.
impl From<SnowflakeConfig> for SnowflakeConfigResponse {
    fn from(config: SnowflakeConfig) -> Self {
        Self {
            account: config.account.into_string(),
            user: config.user.into_string(),
            database: config.database.into_string(),
            schema: config.schema.into_string(),
            role: optional(config.role),
            warehouse: optional(config.warehouse),
            host: optional(config.host),
            private_key_path: optional(config.private_key_path),
            mode: config.mode.into(),
        }
    }
}

impl From<PostgresConfig> for PostgresConfigResponse {
    fn from(config: PostgresConfig) -> Self {
        Self {
            host: config.host.into_string(),
            port: config.port.get(),
            database: config.database.into_string(),
            username: config.username.into_string(),
            schema: config.schema.into_string(),
        }
    }
}

impl From<DestinationConfig> for DestinationConfigResponse {
    fn from(config: DestinationConfig) -> Self {
        match config {
            DestinationConfig::Snowflake(c) => Self::Snowflake(c.into()),
            DestinationConfig::Postgres(c) => Self::Postgres(c.into()),
        }
    }
}

impl From<Destination> for DestinationResponse {
    fn from(destination: Destination) -> Self {
        Self {
            id: destination.id.get(),
            name: destination.name.into_string(),
            destination_type: destination.config.destination_type().into(),
            config: destination.config.into(),
            created_at: destination.created_at.into(),
            updated_at: destination.updated_at.into(),
        }
    }
}
