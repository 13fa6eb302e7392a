//! Rosetta's use cases: creating, reading, changing and deleting the catalogue of CDC sources,
//! destinations and pipelines, moving pipelines through their lifecycle, checking that a source
//! is ready for a pipeline and that a destination can be written, monitoring the WAL and
//! replication slots of sources (the cycles of a [`WalMonitor`] and the verdict of
//! [`Rosetta::source_wal_report`]), and moving the data: a
//! [`Replicator`] copies each pipeline's tables and streams its changes. Each use case is a
//! method of [`Rosetta`] (or of the [`WalMonitor`] it builds), written only against the ports of
//! `rosetta-domain`, and owns the business rules (a pipeline needs an existing source and
//! destination, a source in use is not deleted without a cascade, a repeated status change is a
//! no-op, …). Every failure is an [`AppError`].
//!
//! # Embedding
//!
//! The crate depends on no web or database framework (only on tokio, whose timers and tasks
//! the WAL monitor runs on). To embed Rosetta, implement the port traits of
//! [`rosetta_domain::ports`] (or take the adapters of `rosetta-metadata-store` and
//! `rosetta-wal-probe`), hand them to [`Rosetta::new`] and call the use cases:
//!
//! ```
//! use std::sync::Arc;
//!
//! use rosetta_app::{AppError, MonitorSettings, Ports, Rosetta};
//! use rosetta_domain::ports::{
//!     DestinationRepository, DestinationWriter, MonitorLock, PipelineLeases,
//!     PipelineRepository, PipelineRuntime, ReplicationSource, SourceRepository, WalHistory,
//!     WalProbe,
//! };
//! use rosetta_domain::{PipelineId, PipelineStatus};
//!
//! /// The catalogue, the WAL monitor and the data plane, each port an adapter of yours (or of
//! /// `rosetta-metadata-store`, `rosetta-wal-probe`, `rosetta-pg-source`, …).
//! struct Adapters {
//!     sources: Arc<dyn SourceRepository>,
//!     destinations: Arc<dyn DestinationRepository>,
//!     pipelines: Arc<dyn PipelineRepository>,
//!     wal_history: Arc<dyn WalHistory>,
//!     monitor_lock: Arc<dyn MonitorLock>,
//!     wal_probe: Arc<dyn WalProbe>,
//!     replication: Arc<dyn ReplicationSource>,
//!     writer: Arc<dyn DestinationWriter>,
//!     leases: Arc<dyn PipelineLeases>,
//!     runtime: Arc<dyn PipelineRuntime>,
//! }
//!
//! fn wire(a: Adapters) -> Rosetta {
//!     Rosetta::new(Ports {
//!         sources: a.sources,
//!         destinations: a.destinations,
//!         pipelines: a.pipelines,
//!         wal_history: a.wal_history,
//!         monitor_lock: a.monitor_lock,
//!         wal_probe: a.wal_probe,
//!         replication: a.replication,
//!         writer: a.writer,
//!         leases: a.leases,
//!         runtime: a.runtime,
//!     })
//! }
//!
//! async fn resume(rosetta: &Rosetta, id: PipelineId) -> Result<(), AppError> {
//!     let details = rosetta.start_pipeline(id).await?;
//!     assert_eq!(details.pipeline.status, PipelineStatus::Start);
//!     Ok(())
//! }
//!
//! // One WAL monitor per process; the caller owns the timer.
//! async fn monitor(rosetta: &Rosetta) {
//!     let monitor = rosetta.wal_monitor(MonitorSettings::default());
//!     let mut ticks = tokio::time::interval(monitor.settings().interval);
//!     loop {
//!         ticks.tick().await;
//!         if let Err(error) = monitor.run_cycle().await {
//!             eprintln!("wal monitor cycle failed: {error}");
//!         }
//!     }
//! }
//! ```
//!
//! The data plane is a [`Replicator`] (`rosetta.replicator(settings, "host:pid")`), whose
//! [`Replicator::run`] runs the pipelines it holds leases on until the future it is given
//! resolves.
//!
//! [`Rosetta`], [`WalMonitor`] and [`Replicator`] are cheap to clone (they hold `Arc`s), so
//! each worker or request handler can own one.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use std::fmt;
use std::sync::Arc;

use rosetta_domain::ports::{
    DestinationRepository, DestinationWriter, MonitorLock, PipelineLeases, PipelineRepository,
    PipelineRuntime, ReplicationSource, SourceRepository, WalHistory, WalProbe,
};
use rosetta_domain::WalThresholds;
use tokio::sync::Notify;

mod destinations;
mod error;
mod pipelines;
mod replicator;
mod sources;
mod wal_metrics;
mod wal_monitor;

#[cfg(test)]
mod fixtures;

pub use destinations::{ConfigPatch, DestinationPatch, ReadAgainstStoredType, WritersByType};
pub use error::AppError;
pub use pipelines::PipelineUpdateRequest;
pub use replicator::{Replicator, ReplicatorSettings};
pub use wal_monitor::{CycleReport, MonitorSettings, WalMonitor};

/// The adapters Rosetta's use cases run on, one per port.
#[derive(Clone)]
pub struct Ports {
    /// The store of sources.
    pub sources: Arc<dyn SourceRepository>,
    /// The store of destinations.
    pub destinations: Arc<dyn DestinationRepository>,
    /// The store of pipelines and their runtime metadata.
    pub pipelines: Arc<dyn PipelineRepository>,
    /// The WAL history of sources: what the WAL monitor observes (WAL and slot samples,
    /// latest probe outcomes), read back by the API.
    pub wal_history: Arc<dyn WalHistory>,
    /// The claim on WAL monitor cycles shared by the instances of one metadata database.
    pub monitor_lock: Arc<dyn MonitorLock>,
    /// What reads WAL figures from source databases.
    pub wal_probe: Arc<dyn WalProbe>,
    /// What reads sources for replication: their publications, slots, snapshots and streams.
    pub replication: Arc<dyn ReplicationSource>,
    /// What writes pipelines' tables, changes and checkpoints on their destinations, and checks
    /// that it can ([`WritersByType`] hands each destination to the writer of its type).
    pub writer: Arc<dyn DestinationWriter>,
    /// Which replicator runs each pipeline.
    pub leases: Arc<dyn PipelineLeases>,
    /// What running pipelines report.
    pub runtime: Arc<dyn PipelineRuntime>,
}

/// Rosetta's use cases, as methods over the ports they need.
#[derive(Clone)]
pub struct Rosetta {
    sources: Arc<dyn SourceRepository>,
    destinations: Arc<dyn DestinationRepository>,
    pipelines: Arc<dyn PipelineRepository>,
    wal_history: Arc<dyn WalHistory>,
    monitor_lock: Arc<dyn MonitorLock>,
    wal_probe: Arc<dyn WalProbe>,
    replication: Arc<dyn ReplicationSource>,
    writer: Arc<dyn DestinationWriter>,
    leases: Arc<dyn PipelineLeases>,
    runtime: Arc<dyn PipelineRuntime>,
    wal_thresholds: WalThresholds,
    /// Raised by every use case that changes what a pipeline should do (create, start, pause,
    /// refresh, update, delete, and updates of sources and destinations), so that this
    /// process's replicator reads the catalogue at once instead of at its next poll.
    catalogue: Arc<Notify>,
}

impl Rosetta {
    /// The use cases, running on these adapters, judging WAL with the default thresholds.
    pub fn new(ports: Ports) -> Self {
        let Ports {
            sources,
            destinations,
            pipelines,
            wal_history,
            monitor_lock,
            wal_probe,
            replication,
            writer,
            leases,
            runtime,
        } = ports;
        Self {
            sources,
            destinations,
            pipelines,
            wal_history,
            monitor_lock,
            wal_probe,
            replication,
            writer,
            leases,
            runtime,
            wal_thresholds: WalThresholds::default(),
            catalogue: Arc::new(Notify::new()),
        }
    }

    /// Says that the catalogue changed in a way a running pipeline may have to act on. One
    /// wake-up is kept while the replicator is busy, so none is lost; a burst is read at once.
    pub(crate) fn catalogue_changed(&self) {
        self.catalogue.notify_one();
    }

    /// The same use cases, judging replication slots against `thresholds`.
    #[must_use]
    pub fn with_wal_thresholds(mut self, thresholds: WalThresholds) -> Self {
        self.wal_thresholds = thresholds;
        self
    }
}

// The adapters are trait objects without `Debug`; this lets callers keep a `Rosetta` in types
// that derive it.
impl fmt::Debug for Rosetta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rosetta").finish_non_exhaustive()
    }
}
