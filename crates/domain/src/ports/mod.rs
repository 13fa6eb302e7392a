//! The ports: what use cases need from the outside world, as traits that adapters implement.
//!
//! Every port is object-safe and used as `Arc<dyn Port>`. With the `mocks` feature each has a
//! mockall mock named `Mock<Port>`.

mod destination_repository;
mod monitor_lock;
mod pipeline_repository;
mod source_repository;
mod wal_history;
mod wal_probe;

pub use destination_repository::{DestinationRepository, DestinationRepositoryError};
pub use monitor_lock::{MonitorLock, MonitorLockError};
pub use pipeline_repository::{PipelineRepository, PipelineRepositoryError};
pub use source_repository::{SourceRepository, SourceRepositoryError};
pub use wal_history::{WalHistory, WalHistoryError};
pub use wal_probe::{WalProbe, WalProbeError};

#[cfg(any(test, feature = "mocks"))]
pub use destination_repository::MockDestinationRepository;
#[cfg(any(test, feature = "mocks"))]
pub use monitor_lock::MockMonitorLock;
#[cfg(any(test, feature = "mocks"))]
pub use pipeline_repository::MockPipelineRepository;
#[cfg(any(test, feature = "mocks"))]
pub use source_repository::MockSourceRepository;
#[cfg(any(test, feature = "mocks"))]
pub use wal_history::MockWalHistory;
#[cfg(any(test, feature = "mocks"))]
pub use wal_probe::MockWalProbe;
