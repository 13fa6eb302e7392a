//! Reading a source for replication: what it publishes, its pipeline's slot, a consistent copy
//! of its tables, and the stream of its changes.

use async_trait::async_trait;
use bytes::Bytes;

use crate::ports::DestinationError;
use crate::replication::{Lsn, RelationId, SourceFacts, StreamEvent, TableSchema};
use crate::Source;

/// Why reading a source for replication failed. Messages name the source's host and the
/// objects involved, never a password.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// The server could not be reached, or refused the connection or the login.
    #[error("cannot connect to {host}: {reason}")]
    Connect {
        /// `host:port` of the source.
        host: String,
        /// The cause, as the server or the network states it.
        reason: String,
    },
    /// The connection broke, or the server ended it.
    #[error("lost the connection to {host}: {reason}")]
    Lost {
        /// `host:port` of the source.
        host: String,
        /// The cause.
        reason: String,
    },
    /// The server refused a statement or a replication command.
    #[error("{host} refused {what}: {reason} (SQLSTATE {code})")]
    Refused {
        /// `host:port` of the source.
        host: String,
        /// What was asked (`START_REPLICATION`, `reading the publication`, …).
        what: String,
        /// The server's SQLSTATE (`55006` for a slot in use, `42704` for a missing slot, …).
        code: String,
        /// The server's message.
        reason: String,
    },
    /// The slot is streamed by another connection (another replicator, or one that has not
    /// noticed yet that it lost its lease).
    #[error("replication slot {slot} is in use by another connection")]
    SlotInUse {
        /// The slot's name.
        slot: String,
    },
    /// The pipeline's slot is gone (dropped behind Rosetta's back).
    #[error("replication slot {slot} does not exist on {host}")]
    SlotMissing {
        /// `host:port` of the source.
        host: String,
        /// The slot's name.
        slot: String,
    },
    /// The stream said something Rosetta cannot read.
    #[error("unexpected data from {host}: {reason}")]
    Protocol {
        /// `host:port` of the source.
        host: String,
        /// What was wrong.
        reason: String,
    },
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl ReplicationError {
    /// Whether trying again later may succeed without anyone changing anything: the network,
    /// a restarting server, a slot still held by a connection about to end.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::Lost { .. } | Self::SlotInUse { .. } => true,
            // Class 08 (connection), 53 (resources), 57 (operator intervention), 40 (rollback).
            Self::Refused { code, .. } => ["08", "53", "57", "40"]
                .iter()
                .any(|class| code.starts_with(class)),
            Self::SlotMissing { .. } | Self::Protocol { .. } | Self::Unknown(_) => false,
        }
    }
}

/// What copying a table can fail on: reading the source, or writing the destination.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading the source failed.
    #[error(transparent)]
    Source(#[from] ReplicationError),
    /// Writing the destination failed.
    #[error(transparent)]
    Destination(#[from] DestinationError),
}

/// The format of the rows a [`CopySink`] takes: one of PostgreSQL's `COPY` formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CopyFormat {
    /// The text format (tab-separated, `\N` for NULL, backslash escapes, one row a line):
    /// every type has it.
    #[default]
    Text,
    /// The binary format (a header, each row as its values' binary representations, a
    /// trailer): cheaper to write and to read than text, but a value is only read back by the
    /// very type that wrote it, so a sink asks for it only where each destination column has
    /// its source column's built-in type.
    Binary,
}

/// Where a table copy writes its rows.
#[async_trait]
pub trait CopySink: Send {
    /// The format [`CopySink::write`] takes; the source writes its rows in it.
    fn format(&self) -> CopyFormat {
        CopyFormat::Text
    }

    /// Takes the next bytes of the copy in PostgreSQL's `COPY … TO STDOUT` output in the
    /// sink's [`CopySink::format`], columns in the order of the table's [`TableSchema`].
    ///
    /// # Errors
    ///
    /// The destination's.
    async fn write(&mut self, rows: Bytes) -> Result<(), DestinationError>;
}

/// A slot's exported snapshot, held open while tables are copied from it: every copy sees the
/// source exactly as it was at [`Snapshot::consistent_point`], where the slot's stream starts.
#[async_trait]
pub trait Snapshot: Send + Sync {
    /// Where the slot's stream starts: every transaction committed before it is in the
    /// snapshot, every later one in the stream.
    fn consistent_point(&self) -> Lsn;

    /// Copies every row of `table` (its published columns, in [`TableSchema`] order) into
    /// `into`, streaming: the table never has to fit in memory. Copies may run concurrently,
    /// each on a connection of its own. Returns how many rows were copied.
    ///
    /// # Errors
    ///
    /// `Source` when reading fails (the table was dropped, the connection broke…),
    /// `Destination` when `into` refuses the rows.
    async fn copy_table(
        &self,
        table: &TableSchema,
        into: &mut dyn CopySink,
    ) -> Result<u64, CopyError>;

    /// Releases the snapshot (the copies must have ended).
    async fn close(&self);
}

/// A running replication stream from one slot.
///
/// [`ChangeStream::next`] is cancel-safe: dropping its future before it completes loses no
/// event, so a caller may wait for it beside a timer or a stop signal.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChangeStream: Send {
    /// The next event. Keepalives the server asks to be answered are answered here, with the
    /// last confirmed position.
    ///
    /// # Errors
    ///
    /// `Lost` when the connection ends, `Protocol` when a message cannot be read, `Refused`
    /// when the server ends the stream with an error.
    async fn next(&mut self) -> Result<StreamEvent, ReplicationError>;

    /// Says that everything before `flushed` is durable on the destination: the slot may
    /// release the WAL before it. Sent to the server at once or within a second; a position
    /// lower than one already confirmed is ignored.
    fn confirm(&mut self, flushed: Lsn);

    /// The end of the server's log as the stream last heard it (from its data and keepalive
    /// messages): how far the source has written, to tell the lag by.
    fn server_wal_end(&self) -> Lsn;

    /// Ends the stream cleanly, sending the last confirmed position first.
    async fn close(&mut self);
}

/// A source's side of replication.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReplicationSource: Send + Sync {
    /// Reads what a pipeline needs to know before it starts: the server's settings, the role's
    /// privileges, the publication and its tables, and the slot named `slot`.
    ///
    /// # Errors
    ///
    /// `Connect`, `Lost`, `Refused`, `Unknown`.
    async fn facts(&self, source: &Source, slot: &str) -> Result<SourceFacts, ReplicationError>;

    /// The published table `table` as the catalogue describes it now, `None` when it is no
    /// longer published (or no longer exists).
    ///
    /// # Errors
    ///
    /// `Connect`, `Lost`, `Refused`, `Unknown`.
    async fn describe(
        &self,
        source: &Source,
        table: RelationId,
    ) -> Result<Option<TableSchema>, ReplicationError>;

    /// Creates the logical slot `slot` (pgoutput) and exports its snapshot, to copy the tables
    /// from. A `temporary` slot lives only as long as the snapshot: it serves to take a new
    /// snapshot for tables added later, without a second permanent slot.
    ///
    /// # Errors
    ///
    /// `Refused` (a slot of that name exists: `42710`; no free slot: `53400`), `Connect`,
    /// `Lost`, `Unknown`.
    async fn create_slot(
        &self,
        source: &Source,
        slot: &str,
        temporary: bool,
    ) -> Result<Box<dyn Snapshot>, ReplicationError>;

    /// Drops the slot `slot`, ending the connection that streams from it if there is one.
    /// Returns whether it existed.
    ///
    /// # Errors
    ///
    /// `Connect`, `Lost`, `Refused`, `Unknown`.
    async fn drop_slot(&self, source: &Source, slot: &str) -> Result<bool, ReplicationError>;

    /// Streams the changes of the source's publication from slot `slot`, from `start` (or from
    /// where the slot was confirmed, whichever is later).
    ///
    /// # Errors
    ///
    /// `SlotMissing`, `SlotInUse`, `Connect`, `Refused`, `Unknown`.
    async fn stream(
        &self,
        source: &Source,
        slot: &str,
        start: Lsn,
    ) -> Result<Box<dyn ChangeStream>, ReplicationError>;
}
