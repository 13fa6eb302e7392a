//! Destination bodies: create (typed, or the first version's flat Snowflake form), update, the
//! response, whose `config` never holds a secret, and the diagnostics of a check.

mod config;
mod create;
mod update;

pub use config::{DestinationConfigBody, PostgresConfigBody, SnowflakeConfigBody, UncheckedConfig};
pub use create::{
    CreateDestinationBody, LegacyPrefix, LegacySnowflakeDestinationBody, TypedDestinationBody,
};
pub use rosetta_api_types::destinations::{
    DestinationConfigResponse, DestinationDiagnosticsResponse, DestinationResponse,
    DestinationTypeName, PostgresConfigResponse, SnowflakeConfigResponse, SnowflakeModeName,
};
pub use update::UpdateDestinationBody;
