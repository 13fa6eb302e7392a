//! The WAL metric routes.

mod list;

pub use list::list_wal_metrics;
