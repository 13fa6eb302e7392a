//! How several Rosetta instances sharing one metadata database agree that only one of them runs
//! each WAL monitor cycle.

use std::time::Duration;

use async_trait::async_trait;

/// What can go wrong in a [`MonitorLock`].
#[derive(Debug, thiserror::Error)]
pub enum MonitorLockError {
    /// The store cannot be reached.
    #[error("the metadata database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The claim on WAL monitor cycles, shared by every instance on one metadata database.
///
/// One value serves one monitor: between a successful [`try_begin_cycle`](Self::try_begin_cycle)
/// and [`finish_cycle`](Self::finish_cycle) it holds the claim.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MonitorLock: Send + Sync {
    /// Claims the next cycle. Succeeds (`true`) only when no other instance runs a cycle now and
    /// none began one less than `min_gap` ago; the claim is then held until
    /// [`finish_cycle`](Self::finish_cycle), and the start is recorded for the other instances.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn try_begin_cycle(&self, min_gap: Duration) -> Result<bool, MonitorLockError>;

    /// Records the end of the cycle and releases the claim. Does nothing without a claim.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn finish_cycle(&self) -> Result<(), MonitorLockError>;
}
