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
    let problems = facts.problems(source.publication_name.as_str(), &slot);
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
    reporter.keep_tables(&facts.tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>());

    let state = if fresh {
        initial_copy(ctx, &source, &slot, &facts, state.as_ref(), session.as_mut(), reporter)
            .await?;
        if refresh {
            rosetta.finish_refresh(pipeline.id).await?;
        }
        session.state().await?
    } else {
        catch_up_tables(ctx, &source, &slot, &facts, state.as_ref(), session.as_ref(), reporter)
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
            Ok(dropped) => tracing::info!(slot = old, dropped, "dropped the pipeline's former slot"),
            Err(error) => tracing::warn!(slot = old, error = %error, "cannot drop the pipeline's former slot"),
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
    let synced: HashMap<&TableName, _> = state.tables.iter().map(|t| (&t.table, t.synced_at)).collect();
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
