//! Fakes of the data plane's ports for the replicator's tests: a scripted stream, a destination
//! session that records what it is asked, a snapshot that copies canned rows. mockall cannot
//! script a stream that waits, nor a sink argument; these can, and tell what happened.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rosetta_domain::ports::{
    ChangeStream, Checkpoint, CopyError, CopySink, DestinationError, DestinationSession,
    DestinationState, ReplicationError, Snapshot, TableCopy, TableSync,
};
use rosetta_domain::replication::{
    Change, Column, Datum, Lsn, RelationId, ReplicaIdentity, Row, StreamEvent, TableName,
    TableSchema,
};

/// What a fake saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// `apply` with these changes.
    Applied(Vec<Change>),
    /// `commit` with this end position.
    Committed(Lsn),
    /// `confirm` of this position.
    Confirmed(Lsn),
    /// `prepare_table` of this table, with this many columns.
    Prepared(TableName, usize),
    /// `reset` to this slot.
    Reset(String),
    /// A table copy finished with this sync point and these rows.
    Copied(TableName, Lsn, u64),
}

/// The journal several fakes write to, to tell the order of what happened across them.
pub type Journal = Arc<Mutex<Vec<Seen>>>;

pub fn journal() -> Journal {
    Arc::new(Mutex::new(Vec::new()))
}

pub fn seen(journal: &Journal) -> Vec<Seen> {
    journal.lock().unwrap().clone()
}

/// What the stream gives: an event now, or nothing for ever (the caller's timers run).
pub enum Next {
    Event(StreamEvent),
    Fail(ReplicationError),
}

/// A stream that plays `script`, then waits for ever.
pub struct FakeStream {
    pub script: VecDeque<Next>,
    pub journal: Journal,
    pub server_end: Lsn,
}

impl FakeStream {
    pub fn new(journal: &Journal, script: Vec<Next>) -> Self {
        Self {
            script: script.into(),
            journal: journal.clone(),
            server_end: Lsn::new(10_000),
        }
    }
}

#[async_trait]
impl ChangeStream for FakeStream {
    async fn next(&mut self) -> Result<StreamEvent, ReplicationError> {
        match self.script.pop_front() {
            Some(Next::Event(event)) => Ok(event),
            Some(Next::Fail(error)) => Err(error),
            None => std::future::pending().await,
        }
    }

    fn confirm(&mut self, flushed: Lsn) {
        self.journal.lock().unwrap().push(Seen::Confirmed(flushed));
    }

    fn server_wal_end(&self) -> Lsn {
        self.server_end
    }

    async fn close(&mut self) {}
}

/// A destination session that records everything. A commit takes `commit_takes` (paused
/// time) to be done, and fails then with `refuse_commit`; the calls after a commit wait for it,
/// as the port says (`apply` is recorded when it is called, before it waits).
pub struct FakeSession {
    pub journal: Journal,
    pub state: Option<DestinationState>,
    pub commit_takes: Duration,
    pub refuse_commit: Option<DestinationError>,
    /// The commit under way, and when it is done.
    under_way: Option<(Checkpoint, tokio::time::Instant)>,
}

impl FakeSession {
    pub fn new(journal: &Journal, state: Option<DestinationState>) -> Self {
        Self {
            journal: journal.clone(),
            state,
            commit_takes: Duration::ZERO,
            refuse_commit: None,
            under_way: None,
        }
    }

    /// Waits for the commit under way, as the port says every call does.
    async fn settle(&mut self) -> Result<(), DestinationError> {
        if let Some((checkpoint, done_at)) = self.under_way {
            tokio::time::sleep_until(done_at).await;
            self.under_way = None;
            if let Some(error) = self.refuse_commit.take() {
                return Err(error);
            }
            if let Some(state) = &mut self.state {
                state.checkpoint = Some(checkpoint);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl DestinationSession for FakeSession {
    async fn state(&mut self) -> Result<Option<DestinationState>, DestinationError> {
        self.settle().await?;
        Ok(self.state.clone())
    }

    async fn reset(&mut self, slot: &str) -> Result<(), DestinationError> {
        self.settle().await?;
        self.journal
            .lock()
            .unwrap()
            .push(Seen::Reset(slot.to_owned()));
        self.state = Some(DestinationState {
            slot: slot.to_owned(),
            checkpoint: None,
            tables: Vec::new(),
        });
        Ok(())
    }

    async fn prepare_table(&mut self, table: &TableSchema) -> Result<(), DestinationError> {
        self.settle().await?;
        self.journal
            .lock()
            .unwrap()
            .push(Seen::Prepared(table.name.clone(), table.columns.len()));
        Ok(())
    }

    async fn copy_table(
        &self,
        table: &TableSchema,
    ) -> Result<Box<dyn TableCopy>, DestinationError> {
        Ok(Box::new(FakeCopy {
            journal: self.journal.clone(),
            table: table.name.clone(),
            rows: 0,
        }))
    }

    async fn apply(&mut self, changes: &[Change]) -> Result<(), DestinationError> {
        self.journal
            .lock()
            .unwrap()
            .push(Seen::Applied(changes.to_vec()));
        self.settle().await
    }

    async fn commit(&mut self, checkpoint: Checkpoint) -> Result<(), DestinationError> {
        self.journal
            .lock()
            .unwrap()
            .push(Seen::Committed(checkpoint.end_lsn));
        self.settle().await?;
        self.under_way = Some((checkpoint, tokio::time::Instant::now() + self.commit_takes));
        Ok(())
    }

    async fn committed(&mut self) -> Result<(), DestinationError> {
        self.settle().await
    }
}

/// A table copy that counts the lines it is given.
pub struct FakeCopy {
    journal: Journal,
    table: TableName,
    rows: u64,
}

#[async_trait]
impl CopySink for FakeCopy {
    async fn write(&mut self, rows: Bytes) -> Result<(), DestinationError> {
        self.rows += rows.iter().filter(|b| **b == b'\n').count() as u64;
        Ok(())
    }
}

#[async_trait]
impl TableCopy for FakeCopy {
    async fn finish(self: Box<Self>, synced_at: Lsn) -> Result<u64, DestinationError> {
        self.journal
            .lock()
            .unwrap()
            .push(Seen::Copied(self.table.clone(), synced_at, self.rows));
        Ok(self.rows)
    }
}

/// A snapshot at `point` whose every table holds `rows` rows.
pub struct FakeSnapshot {
    pub point: Lsn,
    pub rows: u64,
}

#[async_trait]
impl Snapshot for FakeSnapshot {
    fn consistent_point(&self) -> Lsn {
        self.point
    }

    async fn copy_table(
        &self,
        _table: &TableSchema,
        into: &mut dyn CopySink,
    ) -> Result<u64, CopyError> {
        for row in 0..self.rows {
            into.write(Bytes::from(format!("{row}\tx\n"))).await?;
        }
        Ok(self.rows)
    }

    async fn close(&self) {}
}

/// Table `oid` named `public.t<oid>`, with a key `id` and a column `v`.
pub fn table(oid: u32) -> TableSchema {
    let column = |name: &str, key: bool| Column {
        name: name.to_owned(),
        type_oid: 23,
        type_modifier: -1,
        type_name: "integer".to_owned(),
        nullable: !key,
        key,
    };
    TableSchema {
        id: RelationId::new(oid),
        name: TableName::new("public", format!("t{oid}")),
        replica_identity: ReplicaIdentity::Default,
        columns: vec![column("id", true), column("v", false)],
    }
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

pub fn begin(final_lsn: u64) -> Next {
    Next::Event(StreamEvent::Begin {
        final_lsn: Lsn::new(final_lsn),
        commit_time: at(0),
        xid: 1,
    })
}

pub fn commit(commit_lsn: u64, end_lsn: u64) -> Next {
    Next::Event(StreamEvent::Commit {
        commit_lsn: Lsn::new(commit_lsn),
        end_lsn: Lsn::new(end_lsn),
        commit_time: at(0),
    })
}

pub fn insert_change(oid: u32, id: u32) -> Change {
    Change::Insert {
        relation: RelationId::new(oid),
        new: Row(vec![Datum::Text(Bytes::from(id.to_string())), Datum::Null]),
    }
}

pub fn insert(oid: u32, id: u32) -> Next {
    Next::Event(StreamEvent::Change(insert_change(oid, id)))
}

pub fn keepalive(wal_end: u64) -> Next {
    Next::Event(StreamEvent::Keepalive {
        wal_end: Lsn::new(wal_end),
    })
}

pub fn synced(oid: u32, at: u64) -> TableSync {
    TableSync {
        table: table(oid).name,
        synced_at: Lsn::new(at),
        rows: 0,
    }
}
