//! Applying a slot's stream to the destination: source transactions in commit order, gathered
//! into batches (rows, bytes, time), each batch committed on the destination together with its
//! checkpoint, and the slot confirmed only up to what the destination committed.
//!
//! - A source transaction is applied whole or not at all: a batch commits only at a source
//!   commit. A transaction larger than a batch is written into the open destination transaction
//!   in pieces (so memory holds one batch), committed at its source commit.
//! - After a restart the stream starts at the checkpoint; a transaction that commits before the
//!   checkpoint's end was applied already and is skipped.
//! - A table copied from a later snapshot than the slot's (one added to the publication) takes
//!   only the transactions that commit at or after its snapshot.
//! - A batch's commit is sent, and the next batch is gathered (and the destination's writer
//!   prepares it) while the destination commits: the slot is confirmed once the destination
//!   says the commit is done, never before. At most one commit is under way.
//! - An idle stream (nothing to apply, nothing waiting, no commit under way) confirms the
//!   server's keepalive position, so that the slot lets the source release its WAL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rosetta_domain::ports::{ChangeStream, Checkpoint, DestinationSession, ReplicationSource};
use rosetta_domain::replication::{Change, Lsn, Relation, RelationId, StreamEvent, TableSchema};
use rosetta_domain::Source;
use tokio::time::Instant;

use super::failure::RunError;
use super::progress::Reporter;
use super::ReplicatorSettings;

/// How often the lag is reported while nothing else happens.
const LAG_EVERY: Duration = Duration::from_secs(1);

/// Why applying stopped without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stopped {
    /// A table the run has not copied joined the publication: the run starts over to copy it
    /// (everything received before was committed).
    NewTable,
}

/// The tables a run applies: their layout, and the position from which each takes changes.
pub(super) struct Tables {
    /// The layout of every table the destination is prepared for, by relation.
    pub schemas: HashMap<RelationId, TableSchema>,
    /// The consistent point of the snapshot each table was copied from.
    pub synced_at: HashMap<RelationId, Lsn>,
}

/// The state of one apply loop.
pub(super) struct Applier<'a> {
    pub settings: ReplicatorSettings,
    pub source: &'a Source,
    pub replication: Arc<dyn ReplicationSource>,
    pub session: &'a mut dyn DestinationSession,
    pub stream: &'a mut dyn ChangeStream,
    pub reporter: &'a mut Reporter,
    pub tables: Tables,
    /// The last transaction on the destination.
    pub checkpoint: Option<Checkpoint>,
    batch: Batch,
    /// The batch whose commit was sent and is not known to be done.
    sent: Option<Sent>,
}

/// A batch whose commit is under way on the destination.
#[derive(Clone, Copy)]
struct Sent {
    checkpoint: Checkpoint,
    /// Its changes.
    changes: u64,
    /// When its commit was sent.
    at: Instant,
    /// How long it took to gather, and to write (for the batch's debug line).
    gathered: Duration,
    written: Duration,
}

/// What has been received and not yet committed on the destination.
#[derive(Default)]
struct Batch {
    /// Changes not yet written to the destination.
    changes: Vec<Change>,
    /// Their bytes.
    bytes: usize,
    /// How many of `changes` belong to source transactions that have committed.
    committed_len: usize,
    /// The last committed source transaction among them (or written in pieces).
    committed: Option<Checkpoint>,
    /// When the oldest committed transaction waiting committed on the source.
    waiting_since: Option<DateTime<Utc>>,
    /// When the committed transactions waiting must be committed on the destination.
    flush_at: Option<Instant>,
    /// Changes written to the open destination transaction and not committed yet.
    written: u64,
    /// Their bytes.
    written_bytes: usize,
    /// Whether the open destination transaction holds part of an unfinished source
    /// transaction (then nothing can be committed before that transaction's end).
    holds_partial: bool,
    /// The current source transaction: its commit position, and whether it is skipped.
    current: Option<(Lsn, bool)>,
    /// Whether a table not copied by this run showed up.
    new_table: bool,
    /// When the first change of the batch arrived, and how long writing it has taken so far
    /// (for the batch's debug line).
    started: Option<Instant>,
    writing: Duration,
}

impl<'a> Applier<'a> {
    /// An apply loop from `checkpoint`.
    #[allow(
        clippy::too_many_arguments,
        reason = "the loop's parts, named at the one call"
    )]
    pub fn new(
        settings: ReplicatorSettings,
        source: &'a Source,
        replication: Arc<dyn ReplicationSource>,
        session: &'a mut dyn DestinationSession,
        stream: &'a mut dyn ChangeStream,
        reporter: &'a mut Reporter,
        tables: Tables,
        checkpoint: Option<Checkpoint>,
    ) -> Self {
        Self {
            settings,
            source,
            replication,
            session,
            stream,
            reporter,
            tables,
            checkpoint,
            batch: Batch::default(),
            sent: None,
        }
    }

    /// Applies the stream until it fails, or until the run must start over.
    ///
    /// # Errors
    ///
    /// What the source, the stream or the destination fails with; nothing is confirmed past
    /// what the destination committed.
    pub async fn run(mut self) -> Result<Stopped, RunError> {
        let mut lag = tokio::time::interval(LAG_EVERY);
        lag.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let flush_at = self.batch.flush_at;
            tokio::select! {
                event = self.stream.next() => {
                    if let Some(stopped) = self.event(event?).await? {
                        return Ok(stopped);
                    }
                }
                () = sleep_until(flush_at), if flush_at.is_some() && !self.batch.holds_partial => {
                    self.commit().await?;
                    if self.batch.new_table && self.batch.current.is_none() {
                        self.settle().await?;
                        return Ok(Stopped::NewTable);
                    }
                }
                done = self.session.committed(), if self.sent.is_some() => {
                    done?;
                    if let Some(sent) = self.sent.take() {
                        self.confirm(sent).await;
                    }
                }
                _ = lag.tick() => {
                    let confirmed = self.confirmed();
                    let server_end = self.stream.server_wal_end();
                    let waiting = self.batch.waiting_since;
                    self.reporter.caught_up_to(confirmed, server_end, waiting).await;
                }
            }
        }
    }

    /// Up to where the slot is confirmed.
    fn confirmed(&self) -> Lsn {
        self.reporter
            .progress()
            .confirmed_lsn
            .max(self.checkpoint.map(|c| c.end_lsn))
            .unwrap_or(Lsn::ZERO)
    }

    async fn event(&mut self, event: StreamEvent) -> Result<Option<Stopped>, RunError> {
        match event {
            StreamEvent::Begin { final_lsn, .. } => {
                // Committed before the checkpoint's end: on the destination already.
                let applied = self.checkpoint.is_some_and(|c| final_lsn < c.end_lsn);
                self.batch.current = Some((final_lsn, applied));
            }
            StreamEvent::Relation(relation) => self.relation(relation).await?,
            StreamEvent::Change(change) => {
                let Some((commit_lsn, skipped)) = self.batch.current else {
                    return Err(RunError::Permanent(
                        "source: a change arrived outside a transaction".to_owned(),
                    ));
                };
                if skipped {
                    return Ok(None);
                }
                if let Some(change) = self.applicable(change, commit_lsn) {
                    self.batch.started.get_or_insert_with(Instant::now);
                    self.batch.bytes += change.size();
                    self.batch.changes.push(change);
                    if self.memory_full() {
                        // A transaction larger than a batch: written in pieces, committed at
                        // its end.
                        self.write_pending().await?;
                    }
                }
            }
            StreamEvent::Commit {
                commit_lsn,
                end_lsn,
                commit_time,
            } => {
                let skipped = self.batch.current.take().is_none_or(|(_, skipped)| skipped);
                if skipped {
                    return Ok(None);
                }
                self.batch.committed = Some(Checkpoint {
                    commit_lsn,
                    end_lsn,
                    commit_time,
                });
                self.batch.committed_len = self.batch.changes.len();
                self.batch.holds_partial = false;
                self.batch.waiting_since.get_or_insert(commit_time);
                if self.batch_full() || self.batch.new_table {
                    self.commit().await?;
                    if self.batch.new_table {
                        self.settle().await?;
                        return Ok(Some(Stopped::NewTable));
                    }
                } else if self.batch.flush_at.is_none() {
                    self.batch.flush_at = Some(Instant::now() + self.settings.batch_delay);
                }
            }
            StreamEvent::Keepalive { wal_end } => {
                let idle = self.batch.current.is_none()
                    && self.batch.committed.is_none()
                    && self.batch.changes.is_empty()
                    && self.batch.written == 0
                    && self.sent.is_none();
                if idle && wal_end > self.confirmed() {
                    self.stream.confirm(wal_end);
                    let server_end = self.stream.server_wal_end().max(wal_end);
                    self.reporter.caught_up_to(wal_end, server_end, None).await;
                }
            }
        }
        Ok(None)
    }

    /// Whether the changes held in memory make a batch: then they are written to the
    /// destination, even inside a source transaction.
    fn memory_full(&self) -> bool {
        self.batch.changes.len() >= self.settings.batch_rows
            || self.batch.bytes >= self.settings.batch_bytes
    }

    /// Whether everything since the last destination commit (written or held) makes a batch:
    /// then a source commit commits it without waiting.
    fn batch_full(&self) -> bool {
        let rows = self.batch.written as usize + self.batch.changes.len();
        rows >= self.settings.batch_rows
            || self.batch.written_bytes + self.batch.bytes >= self.settings.batch_bytes
    }

    /// `change`, reduced to the tables it applies to in a transaction committing at
    /// `commit_lsn`; `None` when it applies to none.
    fn applicable(&mut self, change: Change, commit_lsn: Lsn) -> Option<Change> {
        let takes = |tables: &Tables, relation: &RelationId| {
            tables
                .synced_at
                .get(relation)
                .is_some_and(|synced| commit_lsn >= *synced)
        };
        match change {
            Change::Truncate {
                relations,
                restart_identity,
            } => {
                let relations: Vec<_> = relations
                    .into_iter()
                    .filter(|r| takes(&self.tables, r))
                    .collect();
                (!relations.is_empty()).then_some(Change::Truncate {
                    relations,
                    restart_identity,
                })
            }
            Change::Insert { relation, .. }
            | Change::Update { relation, .. }
            | Change::Delete { relation, .. } => {
                if !self.tables.schemas.contains_key(&relation) {
                    // A table this run has not copied: it is copied by the next run, from a
                    // snapshot that holds this change.
                    self.batch.new_table = true;
                    return None;
                }
                takes(&self.tables, &relation).then_some(change)
            }
        }
    }

    /// A table's layout: when it differs from the one the destination is prepared for, the
    /// destination is prepared again (a column added on the source is added there) before the
    /// changes that follow.
    async fn relation(&mut self, relation: Relation) -> Result<(), RunError> {
        let Some(known) = self.tables.schemas.get(&relation.id) else {
            // Not copied by this run (a table added to the publication): see `applicable`.
            return Ok(());
        };
        let same = known.columns.len() == relation.columns.len()
            && known.columns.iter().zip(&relation.columns).all(|(k, r)| {
                k.name == r.name && k.type_oid == r.type_oid && k.type_modifier == r.type_modifier
            });
        if same {
            return Ok(());
        }
        // The changes so far go to the destination with the old layout first.
        self.write_pending().await?;
        self.settle().await?;
        match self.replication.describe(self.source, relation.id).await? {
            Some(schema) => {
                tracing::info!(table = %schema.name, "the table changed on the source; preparing the destination again");
                self.session.prepare_table(&schema).await?;
                self.tables.schemas.insert(relation.id, schema);
            }
            None => {
                // No longer published: its changes stop coming.
                self.tables.schemas.remove(&relation.id);
                self.tables.synced_at.remove(&relation.id);
            }
        }
        Ok(())
    }

    /// Writes every change received so far into the open destination transaction. When some
    /// belong to the source transaction still open, the destination transaction cannot commit
    /// before that one's end.
    async fn write_pending(&mut self) -> Result<(), RunError> {
        if self.batch.changes.is_empty() {
            return Ok(());
        }
        let partial =
            self.batch.current.is_some() && self.batch.changes.len() > self.batch.committed_len;
        let at = Instant::now();
        self.session.apply(&self.batch.changes).await?;
        self.batch.writing += at.elapsed();
        // The session waited for the commit under way before writing.
        self.settle().await?;
        self.batch.holds_partial |= partial;
        self.batch.written += self.batch.changes.len() as u64;
        self.batch.written_bytes += self.batch.bytes;
        self.batch.changes.clear();
        self.batch.committed_len = 0;
        self.batch.bytes = 0;
        Ok(())
    }

    /// Sends the commit of the committed source transactions with their checkpoint (the slot is
    /// confirmed once it is done: see [`Self::settle`]). The changes of a source transaction
    /// still open stay for the next batch.
    async fn commit(&mut self) -> Result<(), RunError> {
        let Some(checkpoint) = self.batch.committed.take() else {
            self.batch.flush_at = None;
            return Ok(());
        };
        let open: Vec<Change> = self.batch.changes.split_off(self.batch.committed_len);
        let full_at = Instant::now();
        if !self.batch.changes.is_empty() {
            self.session.apply(&self.batch.changes).await?;
            self.batch.written += self.batch.changes.len() as u64;
        }
        let applied_at = Instant::now();
        // The session waited for the previous batch's commit before writing this one.
        self.settle().await?;
        self.session.commit(checkpoint).await?;
        // Where a batch's time goes: gathering it, writing it (which includes waiting for the
        // previous batch's commit), committing it.
        let written = std::mem::take(&mut self.batch.writing) + applied_at.duration_since(full_at);
        let since = self.batch.started.take().unwrap_or(full_at);
        self.sent = Some(Sent {
            checkpoint,
            changes: std::mem::take(&mut self.batch.written),
            at: Instant::now(),
            gathered: applied_at.duration_since(since).saturating_sub(written),
            written,
        });
        self.batch.written_bytes = 0;
        self.batch.bytes = open.iter().map(Change::size).sum();
        self.batch.changes = open;
        self.batch.committed_len = 0;
        self.batch.waiting_since = None;
        self.batch.flush_at = None;
        Ok(())
    }

    /// Waits for the commit under way, if any, then confirms it to the slot.
    async fn settle(&mut self) -> Result<(), RunError> {
        if self.sent.is_some() {
            self.session.committed().await?;
            if let Some(sent) = self.sent.take() {
                self.confirm(sent).await;
            }
        }
        Ok(())
    }

    /// `sent` is committed on the destination: the slot may release it.
    async fn confirm(&mut self, sent: Sent) {
        let checkpoint = sent.checkpoint;
        tracing::debug!(
            changes = sent.changes,
            gathered_ms = sent.gathered.as_millis(),
            written_ms = sent.written.as_millis(),
            committed_ms = sent.at.elapsed().as_millis(),
            "batch committed"
        );
        self.stream.confirm(checkpoint.end_lsn);
        self.checkpoint = Some(checkpoint);
        let server_end = self.stream.server_wal_end();
        self.reporter
            .applied(
                sent.changes,
                checkpoint.end_lsn,
                Some(checkpoint.commit_time),
                server_end.max(checkpoint.end_lsn),
            )
            .await;
    }
}

/// Waits until `at`; forever when there is no `at` (the branch is disabled then anyway).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use rosetta_domain::ports::{
        DestinationError, DestinationState, MockPipelineRuntime, MockReplicationSource,
        ReplicationError,
    };
    use rosetta_domain::replication::{
        Change, Lsn, Relation, RelationColumn, RelationId, StreamEvent, TableSchema,
    };
    use rosetta_domain::PipelineId;

    use super::super::progress::Reporter;
    use super::super::testing::*;
    use super::*;
    use crate::fixtures::source;

    fn runtime() -> Arc<MockPipelineRuntime> {
        let mut runtime = MockPipelineRuntime::new();
        runtime.expect_progress().returning(|_| Ok(None));
        runtime.expect_report().returning(|_, _| Ok(()));
        runtime.expect_sample().returning(|_, _| Ok(()));
        runtime.expect_report_tables().returning(|_, _| Ok(()));
        Arc::new(runtime)
    }

    fn settings(batch_rows: usize) -> ReplicatorSettings {
        ReplicatorSettings {
            batch_rows,
            batch_delay: Duration::from_millis(200),
            ..ReplicatorSettings::default()
        }
    }

    fn tables(synced: &[(u32, u64)]) -> Tables {
        Tables {
            schemas: synced
                .iter()
                .map(|(oid, _)| (RelationId::new(*oid), table(*oid)))
                .collect(),
            synced_at: synced
                .iter()
                .map(|(oid, at)| (RelationId::new(*oid), Lsn::new(*at)))
                .collect(),
        }
    }

    /// Plays `script` through an apply loop from `checkpoint` until it stops or `for_` passes
    /// (paused time), and returns what the destination and the slot were told.
    async fn play(
        script: Vec<Next>,
        settings: ReplicatorSettings,
        tables: Tables,
        checkpoint: Option<u64>,
        replication: MockReplicationSource,
        for_: Duration,
    ) -> (Vec<Seen>, Option<Result<Stopped, RunError>>) {
        play_with(
            script,
            settings,
            tables,
            checkpoint,
            replication,
            for_,
            |_| {},
        )
        .await
    }

    /// [`play`] with a destination session set up by `setup`.
    async fn play_with(
        script: Vec<Next>,
        settings: ReplicatorSettings,
        tables: Tables,
        checkpoint: Option<u64>,
        replication: MockReplicationSource,
        for_: Duration,
        setup: impl FnOnce(&mut FakeSession),
    ) -> (Vec<Seen>, Option<Result<Stopped, RunError>>) {
        let journal = journal();
        let mut stream = FakeStream::new(&journal, script);
        let mut session = FakeSession::new(
            &journal,
            Some(DestinationState {
                slot: "s".to_owned(),
                checkpoint: None,
                tables: Vec::new(),
            }),
        );
        setup(&mut session);
        let mut reporter =
            Reporter::resume(runtime(), PipelineId::new(1), "me", Duration::from_secs(60)).await;
        let source = source(1);
        let checkpoint = checkpoint.map(|end| Checkpoint {
            commit_lsn: Lsn::new(end - 1),
            end_lsn: Lsn::new(end),
            commit_time: at(0),
        });
        let applier = Applier::new(
            settings,
            &source,
            Arc::new(replication),
            &mut session,
            &mut stream,
            &mut reporter,
            tables,
            checkpoint,
        );
        let outcome = tokio::time::timeout(for_, applier.run()).await.ok();
        (seen(&journal), outcome)
    }

    /// [`play`] for a second, with batches of 1,000 over table 1 (copied at 0), from no
    /// checkpoint.
    async fn play_plainly(script: Vec<Next>) -> (Vec<Seen>, Option<Result<Stopped, RunError>>) {
        play(
            script,
            settings(1000),
            tables(&[(1, 0)]),
            None,
            MockReplicationSource::new(),
            Duration::from_secs(1),
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn small_transactions_are_committed_together_after_the_batch_delay() {
        let script = vec![
            begin(100),
            insert(1, 1),
            commit(100, 110),
            begin(120),
            insert(1, 2),
            insert(1, 3),
            commit(120, 130),
        ];
        let (seen, _) = play_plainly(script).await;
        assert_eq!(
            seen,
            [
                Seen::Applied(vec![
                    insert_change(1, 1),
                    insert_change(1, 2),
                    insert_change(1, 3)
                ]),
                Seen::Committed(Lsn::new(130)),
                Seen::Confirmed(Lsn::new(130)),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_commits_at_its_transactions_end_without_waiting() {
        let script = vec![begin(100), insert(1, 1), insert(1, 2), commit(100, 110)];
        let journal_before_delay = Duration::from_millis(1);
        let (seen, _) = play(
            script,
            settings(2),
            tables(&[(1, 0)]),
            None,
            MockReplicationSource::new(),
            journal_before_delay,
        )
        .await;
        assert_eq!(
            seen,
            [
                Seen::Applied(vec![insert_change(1, 1), insert_change(1, 2)]),
                Seen::Committed(Lsn::new(110)),
                Seen::Confirmed(Lsn::new(110)),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_transaction_larger_than_a_batch_is_written_in_pieces_and_committed_once() {
        let mut script = vec![begin(100)];
        script.extend((1..=5).map(|id| insert(1, id)));
        let (seen, _) = play(
            script,
            settings(2),
            tables(&[(1, 0)]),
            None,
            MockReplicationSource::new(),
            Duration::from_secs(5),
        )
        .await;
        // The transaction has not committed on the source: nothing commits, whatever the time.
        assert_eq!(
            seen,
            [
                Seen::Applied(vec![insert_change(1, 1), insert_change(1, 2)]),
                Seen::Applied(vec![insert_change(1, 3), insert_change(1, 4)]),
            ]
        );

        let mut script = vec![begin(100)];
        script.extend((1..=5).map(|id| insert(1, id)));
        script.push(commit(100, 150));
        let (seen, _) = play(
            script,
            settings(2),
            tables(&[(1, 0)]),
            None,
            MockReplicationSource::new(),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(
            seen.last(),
            Some(&Seen::Confirmed(Lsn::new(150))),
            "{seen:?}"
        );
        assert_eq!(
            seen.iter()
                .filter(|s| matches!(s, Seen::Committed(_)))
                .count(),
            1
        );
        assert!(seen.contains(&Seen::Applied(vec![insert_change(1, 5)])));
    }

    #[tokio::test(start_paused = true)]
    async fn a_transaction_still_open_waits_while_the_committed_ones_before_it_commit() {
        let script = vec![
            begin(100),
            insert(1, 1),
            commit(100, 110),
            begin(120),
            insert(1, 2),
        ];
        let (seen, _) = play_plainly(script).await;
        assert_eq!(
            seen,
            [
                Seen::Applied(vec![insert_change(1, 1)]),
                Seen::Committed(Lsn::new(110)),
                Seen::Confirmed(Lsn::new(110)),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn transactions_before_the_checkpoint_are_not_applied_again() {
        let script = vec![
            begin(90),
            insert(1, 1),
            commit(90, 100),
            begin(100),
            insert(1, 2),
            commit(100, 120),
        ];
        let (seen, _) = play(
            script,
            settings(1000),
            tables(&[(1, 0)]),
            Some(100),
            MockReplicationSource::new(),
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(
            seen,
            [
                Seen::Applied(vec![insert_change(1, 2)]),
                Seen::Committed(Lsn::new(120)),
                Seen::Confirmed(Lsn::new(120)),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_table_copied_later_takes_only_the_transactions_after_its_snapshot() {
        let truncate = |relations: Vec<u32>| {
            Next::Event(StreamEvent::Change(Change::Truncate {
                relations: relations.into_iter().map(RelationId::new).collect(),
                restart_identity: false,
            }))
        };
        let script = vec![
            begin(150),
            insert(1, 1),
            insert(2, 1),
            truncate(vec![1, 2]),
            commit(150, 160),
            begin(200),
            insert(2, 2),
            commit(200, 210),
        ];
        let (seen, _) = play(
            script,
            settings(1000),
            tables(&[(1, 0), (2, 200)]),
            None,
            MockReplicationSource::new(),
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(
            seen[0],
            Seen::Applied(vec![
                insert_change(1, 1),
                Change::Truncate {
                    relations: vec![RelationId::new(1)],
                    restart_identity: false
                },
                insert_change(2, 2),
            ])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_stream_confirms_the_servers_position_but_never_past_waiting_changes() {
        let script = vec![keepalive(500)];
        let (seen, _) = play(
            script,
            settings(1000),
            tables(&[(1, 0)]),
            Some(100),
            MockReplicationSource::new(),
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(seen, [Seen::Confirmed(Lsn::new(500))]);

        // A keepalive while a committed transaction waits for its batch confirms nothing.
        let script = vec![begin(600), insert(1, 1), commit(600, 610), keepalive(900)];
        let (seen, _) = play(
            script,
            settings(1000),
            tables(&[(1, 0)]),
            Some(100),
            MockReplicationSource::new(),
            Duration::from_millis(100),
        )
        .await;
        assert!(seen.is_empty(), "{seen:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_table_that_joins_the_publication_ends_the_run_after_its_transaction_commits() {
        let script = vec![
            begin(100),
            insert(1, 1),
            insert(7, 1),
            commit(100, 110),
            begin(120),
            insert(1, 2),
        ];
        let (seen, outcome) = play_plainly(script).await;
        assert_eq!(outcome, Some(Ok(Stopped::NewTable)));
        assert_eq!(
            seen,
            [
                Seen::Applied(vec![insert_change(1, 1)]),
                Seen::Committed(Lsn::new(110)),
                Seen::Confirmed(Lsn::new(110)),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_column_added_on_the_source_is_prepared_on_the_destination_before_its_rows() {
        let mut widened = table(1);
        widened.columns.push(rosetta_domain::replication::Column {
            name: "added".to_owned(),
            ..table(1).columns[1].clone()
        });
        let relation = Relation {
            id: RelationId::new(1),
            name: widened.name.clone(),
            replica_identity: widened.replica_identity,
            columns: widened
                .columns
                .iter()
                .map(|c| RelationColumn {
                    name: c.name.clone(),
                    type_oid: c.type_oid,
                    type_modifier: c.type_modifier,
                    key: c.key,
                })
                .collect(),
        };
        let mut replication = MockReplicationSource::new();
        let described: TableSchema = widened.clone();
        replication
            .expect_describe()
            .withf(|_, id| *id == RelationId::new(1))
            .times(1)
            .returning(move |_, _| Ok(Some(described.clone())));
        let script = vec![
            begin(100),
            insert(1, 1),
            Next::Event(StreamEvent::Relation(relation)),
            insert(1, 2),
            commit(100, 110),
        ];
        let (seen, _) = play(
            script,
            settings(1000),
            tables(&[(1, 0)]),
            None,
            replication,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(
            seen,
            [
                Seen::Applied(vec![insert_change(1, 1)]),
                Seen::Prepared(widened.name.clone(), 3),
                Seen::Applied(vec![insert_change(1, 2)]),
                Seen::Committed(Lsn::new(110)),
                Seen::Confirmed(Lsn::new(110)),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_stream_ends_the_loop_with_nothing_confirmed_past_the_destination() {
        let script = vec![
            begin(100),
            insert(1, 1),
            commit(100, 110),
            Next::Fail(ReplicationError::Lost {
                host: "db:5432".to_owned(),
                reason: "reset".to_owned(),
            }),
        ];
        let (seen, outcome) = play_plainly(script).await;
        assert!(
            matches!(outcome, Some(Err(RunError::Transient(_)))),
            "{outcome:?}"
        );
        assert!(seen.is_empty(), "{seen:?}");
    }

    /// Two full batches, each committing in 300 ms, played for `for_`.
    async fn play_slow_commits(for_: Duration) -> Vec<Seen> {
        let script = vec![
            begin(100),
            insert(1, 1),
            insert(1, 2),
            commit(100, 110),
            begin(120),
            insert(1, 3),
            insert(1, 4),
            commit(120, 130),
        ];
        let (seen, _) = play_with(
            script,
            settings(2),
            tables(&[(1, 0)]),
            None,
            MockReplicationSource::new(),
            for_,
            |session| session.commit_takes = Duration::from_millis(300),
        )
        .await;
        seen
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_is_confirmed_only_once_its_commit_is_done_while_the_next_one_is_gathered() {
        // The first commit is under way: the second batch is gathered and handed to the
        // destination, nothing is confirmed.
        assert_eq!(
            play_slow_commits(Duration::from_millis(100)).await,
            [
                Seen::Applied(vec![insert_change(1, 1), insert_change(1, 2)]),
                Seen::Committed(Lsn::new(110)),
                Seen::Applied(vec![insert_change(1, 3), insert_change(1, 4)]),
            ]
        );
        // Each batch is confirmed once its commit is done, in order.
        assert_eq!(
            play_slow_commits(Duration::from_millis(700)).await,
            [
                Seen::Applied(vec![insert_change(1, 1), insert_change(1, 2)]),
                Seen::Committed(Lsn::new(110)),
                Seen::Applied(vec![insert_change(1, 3), insert_change(1, 4)]),
                Seen::Confirmed(Lsn::new(110)),
                Seen::Committed(Lsn::new(130)),
                Seen::Confirmed(Lsn::new(130)),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_commit_that_fails_after_it_was_sent_confirms_nothing_not_even_a_keepalive() {
        let script = vec![
            begin(100),
            insert(1, 1),
            insert(1, 2),
            commit(100, 110),
            Next::Event(StreamEvent::Keepalive {
                wal_end: Lsn::new(500),
            }),
        ];
        let (seen, outcome) = play_with(
            script,
            settings(2),
            tables(&[(1, 0)]),
            None,
            MockReplicationSource::new(),
            Duration::from_secs(1),
            |session| {
                session.commit_takes = Duration::from_millis(50);
                session.refuse_commit = Some(DestinationError::Lost {
                    host: "dest:5432".to_owned(),
                    reason: "connection reset".to_owned(),
                });
            },
        )
        .await;
        assert!(
            matches!(outcome, Some(Err(RunError::Transient(_)))),
            "{outcome:?}"
        );
        assert_eq!(
            seen,
            [
                Seen::Applied(vec![insert_change(1, 1), insert_change(1, 2)]),
                Seen::Committed(Lsn::new(110)),
            ]
        );
    }
}
