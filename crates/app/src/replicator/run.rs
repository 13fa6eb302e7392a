//! One run of a pipeline, under one lease epoch: check the source, open the destination, copy
//! what needs copying, then apply the stream until it fails or the run must start over.

use std::collections::HashMap;

use rosetta_domain::ports::{DestinationSession, DestinationState};
use rosetta_domain::replication::{
    pipeline_slot_name, PipelinePhase, SourceFacts, TableName, TableSchema, TableState,
};
use rosetta_domain::{PipelineDetails, PipelineId, PipelineStatus};

use super::apply::{Applier, Stopped, Tables};
use super::copy::copy_tables;
use super::failure::RunError;
use super::progress::Reporter;
use super::ReplicatorSettings;
use crate::Rosetta;

/// Who runs, what, under which lease.
pub(super) struct RunContext {
    pub rosetta: Rosetta,
    pub settings: ReplicatorSettings,
    pub pipeline: PipelineId,
    pub epoch: u64,
}

/// Runs `pipeline` until its stream fails or a table joins its publication (then the caller
/// runs it again, which copies the table). Cancel-safe: dropping the future at any point loses
/// nothing, since nothing counts as applied before the destination commits it with its
/// checkpoint.
pub(super) async fn run(ctx: &RunContext, reporter: &mut Reporter) -> Result<Stopped, RunError> {
    let rosetta = &ctx.rosetta;
    reporter.phase(PipelinePhase::Starting).await;
    let details = rosetta
        .pipelines
        .get(ctx.pipeline)
        .await?
        .ok_or_else(|| RunError::Permanent("the pipeline no longer exists".to_owned()))?;
    let PipelineDetails {
        pipeline,
        source,
        destination,
        ..
    } = details;
    let slot = pipeline_slot_name(source.replication_id, pipeline.id);
    let facts = rosetta.replication.facts(&source, &slot).await?;
    let problems = facts.problems(
        source.publication_name.as_str(),
        &slot,
        source.pg_database.as_str(),
    );
    if !problems.is_empty() {
        return Err(RunError::Permanent(format!(
            "the source is not ready: {}",
            problems.join("; ")
        )));
    }
    let mut session = rosetta
        .writer
        .open(&destination, pipeline.id, ctx.epoch)
        .await?;
    let state = session.state().await?;
    let refresh = pipeline.status == PipelineStatus::Refresh;
    let fresh = refresh || state.as_ref().is_none_or(|state| state.slot != slot);
    if !fresh {
        check_slot(&facts, &slot)?;
    }
    for table in &facts.tables {
        session.prepare_table(table).await?;
    }
    reporter.keep_tables(
        &facts
            .tables
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>(),
    );

    let state = if fresh {
        initial_copy(
            ctx,
            &source,
            &slot,
            &facts,
            state.as_ref(),
            session.as_mut(),
            reporter,
        )
        .await?;
        if refresh {
            rosetta.finish_refresh(pipeline.id).await?;
        }
        session.state().await?
    } else {
        catch_up_tables(
            ctx,
            &source,
            &slot,
            &facts,
            state.as_ref(),
            session.as_ref(),
            reporter,
        )
        .await?;
        session.state().await?
    };
    let state = state.ok_or_else(|| {
        RunError::Permanent("the destination lost the pipeline's bookkeeping".to_owned())
    })?;

    let tables = tables_to_apply(&facts.tables, &state);
    for table in &facts.tables {
        if tables.synced_at.contains_key(&table.id) {
            reporter.table(&table.name, TableState::Streaming, None, None);
        }
    }
    reporter.report_tables().await;
    let start = state.checkpoint.map(|c| c.end_lsn).unwrap_or_default();
    let mut stream = rosetta.replication.stream(&source, &slot, start).await?;
    reporter.phase(PipelinePhase::Streaming).await;
    let outcome = Applier::new(
        ctx.settings,
        &source,
        rosetta.replication.clone(),
        session.as_mut(),
        stream.as_mut(),
        reporter,
        tables,
        state.checkpoint,
    )
    .run()
    .await;
    stream.close().await;
    outcome
}

/// The slot a resumed run streams from must still be there, and whole.
fn check_slot(facts: &SourceFacts, slot: &str) -> Result<(), RunError> {
    match &facts.slot {
        None => Err(RunError::Permanent(format!(
            "the replication slot {slot} is gone from the source (dropped outside Rosetta): \
             REFRESH the pipeline to copy everything again from a new slot"
        ))),
        Some(state) if state.is_lost() => Err(RunError::Permanent(format!(
            "the replication slot {slot} was invalidated by the source (wal_status = lost: it \
             retained more than max_slot_wal_keep_size): REFRESH the pipeline to copy everything \
             again from a new slot"
        ))),
        Some(_) => Ok(()),
    }
}

/// Copies every table from a new slot's snapshot: a first start, a refresh, or a new slot
/// (the source's replication id changed). The old slots go first.
async fn initial_copy(
    ctx: &RunContext,
    source: &rosetta_domain::Source,
    slot: &str,
    facts: &SourceFacts,
    state: Option<&DestinationState>,
    session: &mut dyn DestinationSession,
    reporter: &mut Reporter,
) -> Result<(), RunError> {
    let replication = &ctx.rosetta.replication;
    if facts.slot.is_some() {
        replication.drop_slot(source, slot).await?;
    }
    if let Some(old) = state.map(|s| s.slot.as_str()).filter(|old| *old != slot) {
        // Best effort: the old slot may be on another server by now.
        match replication.drop_slot(source, old).await {
            Ok(dropped) => {
                tracing::info!(slot = old, dropped, "dropped the pipeline's former slot")
            }
            Err(error) => {
                tracing::warn!(slot = old, error = %error, "cannot drop the pipeline's former slot")
            }
        }
    }
    session.reset(slot).await?;
    reporter.phase(PipelinePhase::Copying).await;
    reporter.copy_begins();
    let snapshot = replication.create_slot(source, slot, false).await?;
    let copied = copy_tables(
        snapshot.as_ref(),
        session,
        &facts.tables,
        ctx.settings.copy_concurrency,
        reporter,
    )
    .await;
    snapshot.close().await;
    reporter.copied(copied?);
    Ok(())
}

/// Copies the tables the publication has and the destination has not copied (added to the
/// publication, or left uncopied by a run that stopped midway), from a snapshot of a temporary
/// slot: their changes apply from that snapshot on.
async fn catch_up_tables(
    ctx: &RunContext,
    source: &rosetta_domain::Source,
    slot: &str,
    facts: &SourceFacts,
    state: Option<&DestinationState>,
    session: &dyn DestinationSession,
    reporter: &mut Reporter,
) -> Result<(), RunError> {
    let synced: Vec<&TableName> = state
        .map(|s| s.tables.iter().map(|t| &t.table).collect())
        .unwrap_or_default();
    let missing: Vec<TableSchema> = facts
        .tables
        .iter()
        .filter(|t| !synced.contains(&&t.name))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    tracing::info!(
        tables = missing.len(),
        "copying the tables the publication gained before streaming on"
    );
    reporter.phase(PipelinePhase::Copying).await;
    let snapshot = ctx
        .rosetta
        .replication
        .create_slot(source, &format!("{slot}_sync"), true)
        .await?;
    let copied = copy_tables(
        snapshot.as_ref(),
        session,
        &missing,
        ctx.settings.copy_concurrency,
        reporter,
    )
    .await;
    snapshot.close().await;
    reporter.copied(copied?);
    Ok(())
}

/// The tables the stream is applied to, each from the snapshot it was copied at.
fn tables_to_apply(published: &[TableSchema], state: &DestinationState) -> Tables {
    let synced: HashMap<&TableName, _> = state
        .tables
        .iter()
        .map(|t| (&t.table, t.synced_at))
        .collect();
    let mut tables = Tables {
        schemas: HashMap::new(),
        synced_at: HashMap::new(),
    };
    for table in published {
        if let Some(at) = synced.get(&table.name) {
            tables.synced_at.insert(table.id, *at);
            tables.schemas.insert(table.id, table.clone());
        }
    }
    tables
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use rosetta_domain::ports::{DestinationState, MockPipelineRuntime, ReplicationError};
    use rosetta_domain::replication::{Lsn, PublishedActions, SlotState, SourceFacts};
    use rosetta_domain::{MetadataChange, PipelineStatus, StatusChange};

    use super::super::testing::*;
    use super::*;
    use crate::fixtures::{pipeline_details, Mocks};

    const SLOT: &str = "rosetta_1_9";

    fn facts(tables: Vec<TableSchema>, slot: bool) -> SourceFacts {
        SourceFacts {
            server_version_num: 150_004,
            wal_level: "logical".to_owned(),
            can_replicate: true,
            max_replication_slots: 10,
            used_replication_slots: 1,
            publication_exists: true,
            publishes: PublishedActions {
                insert: true,
                update: true,
                delete: true,
                truncate: true,
            },
            tables,
            slot: slot.then(|| SlotState {
                name: SLOT.to_owned(),
                plugin: Some("pgoutput".to_owned()),
                database: Some("shop".to_owned()),
                active_pid: None,
                confirmed_flush: Some(Lsn::new(500)),
                wal_status: Some("reserved".to_owned()),
            }),
        }
    }

    struct Setup {
        mocks: Mocks,
        journal: Journal,
        /// Where the stream was asked to start.
        started_at: Arc<Mutex<Option<Lsn>>>,
        /// The slots created, with whether they were temporary.
        created: Arc<Mutex<Vec<(String, bool)>>>,
    }

    /// Pipeline 9 in `status`; the source has `facts`; the destination keeps `state`; the
    /// stream plays nothing.
    fn setup(status: PipelineStatus, facts: SourceFacts, state: Option<DestinationState>) -> Setup {
        let journal = journal();
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_get()
            .returning(move |_| Ok(Some(pipeline_details(9, status))));
        mocks
            .replication
            .expect_facts()
            .withf(|_, slot| slot == SLOT)
            .returning(move |_, _| Ok(facts.clone()));
        let writer_journal = journal.clone();
        mocks.writer.expect_open().returning(move |_, _, _| {
            Ok(Box::new(FakeSession::new(&writer_journal, state.clone())))
        });
        let created = Arc::new(Mutex::new(Vec::new()));
        let created_by = created.clone();
        mocks
            .replication
            .expect_create_slot()
            .returning(move |_, slot, temporary| {
                created_by
                    .lock()
                    .unwrap()
                    .push((slot.to_owned(), temporary));
                Ok(Box::new(FakeSnapshot {
                    point: Lsn::new(if temporary { 700 } else { 400 }),
                    rows: 3,
                }))
            });
        let started_at = Arc::new(Mutex::new(None));
        let started = started_at.clone();
        let stream_journal = journal.clone();
        mocks
            .replication
            .expect_stream()
            .returning(move |_, _, start| {
                *started.lock().unwrap() = Some(start);
                Ok(Box::new(FakeStream::new(&stream_journal, Vec::new())))
            });
        let mut runtime = MockPipelineRuntime::new();
        runtime.expect_progress().returning(|_| Ok(None));
        runtime.expect_report().returning(|_, _| Ok(()));
        runtime.expect_sample().returning(|_, _| Ok(()));
        runtime.expect_report_tables().returning(|_, _| Ok(()));
        mocks.runtime = runtime;
        Setup {
            mocks,
            journal,
            started_at,
            created,
        }
    }

    /// Runs the pipeline for a while (the stream then waits for ever) and says how it ended,
    /// if it did.
    async fn run_for(mocks: Mocks) -> Option<Result<Stopped, RunError>> {
        let ctx = RunContext {
            rosetta: mocks.into_rosetta(),
            settings: ReplicatorSettings::default(),
            pipeline: PipelineId::new(9),
            epoch: 3,
        };
        let mut reporter = Reporter::resume(
            ctx.rosetta.runtime.clone(),
            ctx.pipeline,
            "me",
            ctx.settings.sample_interval,
        )
        .await;
        tokio::time::timeout(Duration::from_secs(5), run(&ctx, &mut reporter))
            .await
            .ok()
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_run_copies_every_table_from_a_new_slot_then_streams_from_its_start() {
        let mut s = setup(
            PipelineStatus::Start,
            facts(vec![table(1), table(2)], false),
            None,
        );
        s.mocks.replication.expect_drop_slot().never();
        let ended = run_for(s.mocks).await;
        assert!(ended.is_none(), "it streams on: {ended:?}");
        assert_eq!(*s.created.lock().unwrap(), [(SLOT.to_owned(), false)]);
        let seen = seen(&s.journal);
        assert_eq!(
            seen[..3],
            [
                Seen::Prepared(table(1).name, 2),
                Seen::Prepared(table(2).name, 2),
                Seen::Reset(SLOT.to_owned()),
            ]
        );
        let mut copies: Vec<_> = seen[3..].to_vec();
        copies.sort_by_key(|s| format!("{s:?}"));
        assert_eq!(
            copies,
            [
                Seen::Copied(table(1).name, Lsn::new(400), 3),
                Seen::Copied(table(2).name, Lsn::new(400), 3),
            ]
        );
        assert_eq!(*s.started_at.lock().unwrap(), Some(Lsn::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_that_is_not_ready_fails_for_good_before_anything_is_written() {
        let mut not_ready = facts(vec![table(1)], false);
        not_ready.wal_level = "replica".to_owned();
        let mut s = setup(PipelineStatus::Start, not_ready, None);
        s.mocks.writer = rosetta_domain::ports::MockDestinationWriter::new();
        s.mocks.writer.expect_open().never();
        let ended = run_for(s.mocks).await;
        assert!(
            matches!(&ended, Some(Err(RunError::Permanent(m))) if m.contains("wal_level = logical")),
            "{ended:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_resumed_run_streams_from_its_checkpoint_and_copies_nothing() {
        let state = DestinationState {
            slot: SLOT.to_owned(),
            checkpoint: Some(rosetta_domain::ports::Checkpoint {
                commit_lsn: Lsn::new(590),
                end_lsn: Lsn::new(600),
                commit_time: at(0),
            }),
            tables: vec![synced(1, 400)],
        };
        let mut s = setup(
            PipelineStatus::Start,
            facts(vec![table(1)], true),
            Some(state),
        );
        s.mocks.replication.expect_drop_slot().never();
        assert!(run_for(s.mocks).await.is_none());
        assert!(s.created.lock().unwrap().is_empty());
        assert_eq!(*s.started_at.lock().unwrap(), Some(Lsn::new(600)));
        assert_eq!(seen(&s.journal), [Seen::Prepared(table(1).name, 2)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_table_added_to_the_publication_is_copied_from_a_temporary_slot() {
        let state = DestinationState {
            slot: SLOT.to_owned(),
            checkpoint: None,
            tables: vec![synced(1, 400)],
        };
        let s = setup(
            PipelineStatus::Start,
            facts(vec![table(1), table(2)], true),
            Some(state),
        );
        assert!(run_for(s.mocks).await.is_none());
        assert_eq!(*s.created.lock().unwrap(), [(format!("{SLOT}_sync"), true)]);
        assert!(seen(&s.journal).contains(&Seen::Copied(table(2).name, Lsn::new(700), 3)));
        assert!(!seen(&s.journal)
            .iter()
            .any(|s| matches!(s, Seen::Copied(t, ..) if *t == table(1).name)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_dropped_behind_rosettas_back_is_a_clear_error_asking_for_a_refresh() {
        let state = DestinationState {
            slot: SLOT.to_owned(),
            checkpoint: None,
            tables: vec![synced(1, 400)],
        };
        let s = setup(
            PipelineStatus::Start,
            facts(vec![table(1)], false),
            Some(state),
        );
        let ended = run_for(s.mocks).await;
        assert!(
            matches!(&ended, Some(Err(RunError::Permanent(m))) if m.contains("REFRESH") && m.contains(SLOT)),
            "{ended:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refresh_drops_the_slot_copies_everything_again_and_sets_the_pipeline_started() {
        let state = DestinationState {
            slot: SLOT.to_owned(),
            checkpoint: None,
            tables: vec![synced(1, 100)],
        };
        let mut s = setup(
            PipelineStatus::Refresh,
            facts(vec![table(1)], true),
            Some(state),
        );
        s.mocks
            .replication
            .expect_drop_slot()
            .withf(|_, slot| slot == SLOT)
            .times(1)
            .returning(|_, _| Ok(true));
        s.mocks
            .pipelines
            .expect_update()
            .withf(|id, update| {
                *id == PipelineId::new(9)
                    && update.status
                        == Some(StatusChange {
                            status: PipelineStatus::Start,
                            metadata: MetadataChange::Unchanged,
                        })
            })
            .times(1)
            .returning(|_, _| Ok(pipeline_details(9, PipelineStatus::Start)));
        assert!(run_for(s.mocks).await.is_none());
        let seen = seen(&s.journal);
        assert!(seen.contains(&Seen::Reset(SLOT.to_owned())));
        assert!(seen.contains(&Seen::Copied(table(1).name, Lsn::new(400), 3)));
        assert_eq!(*s.started_at.lock().unwrap(), Some(Lsn::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_out_of_reach_is_a_transient_failure() {
        let mut s = setup(PipelineStatus::Start, facts(vec![table(1)], false), None);
        s.mocks.replication = rosetta_domain::ports::MockReplicationSource::new();
        s.mocks.replication.expect_facts().returning(|_, _| {
            Err(ReplicationError::Connect {
                host: "db:5432".to_owned(),
                reason: "connection refused".to_owned(),
            })
        });
        let ended = run_for(s.mocks).await;
        assert!(
            matches!(&ended, Some(Err(RunError::Transient(m))) if m.contains("connection refused")),
            "{ended:?}"
        );
    }
}
