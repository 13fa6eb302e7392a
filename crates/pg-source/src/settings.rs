//! `PgSourceSettings`: the timeouts and intervals of the PostgreSQL source adapter.

use std::time::Duration;

/// How the source adapter bounds its connections and paces its replication streams. The
/// service builds it from its settings; [`PgSourceSettings::new`] holds the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgSourceSettings {
    /// How long opening a connection, TLS and login included, may take (default 10 s).
    pub connect_timeout: Duration,
    /// How long a catalogue query or a replication command may run (default 30 s). Copies
    /// and the snapshot's anchor transaction are not bounded: a table takes as long as it takes.
    pub statement_timeout: Duration,
    /// How long creating a slot may wait: the server makes it only once the transactions
    /// running when it was asked for have ended (default 10 min).
    pub slot_timeout: Duration,
    /// How soon a confirmed position is reported to the server once it has moved (default
    /// 1 s); also the most often it is reported, short of the server asking.
    pub status_interval: Duration,
    /// The longest time between two reports, moved or not, so the server never ends a quiet
    /// stream as dead (default 10 s; the server's `wal_sender_timeout` is 60 s by default).
    pub idle_status_interval: Duration,
    /// How many events a stream reads ahead of its consumer (default 16,384, more than a
    /// batch of 10,000 changes with their transactions' begins and commits, so that the next
    /// batch is read while one is written): the bound on what it holds in memory besides the
    /// message being read and the delivery being handed out (at most 256 events).
    pub read_ahead: usize,
    /// The largest protocol message accepted (default 1 GiB, the most a value can hold).
    pub max_message_bytes: usize,
}

impl PgSourceSettings {
    /// The defaults.
    pub const fn new() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            slot_timeout: Duration::from_secs(600),
            status_interval: Duration::from_secs(1),
            idle_status_interval: Duration::from_secs(10),
            read_ahead: 16_384,
            max_message_bytes: 1 << 30,
        }
    }
}

impl Default for PgSourceSettings {
    fn default() -> Self {
        Self::new()
    }
}
