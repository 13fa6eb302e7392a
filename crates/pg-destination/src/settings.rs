//! The knobs of the PostgreSQL destination writer: how long it waits for the server.

use std::time::Duration;

/// How long the writer waits for a destination. The replicator's settings own the defaults;
/// this crate has none of its own, so that a default is written once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgDestinationSettings {
    /// How long opening a connection (TCP, TLS and login) may take.
    pub connect_timeout: Duration,
    /// The `statement_timeout` of the session's statements (bookkeeping, DDL, applying a
    /// batch): the server cancels a statement stuck longer, and the error is transient. A
    /// table copy runs as long as its source sends rows, so its connection has no statement
    /// timeout; it waits for locks this long at most (`lock_timeout`).
    pub statement_timeout: Duration,
}

impl PgDestinationSettings {
    /// Settings with the given bounds.
    pub const fn new(connect_timeout: Duration, statement_timeout: Duration) -> Self {
        Self {
            connect_timeout,
            statement_timeout,
        }
    }
}
