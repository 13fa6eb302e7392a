//! Reading WAL figures from a source database.

use std::time::Duration;

use async_trait::async_trait;

use crate::{Source, WalReading};

/// Why a probe failed. Messages name the host, never a password.
#[derive(Debug, thiserror::Error)]
pub enum WalProbeError {
    /// The server could not be reached or refused the connection or the login.
    #[error("cannot connect to {host}: {reason}")]
    Connect {
        /// `host:port` of the source.
        host: String,
        /// The cause, as the driver states it.
        reason: String,
    },
    /// The probe did not finish in time and was abandoned.
    #[error("probe of {host} abandoned after {after:?}")]
    TimedOut {
        /// `host:port` of the source.
        host: String,
        /// How long it was given.
        after: Duration,
    },
    /// The server answered the probe's query with an error.
    #[error("probe query on {host} failed: {reason}")]
    Query {
        /// `host:port` of the source.
        host: String,
        /// The server's message.
        reason: String,
    },
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Reads WAL figures from a source database.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait WalProbe: Send + Sync {
    /// Connects to the source and reads its WAL position, slots, WAL directory and settings.
    ///
    /// # Errors
    ///
    /// `Connect`, `TimedOut`, `Query`, `Unknown`.
    async fn probe(&self, source: &Source) -> Result<WalReading, WalProbeError>;
}
