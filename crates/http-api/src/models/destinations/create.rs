//! The create body: `{"name", "type", "config"}`, or the first version's flat Snowflake fields.

use apistos::schemars::JsonSchema;
use apistos::ApiComponent;
use rosetta_domain::{DestinationConfig, DestinationType, Name, NewDestination};
use serde_json::{json, Map, Value};

use super::config::{config_object, read_config, read_snowflake, DestinationConfigBody};
use super::DestinationTypeName;
use crate::error::FieldError;
use crate::extract::FromBody;
use crate::fields::Fields;
use crate::models::NAME_PATTERN;

/// A destination with its `type` and a `config` of that type.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct TypedDestinationBody {
    /// Unique name: 1–255 of `[A-Za-z0-9_-]`, stored lower-cased.
    #[schemars(length(min = 1, max = 255), pattern(NAME_PATTERN), example = &"warehouse")]
    pub name: String,
    /// The kind of destination, accepted in any case (`postgres` is `POSTGRES`).
    #[schemars(rename = "type")]
    pub destination_type: DestinationTypeName,
    /// Its configuration: a `SnowflakeConfigBody` for `SNOWFLAKE`, a `PostgresConfigBody` for
    /// `POSTGRES`. Unknown fields are refused.
    pub config: DestinationConfigBody,
}

/// A Snowflake destination in the flat form of the first version, without `type`: accepted
/// as a `SNOWFLAKE` destination. Prefer the typed form.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct LegacySnowflakeDestinationBody {
    /// Unique name: 1–255 of `[A-Za-z0-9_-]`, stored lower-cased.
    #[schemars(length(min = 1, max = 255), pattern(NAME_PATTERN), example = &"snowflake-raw")]
    pub name: String,
    /// Account identifier.
    #[schemars(length(min = 1, max = 255), example = &"acme-eu")]
    pub snowflake_account: String,
    /// User that loads the data.
    #[schemars(length(min = 1, max = 255), example = &"LOADER")]
    pub snowflake_user: String,
    /// Database written to.
    #[schemars(length(min = 1, max = 255), example = &"RAW")]
    pub snowflake_database: String,
    /// Schema written to.
    #[schemars(length(min = 1, max = 255), example = &"CDC")]
    pub snowflake_schema: String,
    /// Role to assume.
    #[schemars(length(min = 1, max = 255), example = &"LOADER_ROLE")]
    pub snowflake_role: Option<String>,
    /// Warehouse that runs the loads.
    #[schemars(length(min = 1, max = 255), example = &"LOAD_WH")]
    pub snowflake_warehouse: Option<String>,
    /// Host, when not derived from the account.
    #[schemars(length(min = 1, max = 255), example = &"acme-eu.snowflakecomputing.com")]
    pub snowflake_host: Option<String>,
    /// Path of the private key used for key-pair authentication.
    #[schemars(length(min = 1, max = 255), example = &"/keys/loader.p8")]
    pub snowflake_private_key_path: Option<String>,
    /// Passphrase of that private key. Write-only: never returned.
    #[schemars(length(min = 1, max = 255), extend("writeOnly" = true), example = &"s3cret")]
    pub snowflake_private_key_passphrase: Option<String>,
}

/// A destination to create: the typed form, or the first version's flat Snowflake form.
#[derive(JsonSchema)]
#[schemars(crate = "apistos")]
#[schemars(untagged, example = create_example())]
pub enum CreateDestinationBody {
    /// `{"name", "type", "config"}`.
    Typed(TypedDestinationBody),
    /// `{"name", "snowflake_account", …}` (first version).
    Legacy(LegacySnowflakeDestinationBody),
}

nesting_component!(CreateDestinationBody);

fn create_example() -> Value {
    json!({
        "name": "warehouse",
        "type": "POSTGRES",
        "config": {
            "host": "warehouse.example.com",
            "port": 5432,
            "database": "dw",
            "username": "loader",
            "schema": "public",
            "password": "s3cret"
        }
    })
}

/// The prefix of the first version's flat Snowflake fields.
const LEGACY_PREFIX: &str = "snowflake_";

/// The typed form: `type`, then a `config` object of that type.
fn read_typed(f: &mut Fields<'_>) -> Option<DestinationConfig> {
    let kind = f.parse_enum::<DestinationType>("type");
    let object = config_object(f);
    let object = f.require("config", object)?;
    match read_config(kind?, object) {
        Ok(config) => Some(config),
        Err(errors) => {
            f.absorb(errors);
            None
        }
    }
}

impl FromBody for CreateDestinationBody {
    type Output = NewDestination;

    fn from_body(object: &Map<String, Value>) -> Result<NewDestination, Vec<FieldError>> {
        let mut f = Fields::json(object);
        let name = f.required("name", |f| f.parse_str("name", Name::parse));
        let config = if f.has("type") {
            read_typed(&mut f)
        } else if f.names().iter().any(|n| n.starts_with(LEGACY_PREFIX)) {
            read_snowflake(&mut f, LEGACY_PREFIX).map(DestinationConfig::Snowflake)
        } else {
            f.fail(
                "type",
                "missing",
                "Field required: SNOWFLAKE or POSTGRES, with its config",
            );
            let object = config_object(&mut f);
            f.require("config", object);
            None
        };
        f.finish(|| {
            Some(NewDestination {
                name: name?,
                config: config?,
            })
        })
    }
}
