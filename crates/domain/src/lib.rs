//! Rosetta's domain: the catalogue of CDC sources, destinations and pipelines, the WAL figures
//! watched on every source, and the ports through which the rest of the system reaches them.
//!
//! The crate depends on no web or database framework. Values are validated when they are built
//! ([`Name::parse`], [`PortNumber::new`], …), so an entity can only hold valid data; adapters
//! implement the port traits in [`ports`]; use cases (the `rosetta-app` crate) orchestrate them.
//!
//! # Mocks
//!
//! With the `mocks` feature every port has a [mockall] mock (`MockSourceRepository`,
//! `MockPipelineRepository`, …) for unit tests of code written against the ports:
//!
#![cfg_attr(feature = "mocks", doc = "```")]
#![cfg_attr(not(feature = "mocks"), doc = "```ignore")]
//! use rosetta_domain::ports::{MockSourceRepository, SourceRepository};
//! use rosetta_domain::SourceId;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut sources = MockSourceRepository::new();
//! sources.expect_get().returning(|_| Ok(None));
//! let found = sources.get(SourceId::new(7)).await;
//! assert!(matches!(found, Ok(None)));
//! # }
//! ```
//!
//! The same feature brings the `fixtures` module: a valid [`WalReading`] and [`SlotReading`] that
//! tests adjust to their case.

mod destination;
mod diagnostics;
mod error;
#[cfg(any(test, feature = "mocks"))]
pub mod fixtures;
mod ids;
mod monitor;
mod pipeline;
pub mod ports;
mod probe;
pub mod replication;
mod source;
mod values;
mod wal;

pub use destination::{
    Destination, DestinationConfig, DestinationType, DestinationUpdate, NewDestination,
    PostgresConfig, SnowflakeConfig, SnowflakeMode,
};
pub use diagnostics::{
    DestinationDiagnostics, DiagnosticCheck, SourceDiagnostics, OLDEST_SUPPORTED_MAJOR_VERSION,
};
pub use error::InvalidValue;
pub use ids::{DestinationId, EntityKind, PipelineId, PipelineMetadataId, SourceId, WalMetricId};
pub use monitor::{
    ProbeStatus, ReasonCode, Severity, SlotOwner, SourceWalReport, VerdictReason, WalThresholds,
    WalVerdict, CRITICAL_CONSECUTIVE_FAILURES,
};
pub use pipeline::{
    InitialPipelineStatus, MetadataChange, NewPipeline, NewPipelineRequest, Pipeline,
    PipelineDetails, PipelineMetadata, PipelineMetadataStatus, PipelineRef, PipelineStatus,
    PipelineUpdate, PipelineUpdateRequest, StatusChange,
};
pub use probe::{RolePrivileges, SlotReading, SlotType, WalDirectory, WalReading};
pub use source::{slot_prefix, NewSource, Source, SourceUpdate};
pub use values::{
    Charset, DeleteMode, Limit, Name, PageRequest, PortNumber, PublicationName, ReplicationId,
    Secret, SslMode, Text, MAX_TEXT_CHARS, MIN_TEXT_CHARS,
};
pub use wal::{WalBucket, WalMetric, WalMetricQuery, WalSeriesPoint};
