//! What the data plane reports about running pipelines, kept in the metadata database for the
//! API, the dashboard and the other replicators.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::replication::{
    PipelineProgress, PipelineSeriesPoint, PipelineSeriesQuery, TableProgress,
};
use crate::{PipelineId, WalBucket};

/// What can go wrong in a [`PipelineRuntime`].
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The pipeline does not exist (it may have just been deleted).
    #[error("pipeline {0} not found")]
    PipelineMissing(PipelineId),
    /// The store cannot be reached.
    #[error("the metadata database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The runtime state of pipelines.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PipelineRuntime: Send + Sync {
    /// Replaces what `pipeline` last reported about itself.
    ///
    /// # Errors
    ///
    /// `PipelineMissing`, `Unavailable`, `Unknown`.
    async fn report(
        &self,
        pipeline: PipelineId,
        progress: &PipelineProgress,
    ) -> Result<(), RuntimeError>;

    /// Keeps `progress` as a sample of `pipeline`'s lag and throughput at
    /// `progress.updated_at`, for its charts; samples go with the WAL history when it is
    /// pruned. A second sample at the same moment is ignored.
    ///
    /// # Errors
    ///
    /// `PipelineMissing`, `Unavailable`, `Unknown`.
    async fn sample(
        &self,
        pipeline: PipelineId,
        progress: &PipelineProgress,
    ) -> Result<(), RuntimeError>;

    /// `pipeline`'s samples summarized per bucket of `bucket` width, newest bucket first.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn series(
        &self,
        pipeline: PipelineId,
        query: PipelineSeriesQuery,
        bucket: WalBucket,
    ) -> Result<Vec<PipelineSeriesPoint>, RuntimeError>;

    /// Replaces the state of `pipeline`'s tables with `tables`.
    ///
    /// # Errors
    ///
    /// `PipelineMissing`, `Unavailable`, `Unknown`.
    async fn report_tables(
        &self,
        pipeline: PipelineId,
        tables: &[TableProgress],
    ) -> Result<(), RuntimeError>;

    /// Records that `pipeline` stopped on `error` (a message without secrets): its metadata
    /// becomes `ERROR` with `last_error` and `last_error_at`, its phase `error`. Starting it
    /// again clears the error.
    ///
    /// # Errors
    ///
    /// `PipelineMissing`, `Unavailable`, `Unknown`.
    async fn fail(
        &self,
        pipeline: PipelineId,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<(), RuntimeError>;

    /// What `pipeline` last reported; `None` before its first report.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn progress(
        &self,
        pipeline: PipelineId,
    ) -> Result<Option<PipelineProgress>, RuntimeError>;

    /// The state of `pipeline`'s tables, by source table name.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn tables(&self, pipeline: PipelineId) -> Result<Vec<TableProgress>, RuntimeError>;
}
