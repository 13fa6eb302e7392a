//! Rosetta's metadata store: the catalogue and WAL samples in PostgreSQL, through Diesel on
//! diesel-async with a deadpool pool.
//!
//! - [`build_pool`] makes the one pool the service shares, configured by [`PoolSettings`];
//! - [`migrations`] creates the database if needed and applies the embedded migrations, without
//!   libpq;
//! - [`PgSourceRepository`], [`PgDestinationRepository`], [`PgPipelineRepository`] and
//!   [`PgWalMetricRepository`] implement the domain's repository ports.
//!
//! Driver errors never leave the crate: unique violations become the domain's `Duplicate`
//! errors, a pool that cannot hand out a connection becomes `Unavailable`.

mod connect;
mod destination_config;
mod destinations;
mod endpoints;
mod errors;
pub mod migrations;
mod pipelines;
mod pool;
mod schema;
mod sources;
mod stored;
mod wal_metrics;

pub use destinations::PgDestinationRepository;
pub use pipelines::PgPipelineRepository;
pub use pool::{build_pool, ping, DbPool, PoolSettings};
pub use sources::PgSourceRepository;
pub use wal_metrics::PgWalMetricRepository;
