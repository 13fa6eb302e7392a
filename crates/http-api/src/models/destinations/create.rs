//! The create body: `{"name", "type", "config"}`, or the first version's flat Snowflake fields.

use crate::models::nesting_component;
use apistos::schemars::JsonSchema;
use rosetta_domain::{DestinationConfig, DestinationType, Name, NewDestination};
use serde_json::{json, Map, Value};

use super::config::{SnowflakeConfigBody, UncheckedConfig};
use crate::error::FieldError;
use crate::extract::FromBody;
use crate::fields::Fields;
use crate::request::{request_part, Prefix, Prefixed, RequestPart, RequestValue};

request_part! {
    /// A destination with its `type` and a `config` of that type.
    object struct TypedDestinationBody => NewDestination {
        /// Unique name: 1–255 of `[A-Za-z0-9_-]`, stored lower-cased.
        #[schemars(example = &"warehouse")]
        required name: Name,
        /// The kind of destination, accepted in any case (`postgres` is `POSTGRES`).
        required destination_type as "type": DestinationType,
        /// Its configuration: a `SnowflakeConfigBody` for `SNOWFLAKE`, a `PostgresConfigBody` for
        /// `POSTGRES`. Unknown fields are refused.
        required config: UncheckedConfig,
    } with |f| {
        // The config is read against the type even when the name fails: every value is reported.
        let config = config?
            .read_as(destination_type?)
            .map_err(|errors| f.absorb(errors))
            .ok();
        Some(NewDestination {
            name: name?,
            config: config?,
        })
    }
}

/// The prefix of the first version's flat Snowflake fields.
pub struct LegacyPrefix;

impl Prefix for LegacyPrefix {
    const PREFIX: &'static str = "snowflake_";
}

request_part! {
    /// A Snowflake destination in the flat form of the first version, without `type`: accepted
    /// as a `SNOWFLAKE` destination. Prefer the typed form.
    object struct LegacySnowflakeDestinationBody => NewDestination {
        /// Unique name: 1–255 of `[A-Za-z0-9_-]`, stored lower-cased.
        #[schemars(example = &"snowflake-raw")]
        required name: Name,
        /// The configuration, each field named with `snowflake_` (`snowflake_account`, …).
        flatten config: Prefixed<SnowflakeConfigBody, LegacyPrefix>,
    } with |_| Some(NewDestination {
        name: name?,
        config: DestinationConfig::Snowflake(config?),
    })
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

impl FromBody for CreateDestinationBody {
    type Output = NewDestination;

    fn from_body(object: &Map<String, Value>) -> Result<NewDestination, Vec<FieldError>> {
        let mut f = Fields::json(object);
        let destination = if f.has("type") {
            TypedDestinationBody::read(&mut f, "")
        } else if f
            .names()
            .iter()
            .any(|n| n.starts_with(LegacyPrefix::PREFIX))
        {
            LegacySnowflakeDestinationBody::read(&mut f, "")
        } else {
            // Neither form: the name is still checked, and the typed form is asked for.
            let name = Name::read(&mut f, "name");
            f.require("name", name);
            f.fail(
                "type",
                "missing",
                "Field required: SNOWFLAKE or POSTGRES, with its config",
            );
            let config = UncheckedConfig::read(&mut f, "config");
            f.require("config", config);
            None
        };
        f.finish(|| destination)
    }
}
