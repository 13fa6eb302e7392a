//! Destinations as the API answers them: the response, whose `config` never holds a secret,
//! the diagnostics of a check, and the names of their kinds and modes.

mod check;
mod response;

pub use check::DestinationDiagnosticsResponse;
pub use response::{
    DestinationConfigResponse, DestinationResponse, PostgresConfigResponse, SnowflakeConfigResponse,
};

use rosetta_domain::{DestinationType, SnowflakeMode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kind of destination: `SNOWFLAKE` (a Snowflake account) or `POSTGRES` (a PostgreSQL
/// database). Requests accept it in any case (`snowflake`, `Postgres`, …); responses spell it
/// upper-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
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
