//! The ports: what use cases need from the outside world, as traits that adapters implement.
//!
//! Every port is object-safe and used as `Arc<dyn Port>` (or, for what a port opens — a
//! snapshot, a stream, a destination session — `Box<dyn …>`). With the `mocks` feature each
//! has a mockall mock named `Mock<Port>`, but for [`Snapshot`], [`TableCopy`] and [`CopySink`],
//! whose sink arguments and supertrait mockall cannot express: they are simple to fake by hand.

mod destination_repository;
mod destination_writer;
mod monitor_lock;
mod pipeline_leases;
mod pipeline_repository;
mod pipeline_runtime;
mod replication_source;
mod source_repository;
mod wal_history;
mod wal_probe;

pub use destination_repository::{DestinationRepository, DestinationRepositoryError};
pub use destination_writer::{
    Checkpoint, DestinationError, DestinationSession, DestinationState, DestinationWriter,
    TableCopy, TableSync,
};
pub use monitor_lock::{MonitorLock, MonitorLockError};
pub use pipeline_leases::{Lease, LeaseError, PipelineLeases};
pub use pipeline_repository::{PipelineRepository, PipelineRepositoryError};
pub use pipeline_runtime::{PipelineRuntime, RuntimeError};
pub use replication_source::{
    ChangeStream, CopyError, CopyFormat, CopySink, ReplicationError, ReplicationSource, Snapshot,
};
pub use source_repository::{SourceRepository, SourceRepositoryError};
pub use wal_history::{WalHistory, WalHistoryError};
pub use wal_probe::{WalProbe, WalProbeError};

#[cfg(any(test, feature = "mocks"))]
pub use destination_repository::MockDestinationRepository;
#[cfg(any(test, feature = "mocks"))]
pub use destination_writer::{MockDestinationSession, MockDestinationWriter};
#[cfg(any(test, feature = "mocks"))]
pub use monitor_lock::MockMonitorLock;
#[cfg(any(test, feature = "mocks"))]
pub use pipeline_leases::MockPipelineLeases;
#[cfg(any(test, feature = "mocks"))]
pub use pipeline_repository::MockPipelineRepository;
#[cfg(any(test, feature = "mocks"))]
pub use pipeline_runtime::MockPipelineRuntime;
#[cfg(any(test, feature = "mocks"))]
pub use replication_source::{MockChangeStream, MockReplicationSource};
#[cfg(any(test, feature = "mocks"))]
pub use source_repository::MockSourceRepository;
#[cfg(any(test, feature = "mocks"))]
pub use wal_history::MockWalHistory;
#[cfg(any(test, feature = "mocks"))]
pub use wal_probe::MockWalProbe;
