//! How a destination's typed configuration is kept in the `config` JSONB column.
//!
//! The stored shapes are private to the store so that the domain stays free of serialization
//! concerns. Secret fields are stored beside the others, encrypted: each bound to its row and
//! field (`destinations/<id>/config.password`), so the JSON can be copied around by SQL without
//! a secret following it.

use anyhow::Context as _;
use rosetta_domain::{
    DestinationConfig, DestinationType, PortNumber, PostgresConfig, Secret, SnowflakeConfig,
    SnowflakeMode, Text,
};
use serde::{Deserialize, Serialize};

use crate::crypto::{SecretCipher, SecretField};
use crate::stored::stored;

/// The secret fields of the stored configurations, by JSON key, with the field their associated
/// data names. Rotation walks the same list.
pub(crate) const SECRET_FIELDS: [(&str, &str); 2] = [
    ("password", "config.password"),
    ("private_key_passphrase", "config.private_key_passphrase"),
];

/// The secret `field` of destination `row`.
pub(crate) const fn secret_field(row: i64, field: &'static str) -> SecretField {
    SecretField::new("destinations", row, field)
}

/// Encrypts and decrypts the secrets of one destination row.
#[derive(Clone, Copy)]
pub(crate) struct RowSecrets<'a> {
    pub(crate) cipher: &'a SecretCipher,
    pub(crate) row: i64,
}

impl RowSecrets<'_> {
    fn seal(&self, value: &Option<Secret>, field: &'static str) -> anyhow::Result<Option<String>> {
        value
            .as_ref()
            .map(|s| {
                self.cipher
                    .encrypt(s.expose(), &secret_field(self.row, field))
            })
            .transpose()
            .map_err(Into::into)
    }

    fn open(&self, value: Option<String>, field: &'static str) -> anyhow::Result<Option<Secret>> {
        value
            .map(|v| {
                let plain = self.cipher.decrypt(&v, &secret_field(self.row, field))?;
                stored(Secret::parse_owned(plain), field)
            })
            .transpose()
    }
}

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
    /// Always written; rows stored before modes existed have none and are mirrors.
    #[serde(default = "default_mode")]
    mode: String,
}

fn default_mode() -> String {
    SnowflakeMode::default().as_str().to_owned()
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

fn optional_text(value: Option<String>, column: &'static str) -> anyhow::Result<Option<Text>> {
    value
        .map(|v| stored(Text::parse_owned(v), column))
        .transpose()
}

/// The JSON stored for a configuration, its secrets encrypted for their row.
pub(crate) fn to_json(
    config: &DestinationConfig,
    secrets: RowSecrets<'_>,
) -> anyhow::Result<serde_json::Value> {
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
            private_key_passphrase: secrets
                .seal(&c.private_key_passphrase, "config.private_key_passphrase")?,
            mode: c.mode.as_str().to_owned(),
        }),
        DestinationConfig::Postgres(c) => serde_json::to_value(StoredPostgres {
            host: c.host.as_str().to_owned(),
            port: c.port.get().into(),
            database: c.database.as_str().to_owned(),
            username: c.username.as_str().to_owned(),
            schema: c.schema.as_str().to_owned(),
            password: secrets.seal(&c.password, "config.password")?,
        }),
    };
    json.context("serializing a destination config")
}

/// The configuration a stored type and JSON stand for, its secrets decrypted, validated again.
pub(crate) fn from_json(
    kind: &str,
    json: serde_json::Value,
    secrets: RowSecrets<'_>,
) -> anyhow::Result<DestinationConfig> {
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
                private_key_passphrase: secrets
                    .open(c.private_key_passphrase, "config.private_key_passphrase")?,
                mode: stored(c.mode.parse(), "config.mode")?,
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
                password: secrets.open(c.password, "config.password")?,
            })
        }
    })
}
