//! Rosetta's use cases: creating, reading, changing and deleting the catalogue of CDC sources,
//! destinations and pipelines, moving pipelines through their lifecycle, and sampling the WAL of
//! sources. Each use case is a method of [`Rosetta`], written only against the ports of
//! `rosetta-domain`, and owns the business rules (a pipeline needs an existing source and
//! destination, a source in use is not deleted without a cascade, a repeated status change is a
//! no-op, …). Every failure is an [`AppError`].
//!
//! # Embedding
//!
//! The crate depends on no web or database framework. To embed Rosetta, implement the port
//! traits of [`rosetta_domain::ports`] (or take the adapters of `rosetta-metadata-store` and
//! `rosetta-wal-probe`), hand them to [`Rosetta::new`] and call the use cases:
//!
//! ```
//! use std::sync::Arc;
//!
//! use rosetta_app::{AppError, Ports, Rosetta};
//! use rosetta_domain::ports::{
//!     DestinationRepository, PipelineRepository, SourceRepository, WalMetricRepository, WalProbe,
//! };
//! use rosetta_domain::{PipelineId, PipelineStatus};
//!
//! fn wire(
//!     sources: Arc<dyn SourceRepository>,
//!     destinations: Arc<dyn DestinationRepository>,
//!     pipelines: Arc<dyn PipelineRepository>,
//!     wal_metrics: Arc<dyn WalMetricRepository>,
//!     wal_probe: Arc<dyn WalProbe>,
//! ) -> Rosetta {
//!     Rosetta::new(Ports { sources, destinations, pipelines, wal_metrics, wal_probe })
//! }
//!
//! async fn resume(rosetta: &Rosetta, id: PipelineId) -> Result<(), AppError> {
//!     let details = rosetta.start_pipeline(id).await?;
//!     assert_eq!(details.pipeline.status, PipelineStatus::Start);
//!     Ok(())
//! }
//! ```
//!
//! [`Rosetta`] is cheap to clone (it holds `Arc`s), so each worker or request handler can own one.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::fmt;
use std::sync::Arc;

use rosetta_domain::ports::{
    DestinationRepository, PipelineRepository, SourceRepository, WalMetricRepository, WalProbe,
};

mod destinations;
mod error;
mod pipelines;
mod sources;
mod wal_metrics;

#[cfg(test)]
mod fixtures;

pub use error::AppError;
pub use pipelines::PipelineUpdateRequest;

/// The adapters Rosetta's use cases run on, one per port.
#[derive(Clone)]
pub struct Ports {
    /// The store of sources.
    pub sources: Arc<dyn SourceRepository>,
    /// The store of destinations.
    pub destinations: Arc<dyn DestinationRepository>,
    /// The store of pipelines and their runtime metadata.
    pub pipelines: Arc<dyn PipelineRepository>,
    /// The store of WAL samples.
    pub wal_metrics: Arc<dyn WalMetricRepository>,
    /// What reads WAL figures from source databases.
    pub wal_probe: Arc<dyn WalProbe>,
}

/// Rosetta's use cases, as methods over the ports they need.
#[derive(Clone)]
pub struct Rosetta {
    sources: Arc<dyn SourceRepository>,
    destinations: Arc<dyn DestinationRepository>,
    pipelines: Arc<dyn PipelineRepository>,
    wal_metrics: Arc<dyn WalMetricRepository>,
    wal_probe: Arc<dyn WalProbe>,
}

impl Rosetta {
    /// The use cases, running on these adapters.
    pub fn new(ports: Ports) -> Self {
        let Ports {
            sources,
            destinations,
            pipelines,
            wal_metrics,
            wal_probe,
        } = ports;
        Self {
            sources,
            destinations,
            pipelines,
            wal_metrics,
            wal_probe,
        }
    }
}

// The adapters are trait objects without `Debug`; this lets callers keep a `Rosetta` in types
// that derive it.
impl fmt::Debug for Rosetta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rosetta").finish_non_exhaustive()
    }
}
