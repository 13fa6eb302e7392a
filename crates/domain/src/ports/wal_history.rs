//! The WAL history of sources: what the WAL monitor writes after each probe (a WAL sample, slot
//! samples, the source's latest outcome) and what the API reads back (samples and series).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    ProbeStatus, SourceId, WalBucket, WalMetric, WalMetricQuery, WalReading, WalSeriesPoint,
};

/// What can go wrong in a [`WalHistory`].
#[derive(Debug, thiserror::Error)]
pub enum WalHistoryError {
    /// The probed source does not exist (it may have just been deleted).
    #[error("source {0} not found")]
    SourceMissing(SourceId),
    /// The store cannot be reached.
    #[error("the metadata database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The WAL history of sources: written by the WAL monitor, read by the API.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WalHistory: Send + Sync {
    /// Keeps a successful probe, all or nothing: a WAL sample (`position_bytes` at `read_at`),
    /// one sample per slot, and the source's latest outcome (success, failures reset to 0,
    /// `last_reading` replaced).
    ///
    /// # Errors
    ///
    /// `SourceMissing`, `Unavailable`, `Unknown`.
    async fn record_success(
        &self,
        source_id: SourceId,
        reading: &WalReading,
    ) -> Result<(), WalHistoryError>;

    /// Keeps a failed probe as the source's latest outcome: `error` (a message without
    /// secrets), one more consecutive failure; the last successful reading stays. Returns when
    /// a probe of the source last succeeded, if ever, as kept.
    ///
    /// # Errors
    ///
    /// `SourceMissing`, `Unavailable`, `Unknown`.
    async fn record_failure(
        &self,
        source_id: SourceId,
        failed_at: DateTime<Utc>,
        error: &str,
    ) -> Result<Option<DateTime<Utc>>, WalHistoryError>;

    /// The latest probe outcome of a source; `None` before its first probe (or when the source
    /// does not exist).
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn status(&self, source_id: SourceId) -> Result<Option<ProbeStatus>, WalHistoryError>;

    /// Deletes the WAL, slot and pipeline samples recorded before `cutoff` and says how many
    /// went.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn prune(&self, cutoff: DateTime<Utc>) -> Result<u64, WalHistoryError>;

    /// WAL samples, newest first (by time, then by id).
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn list(&self, query: WalMetricQuery) -> Result<Vec<WalMetric>, WalHistoryError>;

    /// The WAL samples summarized per bucket (min, max, average, last, count), newest bucket
    /// first, at most `query.limit` buckets, computed by the store.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn series(
        &self,
        query: WalMetricQuery,
        bucket: WalBucket,
    ) -> Result<Vec<WalSeriesPoint>, WalHistoryError>;
}
