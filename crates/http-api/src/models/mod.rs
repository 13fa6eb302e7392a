//! Request and response bodies and parameters: each documents its part of the OpenAPI document
//! and turns what a client sent into domain values.

/// Implements `ApiComponent` for a type that nests other documented types (see
/// `rosetta_api_types::nesting_component`).
pub(crate) use rosetta_api_types::nesting_component;

pub mod destinations;
pub mod health;
pub mod params;
pub mod pipelines;
pub mod sources;
pub mod wal_metrics;

pub use rosetta_api_types::{pipeline_runtime, source_wal, timestamp};
