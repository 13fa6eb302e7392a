//! The data plane end to end: the real service (its replicator on) against a source database
//! on the `wal_level = logical` cluster (`LOGICAL_DATABASE_URL`, made by
//! `scripts/ensure-logical-postgres.sh`) and a destination database on the test server
//! (`DATABASE_URL`), driven through the API like any client, and the two compared table by
//! table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faults;
mod harness;
mod lifecycle;
mod snowflake;
mod streaming;
