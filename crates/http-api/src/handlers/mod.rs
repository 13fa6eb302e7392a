//! One handler per file, grouped by resource.

pub mod destinations;
pub mod health;
pub mod pipelines;
pub mod prometheus;
pub mod sources;
pub mod wal_metrics;
