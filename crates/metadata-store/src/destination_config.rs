//! How a destination's typed configuration is kept in the `config` JSONB column.
//!
//! The stored shapes are private to the store so that the domain stays free of serialization
//! concerns. Secret fields are stored beside the others (encryption at rest is a later step).

use anyhow::Context as _;
use rosetta_domain::{
    DestinationConfig, DestinationType, PortNumber, PostgresConfig, Secret, SnowflakeConfig, Text,
};
use serde::{Deserialize, Serialize};

use crate::stored::stored;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredSnowflake {
    account: String,
    user: String,
    database: String,
    schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warehouse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key_passphrase: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPostgres {
    host: String,
    port: i64,
    database: String,
    username: String,
    schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

fn text(value: &Option<Text>) -> Option<String> {
    value.as_ref().map(|t| t.as_str().to_owned())
}

fn secret(value: &Option<Secret>) -> Option<String> {
    value.as_ref().map(|s| s.expose().to_owned())
}

fn optional_text(value: Option<String>, column: &'static str) -> anyhow::Result<Option<Text>> {
    value
        .map(|v| stored(Text::parse_owned(v), column))
        .transpose()
}

fn optional_secret(value: Option<String>, column: &'static str) -> anyhow::Result<Option<Secret>> {
    value
        .map(|v| stored(Secret::parse_owned(v), column))
        .transpose()
}

/// The JSON stored for a configuration.
pub(crate) fn to_json(config: &DestinationConfig) -> anyhow::Result<serde_json::Value> {
    let json = match config {
        DestinationConfig::Snowflake(c) => serde_json::to_value(StoredSnowflake {
            account: c.account.as_str().to_owned(),
            user: c.user.as_str().to_owned(),
            database: c.database.as_str().to_owned(),
            schema: c.schema.as_str().to_owned(),
            role: text(&c.role),
            warehouse: text(&c.warehouse),
            host: text(&c.host),
            private_key_path: text(&c.private_key_path),
            private_key_passphrase: secret(&c.private_key_passphrase),
        }),
        DestinationConfig::Postgres(c) => serde_json::to_value(StoredPostgres {
            host: c.host.as_str().to_owned(),
            port: c.port.get().into(),
            database: c.database.as_str().to_owned(),
            username: c.username.as_str().to_owned(),
            schema: c.schema.as_str().to_owned(),
            password: secret(&c.password),
        }),
    };
    json.context("serializing a destination config")
}

/// The configuration a stored type and JSON stand for, validated again.
pub(crate) fn from_json(kind: &str, json: serde_json::Value) -> anyhow::Result<DestinationConfig> {
    let kind: DestinationType = stored(kind.parse(), "destinations.type")?;
    Ok(match kind {
        DestinationType::Snowflake => {
            let c: StoredSnowflake =
                serde_json::from_value(json).context("stored Snowflake config is malformed")?;
            DestinationConfig::Snowflake(SnowflakeConfig {
                account: stored(Text::parse_owned(c.account), "config.account")?,
                user: stored(Text::parse_owned(c.user), "config.user")?,
                database: stored(Text::parse_owned(c.database), "config.database")?,
                schema: stored(Text::parse_owned(c.schema), "config.schema")?,
                role: optional_text(c.role, "config.role")?,
                warehouse: optional_text(c.warehouse, "config.warehouse")?,
                host: optional_text(c.host, "config.host")?,
                private_key_path: optional_text(c.private_key_path, "config.private_key_path")?,
                private_key_passphrase: optional_secret(
                    c.private_key_passphrase,
                    "config.private_key_passphrase",
                )?,
            })
        }
        DestinationType::Postgres => {
            let c: StoredPostgres =
                serde_json::from_value(json).context("stored PostgreSQL config is malformed")?;
            DestinationConfig::Postgres(PostgresConfig {
                host: stored(Text::parse_owned(c.host), "config.host")?,
                port: stored(PortNumber::new(c.port), "config.port")?,
                database: stored(Text::parse_owned(c.database), "config.database")?,
                username: stored(Text::parse_owned(c.username), "config.username")?,
                schema: stored(Text::parse_owned(c.schema), "config.schema")?,
                password: optional_secret(c.password, "config.password")?,
            })
        }
    })
}
