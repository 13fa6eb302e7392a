//! The typed configurations a request sends, and how each is read into the domain's.

use apistos::schemars::{JsonSchema, Schema, SchemaGenerator};
use apistos::ApiComponent;
use rosetta_domain::{
    DestinationConfig, DestinationType, PortNumber, PostgresConfig, Secret, SnowflakeConfig, Text,
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
