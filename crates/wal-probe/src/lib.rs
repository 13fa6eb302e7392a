//! Rosetta's WAL probe: the tokio-postgres adapter of the domain's
//! [`WalProbe`](rosetta_domain::ports::WalProbe) port.
//!
//! [`PgWalProbe`] opens one short-lived connection to a source and, in one round trip, reads
//! everything a [`WalReading`](rosetta_domain::WalReading) holds: the WAL position (written on a
//! primary, received or replayed on a standby), the server version, `wal_level` and the slot
//! settings, every replication slot with the WAL it retains, whether the source's publication
//! and slot exist, and what the probing role may do. The size of `pg_wal` needs `pg_monitor`; a
//! role without it gets the rest of the reading and no WAL directory figure. The SQL is chosen
//! by the server version reported at login (PostgreSQL 12 and later).
//!
//! Every probe is bounded three ways, all set in [`ProbeSettings`]: a TCP connect timeout, a
//! `statement_timeout` the server enforces, and an overall deadline after which the probe is
//! abandoned and its connection dropped, so nothing keeps running on the source.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use rosetta_domain::ports::WalProbe;
//! use rosetta_wal_probe::{PgWalProbe, ProbeSettings};
//!
//! # async fn example(source: rosetta_domain::Source) {
//! let probe = PgWalProbe::new(ProbeSettings::within(Duration::from_secs(30)));
//! match probe.probe(&source).await {
//!     Ok(reading) => println!("WAL at {} bytes", reading.position_bytes),
//!     Err(error) => eprintln!("{error}"),
//! }
//! # }
//! ```
//!
//! TLS follows the source's [`SslMode`](rosetta_domain::SslMode), with rustls on the ring
//! provider: `disable` is plain TCP; `prefer` encrypts when the server offers TLS and `require`
//! insists on it, neither checking the certificate (as libpq does); `verify-full` checks the
//! certificate chain against the webpki root certificates and the host name.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod probe;
mod query;
mod session;
mod settings;
mod slots;
mod socket;
mod waldir;

pub use probe::PgWalProbe;
pub use settings::ProbeSettings;
