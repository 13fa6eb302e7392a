//! The store of WAL samples.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{NewWalMetric, SourceId, WalBucket, WalMetric, WalMetricQuery, WalSeriesPoint};

/// What can go wrong in a [`WalMetricRepository`].
#[derive(Debug, thiserror::Error)]
pub enum WalMetricRepositoryError {
    /// The sampled source does not exist (it may have just been deleted).
    #[error("source {0} not found")]
    SourceMissing(SourceId),
    /// The store cannot be reached.
    #[error("the metadata database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The store of WAL samples.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WalMetricRepository: Send + Sync {
    /// Stores a sample.
    ///
    /// # Errors
    ///
    /// `SourceMissing`, `Unavailable`, `Unknown`.
    async fn record(&self, metric: NewWalMetric) -> Result<WalMetric, WalMetricRepositoryError>;

    /// Samples, newest first (by time, then by id).
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn list(&self, query: WalMetricQuery)
        -> Result<Vec<WalMetric>, WalMetricRepositoryError>;

    /// The samples summarized per bucket (min, max, average, last, count), newest bucket first,
    /// at most `query.limit` buckets, computed by the store.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn series(
        &self,
        query: WalMetricQuery,
        bucket: WalBucket,
    ) -> Result<Vec<WalSeriesPoint>, WalMetricRepositoryError>;

    /// Deletes the samples recorded before `cutoff` and says how many went.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, WalMetricRepositoryError>;
}
