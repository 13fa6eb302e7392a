//! Writing a pipeline's tables on its destination: their definitions, their initial copy, the
//! streamed changes, and the pipeline's checkpoint, committed together with the changes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ports::CopySink;
use crate::replication::{Change, Lsn, TableName, TableSchema};
use crate::{Destination, DiagnosticCheck, PipelineId};

/// Why writing a destination failed. Messages name the destination's host and the table,
/// never a secret.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// The destination could not be reached, or refused the connection or the login.
    #[error("cannot connect to {host}: {reason}")]
    Connect {
        /// Where the destination is (`host:port`, or an account).
        host: String,
        /// The cause.
        reason: String,
    },
    /// The connection broke, or the server ended it; what was not committed is not there.
    #[error("lost the connection to {host}: {reason}")]
    Lost {
        /// Where the destination is.
        host: String,
        /// The cause.
        reason: String,
    },
    /// An existing destination table cannot hold the source table's rows.
    #[error("destination table {table} does not match the source: {reason}")]
    Incompatible {
        /// The destination table.
        table: String,
        /// What differs, and how to fix it.
        reason: String,
    },
    /// The destination refused the rows (a constraint, a type, a permission); trying again
    /// will not help until someone changes something.
    #[error("the destination refused changes to {table}: {reason}")]
    Rejected {
        /// The destination table (or `checkpoint`).
        table: String,
        /// The destination's message.
        reason: String,
    },
    /// A newer run of the pipeline has taken the destination over: this run must stop.
    #[error("pipeline {pipeline} is now run by another process (run {newer} replaced {ours})")]
    Fenced {
        /// The pipeline.
        pipeline: PipelineId,
        /// This run.
        ours: u64,
        /// The run that replaced it.
        newer: u64,
    },
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl DestinationError {
    /// Whether trying again later may succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Connect { .. } | Self::Lost { .. })
    }
}

/// The last source transaction a pipeline applied, kept on the destination in the same
/// transaction as its changes: a restart resumes after it, so nothing is applied twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Where its commit record starts on the source.
    pub commit_lsn: Lsn,
    /// Where its commit record ends: the slot is confirmed up to here.
    pub end_lsn: Lsn,
    /// When it committed on the source.
    pub commit_time: DateTime<Utc>,
}

/// A table's copy, as the destination keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSync {
    /// The source table.
    pub table: TableName,
    /// The consistent point of the snapshot it was copied from: its changes apply from the
    /// transactions that commit at or after it.
    pub synced_at: Lsn,
    /// Rows copied.
    pub rows: u64,
}

/// What the destination keeps of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationState {
    /// The slot whose stream the pipeline applies (a new slot means everything was copied
    /// again).
    pub slot: String,
    /// The last applied transaction; `None` before the first.
    pub checkpoint: Option<Checkpoint>,
    /// The tables copied, with the snapshot each was copied from.
    pub tables: Vec<TableSync>,
}

/// A table being copied into the destination, inside a transaction of its own that also
/// empties the table first: until [`TableCopy::finish`], nothing of it is visible, and a copy
/// that fails leaves the table as it was.
#[async_trait]
pub trait TableCopy: CopySink {
    /// Commits the copy with its [`TableSync`] record (snapshot `synced_at`); returns the rows
    /// copied.
    ///
    /// # Errors
    ///
    /// `Lost`, `Rejected`, `Fenced`, `Unknown`.
    async fn finish(self: Box<Self>, synced_at: Lsn) -> Result<u64, DestinationError>;
}

/// One run of a pipeline on its destination. Changes accumulate in one destination
/// transaction, committed with the checkpoint by [`DestinationSession::commit`].
///
/// A commit may still be under way when `commit` returns, so that the caller gathers the next
/// batch while the destination commits this one: [`DestinationSession::committed`] says when
/// it is done, and only then may the source be told. Every other call waits for a commit under
/// way before it writes anything (preparing what it can meanwhile) and fails with its error if
/// it failed, so nothing is ever written after a commit that did not happen.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DestinationSession: Send + Sync {
    /// What the destination keeps of the pipeline; `None` when it has never run there.
    ///
    /// # Errors
    ///
    /// `Lost`, `Unknown`.
    async fn state(&mut self) -> Result<Option<DestinationState>, DestinationError>;

    /// Starts over with slot `slot`: forgets the checkpoint and every table copy (the tables
    /// themselves are emptied by their next copy).
    ///
    /// # Errors
    ///
    /// `Lost`, `Fenced`, `Unknown`.
    async fn reset(&mut self, slot: &str) -> Result<(), DestinationError>;

    /// Makes the destination ready for `table`: creates its schema and table when missing
    /// (matching column types, the same key), adds the columns the source has and the table
    /// lacks; from then on the table's changes are written with this layout.
    ///
    /// # Errors
    ///
    /// `Incompatible` when an existing table cannot take the rows (a column of another type,
    /// another key, a NOT NULL column the source does not send), `Lost`, `Rejected`, `Unknown`.
    async fn prepare_table(&mut self, table: &TableSchema) -> Result<(), DestinationError>;

    /// Starts copying `table` (prepared first) on a connection of its own, so that several
    /// tables copy at once.
    ///
    /// # Errors
    ///
    /// `Connect`, `Lost`, `Fenced`, `Unknown`.
    async fn copy_table(&self, table: &TableSchema)
        -> Result<Box<dyn TableCopy>, DestinationError>;

    /// Writes `changes` (in source order; every table prepared) into the open destination
    /// transaction, beginning one if none is open. Its statements may still be running when it
    /// returns: their errors then come from the next call.
    ///
    /// # Errors
    ///
    /// `Rejected` (a constraint), `Lost`, `Fenced`, `Unknown`. After an error the open
    /// transaction is rolled back: nothing since the last commit is kept.
    async fn apply(&mut self, changes: &[Change]) -> Result<(), DestinationError>;

    /// Commits the open transaction with `checkpoint`, or records the checkpoint alone when
    /// no change is pending. The commit may still be under way when this returns (see
    /// [`DestinationSession::committed`]); its errors may come from the next call instead.
    ///
    /// # Errors
    ///
    /// `Lost` (then whether it committed is unknown: the checkpoint read at the next start
    /// says), `Fenced`, `Rejected`, `Unknown`.
    async fn commit(&mut self, checkpoint: Checkpoint) -> Result<(), DestinationError>;

    /// Waits until the last [`DestinationSession::commit`] is done on the destination; returns
    /// at once when none is under way (the next call then reports what `apply` sent, if it
    /// failed). Cancel-safe: dropped before it finishes, it loses nothing, and the next call
    /// waits again.
    ///
    /// # Errors
    ///
    /// What the commit failed with (as [`DestinationSession::commit`]); nothing of it was
    /// committed, except after `Lost`, when the checkpoint read at the next start says.
    async fn committed(&mut self) -> Result<(), DestinationError>;
}

/// The destinations of one type (or a router to the writer of each type).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DestinationWriter: Send + Sync {
    /// Opens run `epoch` of `pipeline` on `destination`. Every write of a run with a lower
    /// epoch is refused from then on (`Fenced`), so that a process which lost the pipeline to
    /// another cannot write after it.
    ///
    /// # Errors
    ///
    /// `Connect`, `Fenced` (a newer run exists), `Rejected` (no privilege to create Rosetta's
    /// bookkeeping), `Unknown`.
    async fn open(
        &self,
        destination: &Destination,
        pipeline: PipelineId,
        epoch: u64,
    ) -> Result<Box<dyn DestinationSession>, DestinationError>;

    /// Checks now whether this process can sign in to `destination` and write there, one
    /// [`DiagnosticCheck`] per step (the first failed step ends the list). Never fails: what
    /// could not be done is a failed check whose detail says why (never a secret). Creates at
    /// most the destination's schema; records nothing else.
    async fn check(&self, destination: &Destination) -> Vec<DiagnosticCheck>;
}
