//! The health report.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

/// What each dependency answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct HealthChecks {
    /// The metadata database answered within the check's timeout.
    pub database: bool,
    /// The WAL monitor's scheduler runs and its last cycle finished.
    pub wal_monitor: bool,
    /// The data plane runs in this process and its last poll of the catalogue succeeded
    /// (*extension*).
    pub replicator: bool,
}

/// The service's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct HealthResponse {
    /// `healthy`, or `unhealthy` when the metadata database does not answer.
    #[schemars(example = &"healthy")]
    pub status: String,
    /// The running version of Rosetta.
    #[schemars(example = &"0.1.0")]
    pub version: String,
    /// When the check ran (RFC 3339, UTC).
    pub timestamp: Timestamp,
    /// Each dependency's answer.
    pub checks: HealthChecks,
}

/// The answer of `/health/live`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct LiveResponse {
    /// Always `alive`: the process serves requests.
    #[schemars(example = &"alive")]
    pub status: String,
}
