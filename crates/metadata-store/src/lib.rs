//! Rosetta's metadata store: the catalogue and WAL samples in PostgreSQL, through Diesel on
//! diesel-async with a deadpool pool.
//!
//! - [`build_pool`] makes the one pool the service shares, configured by [`PoolSettings`];
//! - [`migrations`] creates the database if needed and applies the embedded migrations, without
//!   libpq;
//! - [`PgSourceRepository`], [`PgDestinationRepository`], [`PgPipelineRepository`] and
//!   [`PgWalHistory`] (the WAL monitor's samples and each source's latest probe outcome)
//!   implement the domain's repository ports;
//! - [`SecretCipher`] encrypts source passwords and destination secrets at rest, each bound to
//!   its table, row and field; [`reencrypt_secrets`] moves stored secrets to the newest key
//!   (a rotation) or encrypts plaintext left by an older version;
//! - [`PgPipelineLeases`] says which replicator runs each pipeline, and [`PgPipelineRuntime`]
//!   keeps what running pipelines report (phase, position, lag, tables, failures);
//! - [`PgMonitorLock`] lets one instance at a time run a WAL monitor cycle when several share
//!   the database, with a session advisory lock ([`WAL_MONITOR_LOCK_KEY`]) that the server
//!   releases if its holder dies.
//!
//! Driver errors never leave the crate: unique violations become the domain's `Duplicate`
//! errors, foreign keys to a vanished source `SourceMissing`, a pool that cannot hand out a
//! connection `Unavailable`.

mod conn;
mod connect;
mod crypto;
mod destination_config;
mod destinations;
mod endpoints;
mod errors;
pub mod migrations;
mod monitor_lock;
mod pipeline_leases;
mod pipeline_runtime;
mod pipelines;
mod pool;
mod probe_statements;
mod rotation;
mod row_ids;
mod schema;
mod sources;
mod stored;
mod stored_reading;
mod wal_history;

pub use crypto::{CipherError, SecretCipher, SecretField};
pub use destinations::PgDestinationRepository;
pub use monitor_lock::{PgMonitorLock, WAL_MONITOR_LOCK_KEY};
pub use pipeline_leases::PgPipelineLeases;
pub use pipeline_runtime::PgPipelineRuntime;
pub use pipelines::PgPipelineRepository;
pub use pool::{build_pool, ping, DbPool, PoolSettings};
pub use rotation::{
    count_plaintext_secrets, reencrypt_secrets, RotationError, RotationMode, RotationOptions,
    RotationReport,
};
pub use sources::PgSourceRepository;
pub use wal_history::PgWalHistory;
