//! Which replicator process runs each pipeline: a lease in the metadata database, renewed by
//! its owner, taken over by another process when it lapses.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::PipelineId;

/// What can go wrong with a [`PipelineLeases`].
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The store cannot be reached.
    #[error("the metadata database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// A process's right to run a pipeline until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The pipeline.
    pub pipeline: PipelineId,
    /// The process holding it.
    pub owner: String,
    /// Which run of the pipeline this is: it grows every time the lease changes hands, and
    /// fences out the writes of earlier runs on the destination.
    pub epoch: u64,
    /// When it lapses unless renewed (on the metadata database's clock).
    pub expires_at: DateTime<Utc>,
}

/// The leases of pipelines, shared by every replicator on one metadata database.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PipelineLeases: Send + Sync {
    /// Takes the lease of `pipeline` for `owner` for `ttl`, or renews it when `owner` holds it
    /// already. `None` when another process holds a lease that has not lapsed.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn acquire(
        &self,
        pipeline: PipelineId,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, LeaseError>;

    /// Gives the lease of `pipeline` up, if `owner` holds it, so another process may take it
    /// at once.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn release(&self, pipeline: PipelineId, owner: &str) -> Result<(), LeaseError>;

    /// Says that replicator `owner` is alive for `ttl` more, and returns how many replicators
    /// are alive (`owner` included), so that each can take its share of the pipelines.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn heartbeat(&self, owner: &str, ttl: Duration) -> Result<usize, LeaseError>;

    /// Says that replicator `owner` has stopped: the others count without it at once.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn leave(&self, owner: &str) -> Result<(), LeaseError>;
}
