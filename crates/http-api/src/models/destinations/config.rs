//! The typed configurations a request sends, and how each is read into the domain's.

use apistos::schemars::{JsonSchema, Schema, SchemaGenerator};
use apistos::ApiComponent;
use rosetta_domain::{
    DestinationConfig, DestinationType, PortNumber, PostgresConfig, Secret, SnowflakeConfig,
    SnowflakeMode, Text,
};
use serde_json::{Map, Value};

use crate::error::FieldError;
use crate::fields::Fields;
use crate::request::{request_part, RequestPart, RequestValue};

request_part! {
    /// How to reach a Snowflake account. Unknown fields are refused.
    #[schemars(deny_unknown_fields)]
    object struct SnowflakeConfigBody => SnowflakeConfig {
        /// Account identifier.
        #[schemars(example = &"acme-eu")]
        required account: Text,
        /// User that loads the data.
        #[schemars(example = &"LOADER")]
        required user: Text,
        /// Database written to.
        #[schemars(example = &"RAW")]
        required database: Text,
        /// Schema written to.
        #[schemars(example = &"CDC")]
        required schema: Text,
        /// Role to assume.
        #[schemars(example = &"LOADER_ROLE")]
        optional role: Text,
        /// Warehouse that runs the loads.
        #[schemars(example = &"LOAD_WH")]
        optional warehouse: Text,
        /// Host, when not derived from the account.
        #[schemars(example = &"acme-eu.snowflakecomputing.com")]
        optional host: Text,
        /// Path of the private key used for key-pair authentication.
        #[schemars(example = &"/keys/loader.p8")]
        optional private_key_path: Text,
        /// Passphrase of that private key. Write-only: never returned; left out of an update of
        /// a Snowflake destination, the stored one is kept.
        #[schemars(example = &"s3cret")]
        optional private_key_passphrase: Secret,
        /// How tables are written, accepted in any case (default `mirror`): `mirror` keeps each
        /// table equal to its source table, `changelog` appends every change to a
        /// `LANDING_<TABLE>` per source table. A replacement configuration that leaves it out
        /// is a `mirror`, like every other field it leaves out.
        #[schemars(extend("default" = SnowflakeMode::default().as_str()))]
        default mode: SnowflakeMode,
    }
}

request_part! {
    /// How to reach a PostgreSQL database. Unknown fields are refused.
    #[schemars(deny_unknown_fields)]
    object struct PostgresConfigBody => PostgresConfig {
        /// Host name or address.
        #[schemars(example = &"warehouse.example.com")]
        required host: Text,
        /// Port, 1–65535 (default 5432).
        #[schemars(extend("default" = PortNumber::POSTGRES_DEFAULT.get()), example = 5432)]
        default port: PortNumber,
        /// Database written to.
        #[schemars(example = &"dw")]
        required database: Text,
        /// Role that writes.
        #[schemars(example = &"loader")]
        required username: Text,
        /// Schema written to (default `public`).
        #[schemars(extend("default" = PostgresConfig::DEFAULT_SCHEMA), example = &"public")]
        default schema: Text = PostgresConfig::default_schema(),
        /// Password of that role. Write-only: never returned; left out of an update of a
        /// PostgreSQL destination, the stored one is kept.
        #[schemars(example = &"s3cret")]
        optional password: Secret,
    }
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

/// The `config` of a body, an object not read yet: which configuration it is depends on the
/// destination's type.
#[derive(Debug, Clone)]
pub struct UncheckedConfig(Map<String, Value>);

impl RequestValue for UncheckedConfig {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        match fields.raw(name)? {
            Value::Object(object) => Some(Self(object.clone())),
            _ => {
                fields.fail(
                    name,
                    "model_attributes_type",
                    "Input should be a valid dictionary or object",
                );
                None
            }
        }
    }

    fn schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<DestinationConfigBody>()
    }
}

impl UncheckedConfig {
    /// Reads the object as a configuration of `kind`; errors are located at
    /// `body.config.<field>`, unknown fields included.
    ///
    /// # Errors
    ///
    /// One [`FieldError`] per failing value.
    pub fn read_as(&self, kind: DestinationType) -> Result<DestinationConfig, Vec<FieldError>> {
        let mut f = Fields::nested(&self.0, &["config"]);
        let config = match kind {
            DestinationType::Snowflake => {
                read_object::<SnowflakeConfigBody>(&mut f).map(DestinationConfig::Snowflake)
            }
            DestinationType::Postgres => {
                read_object::<PostgresConfigBody>(&mut f).map(DestinationConfig::Postgres)
            }
        };
        f.finish(|| config)
    }
}

/// The fields of `P`, every other field refused.
fn read_object<P: RequestPart>(f: &mut Fields<'_>) -> Option<P::Output> {
    let value = P::read(f, "");
    f.deny_unknown(P::knows);
    value
}

#[cfg(test)]
mod tests {
    use apistos::OpenApiVersion;
    use rosetta_domain::SnowflakeMode;
    use serde_json::{json, Value};

    use super::*;

    /// `config` read as a Snowflake configuration.
    fn snowflake(config: Value) -> Result<DestinationConfig, Vec<FieldError>> {
        let Value::Object(object) = config else {
            unreachable!()
        };
        UncheckedConfig(object).read_as(DestinationType::Snowflake)
    }

    /// The mode of a minimal Snowflake configuration that sends `mode` (when not `null`).
    fn mode_of(mode: Value) -> Result<SnowflakeMode, Vec<FieldError>> {
        let mut config = json!({"account": "a", "user": "u", "database": "d", "schema": "s"});
        if !mode.is_null() {
            config["mode"] = mode;
        }
        match snowflake(config)? {
            DestinationConfig::Snowflake(c) => Ok(c.mode),
            DestinationConfig::Postgres(_) => unreachable!(),
        }
    }

    #[test]
    fn the_snowflake_mode_is_read_in_any_case_and_defaults_to_mirror() {
        assert_eq!(mode_of(Value::Null), Ok(SnowflakeMode::Mirror));
        assert_eq!(mode_of(json!("mirror")), Ok(SnowflakeMode::Mirror));
        assert_eq!(mode_of(json!("changelog")), Ok(SnowflakeMode::Changelog));
        assert_eq!(mode_of(json!("ChangeLog")), Ok(SnowflakeMode::Changelog));
        assert_eq!(mode_of(json!("MIRROR")), Ok(SnowflakeMode::Mirror));
    }

    #[test]
    fn an_unknown_snowflake_mode_fails_at_its_field_naming_the_modes() {
        let errors = mode_of(json!("append")).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].loc, ["body", "config", "mode"]);
        assert_eq!(errors[0].kind, "enum");
        assert_eq!(errors[0].msg, "must be one of mirror, changelog");

        let errors = mode_of(json!(1)).unwrap_err();
        assert_eq!(errors[0].loc, ["body", "config", "mode"]);
        assert_eq!(errors[0].kind, "string_type");
    }

    #[test]
    fn a_postgres_config_has_no_mode() {
        let Value::Object(object) = json!({
            "host": "h", "database": "d", "username": "u", "mode": "changelog"
        }) else {
            unreachable!()
        };
        let errors = UncheckedConfig(object)
            .read_as(DestinationType::Postgres)
            .unwrap_err();
        let failing: Vec<_> = errors.iter().map(|e| e.loc.join(".")).collect();
        assert_eq!(failing, ["body.config.mode"]);
        assert_eq!(errors[0].kind, "extra_forbidden");
    }

    #[test]
    fn the_snowflake_mode_is_documented_as_an_enum_with_its_default() {
        // As the served document renders it (OpenAPI 3.0).
        let mut generator = OpenApiVersion::OAS3_0
            .get_schema_settings()
            .into_generator();
        let schema = generator.root_schema_for::<SnowflakeConfigBody>();
        let mode = &schema.as_value()["properties"]["mode"];
        assert_eq!(mode["default"], "mirror", "{mode}");
        let required = schema.as_value()["required"].as_array().cloned();
        assert!(
            !required.unwrap_or_default().contains(&json!("mode")),
            "mode is optional"
        );
        // An optional reference: the enum, or `null` (the same as leaving it out).
        let reference = mode["anyOf"][0]["$ref"].as_str().unwrap_or_default();
        assert!(reference.ends_with("/SnowflakeModeName"), "{mode}");
        assert_eq!(
            generator.definitions()["SnowflakeModeName"]["enum"],
            json!(["mirror", "changelog"])
        );
    }
}
