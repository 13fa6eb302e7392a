//! Rosetta's WAL probe: the tokio-postgres adapter of the domain's
//! [`WalProbe`](rosetta_domain::ports::WalProbe) port.
//!
//! [`PgWalProbe`] opens a short-lived connection to a source, reads its WAL position, whether it
//! is a standby and its server version in one round trip, and closes the connection again. Every
//! probe is bounded three ways, all set in [`ProbeSettings`]: a TCP connect timeout, a
//! `statement_timeout` the server enforces, and an overall deadline after which the probe is
//! abandoned and its connection dropped, so nothing keeps running on the source.
//!
//! ```no_run
//! use rosetta_domain::ports::WalProbe;
//! use rosetta_wal_probe::{PgWalProbe, ProbeSettings};
//!
//! # async fn example(source: rosetta_domain::Source) {
//! let probe = PgWalProbe::new(ProbeSettings::default());
//! match probe.probe(&source).await {
//!     Ok(reading) => println!("WAL at {} bytes", reading.position_bytes),
//!     Err(error) => eprintln!("{error}"),
//! }
//! # }
//! ```
//!
//! Connections are plain TCP for now (`NoTls`).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod probe;
mod query;
mod settings;

pub use probe::PgWalProbe;
pub use settings::ProbeSettings;
