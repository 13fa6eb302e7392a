//! Destination bodies: create (typed, or the first version's flat Snowflake form), update, the
//! response, whose `config` never holds a secret, and the diagnostics of a check.

mod check;
mod config;
mod create;
mod response;
mod update;

pub use check::DestinationDiagnosticsResponse;
pub use config::{DestinationConfigBody, PostgresConfigBody, SnowflakeConfigBody, UncheckedConfig};
pub use create::{
    CreateDestinationBody, LegacyPrefix, LegacySnowflakeDestinationBody, TypedDestinationBody,
};
pub use response::{
    DestinationConfigResponse, DestinationResponse, PostgresConfigResponse, SnowflakeConfigResponse,
};
pub use update::UpdateDestinationBody;

use apistos::schemars::JsonSchema;
use apistos::ApiComponent;
use rosetta_domain::{DestinationType, SnowflakeMode};
use serde::Serialize;

/// The kind of destination: `SNOWFLAKE` (a Snowflake account) or `POSTGRES` (a PostgreSQL
/// database). Requests accept it in any case (`snowflake`, `Postgres`, …); responses spell it
/// upper-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[serde(rename_all = "UPPERCASE")]
// Documented variants would turn the schema into a `oneOf`; a plain `enum` lists the values.
#[expect(missing_docs, reason = "the variants are described on the enum")]
pub enum DestinationTypeName {
    Snowflake,
    Postgres,
}

impl From<DestinationType> for DestinationTypeName {
    fn from(kind: DestinationType) -> Self {
        match kind {
            DestinationType::Snowflake => Self::Snowflake,
            DestinationType::Postgres => Self::Postgres,
        }
    }
}

/// How a Snowflake destination keeps the source's tables: `mirror` (each table kept equal to its
/// source table; the default) or `changelog` (an append-only `LANDING_<TABLE>` per source table,
/// each change a row). Requests accept it in any case; responses spell it lower-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[serde(rename_all = "lowercase")]
// Documented variants would turn the schema into a `oneOf`; a plain `enum` lists the values.
#[expect(missing_docs, reason = "the variants are described on the enum")]
pub enum SnowflakeModeName {
    Mirror,
    Changelog,
}

impl From<SnowflakeMode> for SnowflakeModeName {
    fn from(mode: SnowflakeMode) -> Self {
        match mode {
            SnowflakeMode::Mirror => Self::Mirror,
            SnowflakeMode::Changelog => Self::Changelog,
        }
    }
}
