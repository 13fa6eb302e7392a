//! One handler per file, grouped by resource.

pub mod health;
pub mod sources;
