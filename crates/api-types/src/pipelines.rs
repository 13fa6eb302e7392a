//! Pipelines as the API answers them, with their source, destination and runtime metadata
//! (none of them holding a secret), and the names of their statuses.

use rosetta_domain::replication::PipelineProgress;
use rosetta_domain::{PipelineDetails, PipelineMetadata, PipelineMetadataStatus, PipelineStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::destinations::DestinationResponse;
use crate::pipeline_runtime::PipelinePhaseName;
use crate::sources::SourceResponse;
use crate::timestamp::Timestamp;

/// What a pipeline has been asked to do: replicate (`START`), stop and keep its position
/// (`PAUSE`), or copy everything again from scratch (`REFRESH`).
// Documented variants would turn the schema into a `oneOf`; a plain `enum` lists the values.
#[expect(missing_docs, reason = "the variants are described on the enum")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "UPPERCASE")]
pub enum PipelineStatusName {
    Start,
    Pause,
    Refresh,
}

impl From<PipelineStatus> for PipelineStatusName {
    fn from(status: PipelineStatus) -> Self {
        match status {
            PipelineStatus::Start => Self::Start,
            PipelineStatus::Pause => Self::Pause,
            PipelineStatus::Refresh => Self::Refresh,
        }
    }
}

/// The status a pipeline is created with: running from now (`START`, the default) or paused
/// (`PAUSE`).
#[expect(missing_docs, reason = "the variants are described on the enum")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "UPPERCASE")]
pub enum InitialPipelineStatusName {
    Start,
    Pause,
}

/// The runtime state of a pipeline, as its workers report it: replicating (`RUNNING`), stopped
/// on request (`PAUSED`) or stopped by an error (`ERROR`, see `last_error`).
#[expect(missing_docs, reason = "the variants are described on the enum")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "UPPERCASE")]
pub enum PipelineMetadataStatusName {
    Running,
    Paused,
    Error,
}

impl From<PipelineMetadataStatus> for PipelineMetadataStatusName {
    fn from(status: PipelineMetadataStatus) -> Self {
        match status {
            PipelineMetadataStatus::Running => Self::Running,
            PipelineMetadataStatus::Paused => Self::Paused,
            PipelineMetadataStatus::Error => Self::Error,
        }
    }
}

/// The runtime state of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct PipelineMetadataResponse {
    /// Its id.
    #[schemars(example = 1)]
    pub id: i64,
    /// The pipeline it describes.
    #[schemars(example = 1)]
    pub pipeline_id: i64,
    /// `RUNNING`, `PAUSED` or `ERROR`.
    pub status: PipelineMetadataStatusName,
    /// The last error reported, if any; cleared when the pipeline is started.
    #[schemars(example = &Value::Null)]
    pub last_error: Option<String>,
    /// When that error was reported (RFC 3339, UTC).
    pub last_error_at: Option<Timestamp>,
    /// When the pipeline was last started (RFC 3339, UTC); repeating a start does not move it.
    pub last_start_at: Option<Timestamp>,
    /// When it was created (RFC 3339, UTC).
    pub created_at: Timestamp,
    /// When it last changed (RFC 3339, UTC).
    pub updated_at: Timestamp,
    /// Where the pipeline is on the data plane; `null` until a replicator has run it
    /// (*extension*).
    pub phase: Option<PipelinePhaseName>,
    /// The replicator process that runs it, `host:pid:…` (*extension*).
    #[schemars(example = &"rosetta-0:1:3f2a")]
    pub owner: Option<String>,
    /// The source log position up to which everything is on the destination, as PostgreSQL
    /// writes an LSN (*extension*).
    #[schemars(example = &"16/B374D848")]
    pub confirmed_lsn: Option<String>,
    /// Bytes of the source's log not yet on the destination (*extension*).
    #[schemars(example = 0)]
    pub lag_bytes: Option<u64>,
    /// Seconds the oldest change not yet on the destination has waited; 0 when caught up
    /// (*extension*).
    #[schemars(example = 0.2)]
    pub lag_seconds: Option<f64>,
    /// Rows the initial copy (or the last refresh) wrote (*extension*).
    #[schemars(example = 1_000_000)]
    pub rows_copied: u64,
    /// Row changes applied since the pipeline was created (*extension*).
    #[schemars(example = 42)]
    pub changes_applied: u64,
    /// When the last applied source transaction committed (RFC 3339, UTC; *extension*).
    pub last_commit_at: Option<Timestamp>,
    /// When the data plane last reported (RFC 3339, UTC; *extension*).
    pub reported_at: Option<Timestamp>,
}

impl PipelineMetadataResponse {
    fn new(metadata: PipelineMetadata, progress: Option<PipelineProgress>) -> Self {
        Self {
            id: metadata.id.get(),
            pipeline_id: metadata.pipeline_id.get(),
            status: metadata.status.into(),
            last_error: metadata.last_error,
            last_error_at: metadata.last_error_at.map(Timestamp),
            last_start_at: metadata.last_start_at.map(Timestamp),
            created_at: metadata.created_at.into(),
            updated_at: metadata.updated_at.into(),
            phase: progress.as_ref().map(|p| p.phase.into()),
            owner: progress.as_ref().and_then(|p| p.owner.clone()),
            confirmed_lsn: progress
                .as_ref()
                .and_then(|p| p.confirmed_lsn)
                .map(|lsn| lsn.to_string()),
            lag_bytes: progress.as_ref().and_then(|p| p.lag_bytes),
            lag_seconds: progress
                .as_ref()
                .and_then(|p| p.lag)
                .map(|l| l.as_secs_f64()),
            rows_copied: progress.as_ref().map_or(0, |p| p.rows_copied),
            changes_applied: progress.as_ref().map_or(0, |p| p.changes_applied),
            last_commit_at: progress
                .as_ref()
                .and_then(|p| p.last_commit_at)
                .map(Timestamp),
            reported_at: progress.as_ref().map(|p| p.updated_at.into()),
        }
    }
}

/// A pipeline with its source, destination and runtime metadata (secrets left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PipelineResponse {
    /// Its id.
    #[schemars(example = 1)]
    pub id: i64,
    /// Its unique, lower-cased name.
    #[schemars(example = &"orders-to-dw")]
    pub name: String,
    /// The source it replicates from.
    #[schemars(example = 1)]
    pub source_id: i64,
    /// The destination it delivers to.
    #[schemars(example = 1)]
    pub destination_id: i64,
    /// What it has been asked to do.
    pub status: PipelineStatusName,
    /// When it was created (RFC 3339, UTC).
    pub created_at: Timestamp,
    /// When it last changed (RFC 3339, UTC).
    pub updated_at: Timestamp,
    /// Its source (without the password).
    pub source: SourceResponse,
    /// Its destination (without secret configuration).
    pub destination: DestinationResponse,
    /// Its runtime state.
    pub pipeline_metadata: PipelineMetadataResponse,
}

// The nested types are documented as their own routes document them.
crate::nesting_component!(PipelineResponse);

// By value, so that strings move into the response instead of being copied.
impl From<PipelineDetails> for PipelineResponse {
    fn from(details: PipelineDetails) -> Self {
        let pipeline = details.pipeline;
        Self {
            id: pipeline.id.get(),
            name: pipeline.name.into_string(),
            source_id: pipeline.source_id.get(),
            destination_id: pipeline.destination_id.get(),
            status: pipeline.status.into(),
            created_at: pipeline.created_at.into(),
            updated_at: pipeline.updated_at.into(),
            source: SourceResponse::from(details.source),
            destination: DestinationResponse::from(details.destination),
            pipeline_metadata: PipelineMetadataResponse::new(details.metadata, details.progress),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_serialize_as_the_contract_spells_them() {
        let spelled = |v: Result<Value, serde_json::Error>| v.ok();
        assert_eq!(
            spelled(serde_json::to_value(PipelineStatusName::Refresh)),
            Some(Value::from("REFRESH"))
        );
        assert_eq!(
            spelled(serde_json::to_value(PipelineMetadataStatusName::Paused)),
            Some(Value::from("PAUSED"))
        );
    }
}
