//! Rosetta's PostgreSQL source: the adapter of the domain's
//! [`ReplicationSource`](rosetta_domain::ports::ReplicationSource) port.
//!
//! [`PgReplicationSource`] reads what a pipeline needs from a source's catalogue
//! (`facts`, `describe`) over tokio-postgres, creates its logical slot (pgoutput) with an
//! exported snapshot that [`PgSnapshot`] copies tables from (`COPY … TO STDOUT`, streamed, one
//! connection per table), and streams the slot's changes with [`PgChangeStream`], over
//! Rosetta's own client of the replication protocol. TLS follows the source's `ssl_mode` with
//! the ring-only rustls connectors of `rosetta-postgres-tls`; the login may be trust, password,
//! md5 or SCRAM-SHA-256.
//!
//! ```no_run
//! use rosetta_domain::ports::ReplicationSource;
//! use rosetta_domain::replication::Lsn;
//! use rosetta_pg_source::{PgReplicationSource, PgSourceSettings};
//!
//! # async fn example(source: rosetta_domain::Source) -> Result<(), Box<dyn std::error::Error>> {
//! let adapter = PgReplicationSource::new(PgSourceSettings::new());
//! let facts = adapter.facts(&source, "rosetta_1_1").await?;
//! println!("{} tables", facts.tables.len());
//! let mut stream = adapter.stream(&source, "rosetta_1_1", Lsn::ZERO).await?;
//! let event = stream.next().await?;
//! # Ok(()) }
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod catalog;
mod error;
mod names;
mod replication;
mod settings;
mod snapshot;
mod source;
mod sql;
mod stream;
mod wire;

pub use settings::PgSourceSettings;
pub use snapshot::PgSnapshot;
pub use source::PgReplicationSource;
pub use stream::PgChangeStream;
