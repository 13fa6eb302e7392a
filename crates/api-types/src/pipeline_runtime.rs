//! What the data plane reports about a pipeline, as the API shows it (contract extensions): its
//! phase (inside `pipeline_metadata`, see `pipelines.rs`), and its tables at
//! `GET /api/v1/pipelines/{id}/tables`.

use rosetta_domain::replication::{PipelinePhase, TableProgress, TableState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

/// Where a pipeline is on the data plane: checking and connecting (`starting`), copying its
/// tables (`copying`), applying streamed changes (`streaming`), stopped on request (`paused`)
/// or by an error (`error`, see `last_error`).
#[expect(missing_docs, reason = "the variants are described on the enum")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "lowercase")]
pub enum PipelinePhaseName {
    Starting,
    Copying,
    Streaming,
    Paused,
    Error,
}

impl From<PipelinePhase> for PipelinePhaseName {
    fn from(phase: PipelinePhase) -> Self {
        match phase {
            PipelinePhase::Starting => Self::Starting,
            PipelinePhase::Copying => Self::Copying,
            PipelinePhase::Streaming => Self::Streaming,
            PipelinePhase::Paused => Self::Paused,
            PipelinePhase::Error => Self::Error,
        }
    }
}

/// A table's state in its pipeline: waiting for its copy (`queued`), being copied (`copying`),
/// copied and waiting for the stream to reach its snapshot (`copied`), taking its changes as
/// they come (`streaming`), or failed (`error`, see `error`).
#[expect(missing_docs, reason = "the variants are described on the enum")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "lowercase")]
pub enum TableStateName {
    Queued,
    Copying,
    Copied,
    Streaming,
    Error,
}

impl From<TableState> for TableStateName {
    fn from(state: TableState) -> Self {
        match state {
            TableState::Queued => Self::Queued,
            TableState::Copying => Self::Copying,
            TableState::Copied => Self::Copied,
            TableState::Streaming => Self::Streaming,
            TableState::Error => Self::Error,
        }
    }
}

/// One table of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct PipelineTableResponse {
    /// Its schema on the source.
    #[schemars(example = &"public")]
    pub schema: String,
    /// Its name on the source.
    #[schemars(example = &"orders")]
    pub name: String,
    /// Its state.
    pub state: TableStateName,
    /// Rows its copy wrote.
    #[schemars(example = 1_000_000)]
    pub rows_copied: u64,
    /// Why it failed, in the `error` state.
    pub error: Option<String>,
    /// When its state last changed (RFC 3339, UTC).
    pub updated_at: Timestamp,
}

impl From<TableProgress> for PipelineTableResponse {
    fn from(table: TableProgress) -> Self {
        Self {
            schema: table.table.schema,
            name: table.table.name,
            state: table.state.into(),
            rows_copied: table.rows_copied,
            error: table.error,
            updated_at: table.updated_at.into(),
        }
    }
}
