//! The typed configurations a request sends, and how each is read into the domain's.

use apistos::schemars::JsonSchema;
use apistos::ApiComponent;
use rosetta_domain::{
    DestinationConfig, DestinationType, PortNumber, PostgresConfig, Secret, SnowflakeConfig, Text,
};
use serde_json::{Map, Value};

use crate::error::FieldError;
use crate::fields::Fields;

/// How to reach a Snowflake account. Unknown fields are refused.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(deny_unknown_fields)]
pub struct SnowflakeConfigBody {
    /// Account identifier.
    #[schemars(length(min = 1, max = 255), example = &"acme-eu")]
    pub account: String,
    /// User that loads the data.
    #[schemars(length(min = 1, max = 255), example = &"LOADER")]
    pub user: String,
    /// Database written to.
    #[schemars(length(min = 1, max = 255), example = &"RAW")]
    pub database: String,
    /// Schema written to.
    #[schemars(length(min = 1, max = 255), example = &"CDC")]
    pub schema: String,
    /// Role to assume.
    #[schemars(length(min = 1, max = 255), example = &"LOADER_ROLE")]
    pub role: Option<String>,
    /// Warehouse that runs the loads.
    #[schemars(length(min = 1, max = 255), example = &"LOAD_WH")]
    pub warehouse: Option<String>,
    /// Host, when not derived from the account.
    #[schemars(length(min = 1, max = 255), example = &"acme-eu.snowflakecomputing.com")]
    pub host: Option<String>,
    /// Path of the private key used for key-pair authentication.
    #[schemars(length(min = 1, max = 255), example = &"/keys/loader.p8")]
    pub private_key_path: Option<String>,
    /// Passphrase of that private key. Write-only: never returned; left out of an update of
    /// a Snowflake destination, the stored one is kept.
    #[schemars(length(min = 1, max = 255), extend("writeOnly" = true), example = &"s3cret")]
    pub private_key_passphrase: Option<String>,
}

/// How to reach a PostgreSQL database. Unknown fields are refused.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(deny_unknown_fields)]
pub struct PostgresConfigBody {
    /// Host name or address.
    #[schemars(length(min = 1, max = 255), example = &"warehouse.example.com")]
    pub host: String,
    /// Port, 1–65535 (default 5432).
    #[schemars(range(min = 1, max = 65535), extend("default" = 5432), example = 5432)]
    pub port: Option<i64>,
    /// Database written to.
    #[schemars(length(min = 1, max = 255), example = &"dw")]
    pub database: String,
    /// Role that writes.
    #[schemars(length(min = 1, max = 255), example = &"loader")]
    pub username: String,
    /// Schema written to (default `public`).
    #[schemars(length(min = 1, max = 255), extend("default" = "public"), example = &"public")]
    pub schema: Option<String>,
    /// Password of that role. Write-only: never returned; left out of an update of a
    /// PostgreSQL destination, the stored one is kept.
    #[schemars(length(min = 1, max = 255), extend("writeOnly" = true), example = &"s3cret")]
    pub password: Option<String>,
}

/// A destination's configuration: its shape depends on the destination's `type`.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(untagged)]
pub enum DestinationConfigBody {
    /// For `SNOWFLAKE`.
    Snowflake(SnowflakeConfigBody),
    /// For `POSTGRES`.
    Postgres(PostgresConfigBody),
}

const SNOWFLAKE_FIELDS: [&str; 9] = [
    "account",
    "user",
    "database",
    "schema",
    "role",
    "warehouse",
    "host",
    "private_key_path",
    "private_key_passphrase",
];

const POSTGRES_FIELDS: [&str; 6] = ["host", "port", "database", "username", "schema", "password"];

/// The schema written to when a PostgreSQL configuration names none.
const DEFAULT_POSTGRES_SCHEMA: &str = "public";

fn required_text(f: &mut Fields<'_>, name: &str) -> Option<Text> {
    f.required(name, |f| f.parse_str(name, Text::parse))
}

/// A Snowflake configuration whose fields are named `{prefix}account`, `{prefix}user`, …
/// (`snowflake_account` in the first version's flat body). Every field is read before
/// giving up, so that all failing values are recorded.
pub(super) fn read_snowflake(f: &mut Fields<'_>, prefix: &str) -> Option<SnowflakeConfig> {
    let key = |name: &str| format!("{prefix}{name}");
    let account = required_text(f, &key("account"));
    let user = required_text(f, &key("user"));
    let database = required_text(f, &key("database"));
    let schema = required_text(f, &key("schema"));
    let role = f.parse_str(&key("role"), Text::parse);
    let warehouse = f.parse_str(&key("warehouse"), Text::parse);
    let host = f.parse_str(&key("host"), Text::parse);
    let private_key_path = f.parse_str(&key("private_key_path"), Text::parse);
    let private_key_passphrase = f.parse_str(&key("private_key_passphrase"), Secret::parse);
    Some(SnowflakeConfig {
        account: account?,
        user: user?,
        database: database?,
        schema: schema?,
        role,
        warehouse,
        host,
        private_key_path,
        private_key_passphrase,
    })
}

fn read_postgres(f: &mut Fields<'_>) -> Option<PostgresConfig> {
    let host = required_text(f, "host");
    let port = f.parse_int("port", PortNumber::new);
    let database = required_text(f, "database");
    let username = required_text(f, "username");
    // An invalid schema is recorded as an error; only an absent one takes the default.
    let schema = f
        .parse_str("schema", Text::parse)
        .or_else(|| Text::parse(DEFAULT_POSTGRES_SCHEMA).ok());
    let password = f.parse_str("password", Secret::parse);
    Some(PostgresConfig {
        host: host?,
        port: port.unwrap_or_default(),
        database: database?,
        username: username?,
        schema: schema?,
        password,
    })
}

/// Reads the `config` object of a body as a configuration of `kind`; errors are located at
/// `body.config.<field>`, unknown fields included.
///
/// # Errors
///
/// One [`FieldError`] per failing value.
pub(super) fn read_config(
    kind: DestinationType,
    object: &Map<String, Value>,
) -> Result<DestinationConfig, Vec<FieldError>> {
    let mut f = Fields::nested(object, &["config"]);
    let (config, known) = match kind {
        DestinationType::Snowflake => (
            read_snowflake(&mut f, "").map(DestinationConfig::Snowflake),
            &SNOWFLAKE_FIELDS[..],
        ),
        DestinationType::Postgres => (
            read_postgres(&mut f).map(DestinationConfig::Postgres),
            &POSTGRES_FIELDS[..],
        ),
    };
    f.deny_unknown(known);
    f.finish(|| config)
}

/// The `config` field as an object, when present; a value of another type is an error.
pub(super) fn config_object<'a>(f: &mut Fields<'a>) -> Option<&'a Map<String, Value>> {
    match f.raw("config")? {
        Value::Object(object) => Some(object),
        _ => {
            f.fail(
                "config",
                "model_attributes_type",
                "Input should be a valid dictionary or object",
            );
            None
        }
    }
}
