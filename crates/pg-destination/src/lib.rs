//! Rosetta's PostgreSQL destination writer: the tokio-postgres adapter of the domain's
//! [`DestinationWriter`](rosetta_domain::ports::DestinationWriter) port.
//!
//! [`PgDestinationWriter::open`] starts a run of a pipeline on a destination and returns its
//! [`PgDestinationSession`]:
//!
//! - **Where tables go**: the source table `schema.name` is written to `<destination
//!   schema>.name`, with the source's column names and types (`text` for a type the
//!   destination does not have, such as an enum or a domain of the source) and a primary key
//!   on the source's key.
//! - **Bookkeeping** lives on the destination, in the schema `rosetta`: `rosetta.checkpoints`
//!   (per pipeline: its slot, the run that owns it, the last applied commit) and
//!   `rosetta.table_syncs` (per copied table: the snapshot it was copied from and its rows).
//!   Opening a run fences the older ones: every later write checks, holding the checkpoint row,
//!   that its run is still the newest, so a process that lost the pipeline cannot commit.
//! - **Initial copies** stream the source's `COPY` text into `COPY … FROM STDIN`, each on a
//!   connection and in a transaction of its own that empties the table first.
//! - **Changes** are folded per table and key to their net effect, and written set-based: rows
//!   that were not there are copied straight into the table, the others through a temporary
//!   staging table (`DELETE … USING`, and `UPDATE … FROM` for rows that were there); tables
//!   without a key are written row by row. They commit together with the checkpoint. A batch's statements and its `COMMIT` are
//!   sent ahead of their replies, so that the next batch is prepared meanwhile:
//!   [`DestinationSession::committed`](rosetta_domain::ports::DestinationSession::committed)
//!   says when the commit is done.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use rosetta_domain::ports::DestinationWriter;
//! use rosetta_pg_destination::{PgDestinationSettings, PgDestinationWriter};
//!
//! # async fn example(destination: rosetta_domain::Destination) {
//! let writer = PgDestinationWriter::new(PgDestinationSettings::new(
//!     Duration::from_secs(10),
//!     Duration::from_secs(60),
//! ));
//! match writer.open(&destination, rosetta_domain::PipelineId::new(7), 1).await {
//!     Ok(mut session) => println!("last applied: {:?}", session.state().await),
//!     Err(error) => eprintln!("{error}"),
//! }
//! # }
//! ```
//!
//! [`DestinationWriter::check`](rosetta_domain::ports::DestinationWriter::check) signs in with
//! the destination's settings (as `rosetta-check`) and tries each step a first run takes:
//! `connect`, `create_schema` (creates the destination schema if missing, as the first run
//! would), `create_table` (a `rosetta_check_…` table, rolled back) and `bookkeeping` (the schema
//! `rosetta` exists and the role may write it, or the role may create it, rolled back), stopping
//! at the first that fails.
//!
//! Connections use TLS `prefer` (a destination has no `ssl_mode` setting yet) with rustls on
//! the ring provider, and pin `DateStyle`, `IntervalStyle`, `extra_float_digits` and
//! `bytea_output` so that the source's text values read back as they were written.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod ahead;
mod apply;
mod bookkeeping;
mod check;
mod connection;
mod copy;
mod error;
mod layout;
mod row;
mod rowwise;
mod session;
mod settings;
mod sql;
mod stage;
mod writer;

pub use session::PgDestinationSession;
pub use settings::PgDestinationSettings;
pub use writer::PgDestinationWriter;
