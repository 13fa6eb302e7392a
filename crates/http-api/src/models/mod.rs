//! Request and response bodies and parameters: each documents its part of the OpenAPI document
//! and turns what a client sent into domain values.

pub mod destinations;
pub mod health;
pub mod params;
pub mod pipelines;
pub mod sources;
pub mod timestamp;
pub mod wal_metrics;

/// The pattern of names of sources, destinations and pipelines.
pub(crate) const NAME_PATTERN: &str = "^[A-Za-z0-9_-]{1,255}$";
/// The pattern of publication names.
pub(crate) const PUBLICATION_PATTERN: &str = "^[A-Za-z0-9_]{1,255}$";
