//! Rosetta's bookkeeping on a destination, in its schema `rosetta`: one checkpoint row per
//! pipeline (the slot, the run that owns it, the last applied transaction) and one row per
//! copied table. The checkpoint row is also the fence that keeps a replaced run from writing.

use std::sync::Arc;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use rosetta_domain::ports::{Checkpoint, DestinationError, DestinationState, TableSync};
use rosetta_domain::replication::{Lsn, TableName};
use rosetta_domain::PipelineId;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::PgLsn;
use tokio_postgres::{Client, GenericClient, Statement};

use crate::error;
use crate::row::get;

/// The checkpoints table, as errors name it.
pub(crate) const CHECKPOINTS: &str = "rosetta.checkpoints";
/// The table copies table, as errors name it.
pub(crate) const TABLE_SYNCS: &str = "rosetta.table_syncs";

/// The bookkeeping's definition, run inside a transaction: committed by [`ensure`], rolled back
/// by [`try_create`]. The advisory lock (`rosettad` in ASCII) serializes processes opening at
/// once: `CREATE … IF NOT EXISTS` run concurrently can still fail on the catalogue's unique
/// index.
const DEFINITION: &str = "\
SELECT pg_advisory_xact_lock(7957705718018859364);
CREATE SCHEMA IF NOT EXISTS rosetta;
CREATE TABLE IF NOT EXISTS rosetta.checkpoints (
    pipeline_id bigint PRIMARY KEY,
    slot text,
    epoch bigint NOT NULL,
    commit_lsn pg_lsn,
    end_lsn pg_lsn,
    commit_time timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS rosetta.table_syncs (
    pipeline_id bigint NOT NULL,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    synced_at pg_lsn NOT NULL,
    rows bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pipeline_id, schema_name, table_name)
);";

/// One run of one pipeline, as the bookkeeping identifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) pipeline: PipelineId,
    pub(crate) epoch: u64,
}

impl Run {
    /// The epoch as the `bigint` column holds it.
    fn epoch_param(self) -> Result<i64, DestinationError> {
        i64::try_from(self.epoch)
            .map_err(|_| DestinationError::Unknown(anyhow!("run {} is beyond bigint", self.epoch)))
    }

    fn fenced(self, newer: i64) -> DestinationError {
        DestinationError::Fenced {
            pipeline: self.pipeline,
            ours: self.epoch,
            newer: u64::try_from(newer).unwrap_or_default(),
        }
    }
}

/// Creates the schema `rosetta` and its tables when they are missing. Checking first spares a
/// role that may not create schemas once the bookkeeping exists.
///
/// # Errors
///
/// `Rejected` without the privilege to create them, `Lost`, `Unknown`.
pub(crate) async fn ensure(client: &Client, host: &str) -> Result<(), DestinationError> {
    if exists(client, host).await? {
        return Ok(());
    }
    if let Err(e) = client
        .batch_execute(&format!("BEGIN; {DEFINITION} COMMIT;"))
        .await
    {
        // The failed statement left the transaction open and aborted.
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(error::statement(host, CHECKPOINTS, &e));
    }
    Ok(())
}

/// Whether both bookkeeping tables exist.
///
/// # Errors
///
/// `Lost`, `Rejected`, `Unknown`.
pub(crate) async fn exists(client: &Client, host: &str) -> Result<bool, DestinationError> {
    client
        .query_one(
            "SELECT to_regclass('rosetta.checkpoints') IS NOT NULL \
                AND to_regclass('rosetta.table_syncs') IS NOT NULL",
            &[],
        )
        .await
        .map_err(|e| error::statement(host, CHECKPOINTS, &e))
        .and_then(|row| get(&row, 0))
}

/// Creates the bookkeeping as [`ensure`] would, in a transaction that is rolled back: whether
/// the role may, leaving nothing behind.
///
/// # Errors
///
/// What creating it failed with (`Rejected` without the privilege), `Lost`, `Unknown`.
pub(crate) async fn try_create(client: &Client, host: &str) -> Result<(), DestinationError> {
    let tried = client
        .batch_execute(&format!("BEGIN; {DEFINITION} ROLLBACK;"))
        .await;
    if let Err(e) = tried {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(error::statement(host, CHECKPOINTS, &e));
    }
    Ok(())
}

/// Makes `run` the pipeline's current run: from now on, any write of an older run is refused.
/// Waits for a transaction of the run it replaces to end, if one holds the row.
///
/// # Errors
///
/// `Fenced` when a newer run has already opened, `Lost`, `Unknown`.
pub(crate) async fn fence(client: &Client, host: &str, run: Run) -> Result<(), DestinationError> {
    let epoch = run.epoch_param()?;
    let claimed = client
        .query_opt(
            "INSERT INTO rosetta.checkpoints (pipeline_id, epoch) VALUES ($1, $2) \
             ON CONFLICT (pipeline_id) DO UPDATE SET epoch = EXCLUDED.epoch, updated_at = now() \
             WHERE rosetta.checkpoints.epoch <= EXCLUDED.epoch \
             RETURNING epoch",
            &[&run.pipeline.get(), &epoch],
        )
        .await
        .map_err(|e| error::statement(host, CHECKPOINTS, &e))?;
    if claimed.is_some() {
        return Ok(());
    }
    match current_epoch(client, host, run, "").await? {
        Some(newer) => Err(run.fenced(newer)),
        None => Err(missing(run)),
    }
}

/// How a transaction holds the checkpoint row while it checks the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// `FOR UPDATE`: the transaction writes the row, or must exclude every other writer.
    Exclusive,
    /// `FOR SHARE`: table copies, which may commit side by side; a new run's fence still
    /// waits for them.
    Shared,
    /// No lock: an early check that saves work; a later check decides.
    Peek,
}

/// Checks, inside the caller's transaction, that `run` is still the pipeline's current run,
/// holding the checkpoint row as `hold` says until the transaction ends, so that no newer run
/// can open before it commits.
///
/// # Errors
///
/// `Fenced`, `Lost`, `Unknown`.
pub(crate) async fn check<C: GenericClient>(
    client: &C,
    host: &str,
    run: Run,
    hold: Hold,
) -> Result<(), DestinationError> {
    let lock = match hold {
        Hold::Exclusive => " FOR UPDATE",
        Hold::Shared => " FOR SHARE",
        Hold::Peek => "",
    };
    match current_epoch(client, host, run, lock).await? {
        Some(epoch) if epoch == run.epoch_param()? => Ok(()),
        Some(newer) => Err(run.fenced(newer)),
        None => Err(missing(run)),
    }
}

async fn current_epoch<C: GenericClient>(
    client: &C,
    host: &str,
    run: Run,
    lock: &str,
) -> Result<Option<i64>, DestinationError> {
    let sql = format!("SELECT epoch FROM rosetta.checkpoints WHERE pipeline_id = $1{lock}");
    let row = client
        .query_opt(sql.as_str(), &[&run.pipeline.get()])
        .await
        .map_err(|e| error::statement(host, CHECKPOINTS, &e))?;
    row.map(|row| get(&row, 0)).transpose()
}

/// The checkpoint row went away under a running pipeline: someone deleted it by hand.
fn missing(run: Run) -> DestinationError {
    DestinationError::Rejected {
        table: CHECKPOINTS.to_owned(),
        reason: format!(
            "the row of pipeline {} is gone (deleted by hand?): restart the pipeline",
            run.pipeline
        ),
    }
}

/// The statement that writes a checkpoint in the caller's transaction if the run is still the
/// current one. Its `UPDATE` locks the row and re-reads its epoch, so it is the fence check
/// too; it divides by the rows it wrote, so that a fenced run's statement fails (and aborts
/// the transaction) by itself: its reply may be read after the `COMMIT` is sent.
const WRITE_CHECKPOINT: &str = "\
WITH written AS (
    UPDATE rosetta.checkpoints
    SET commit_lsn = $3, end_lsn = $4, commit_time = $5, updated_at = now()
    WHERE pipeline_id = $1 AND epoch = $2
    RETURNING 1
)
SELECT 1 / count(*) FROM written";

/// Prepares the statement [`send_checkpoint`] runs.
///
/// # Errors
///
/// `Lost`, `Unknown`.
pub(crate) async fn prepare_checkpoint(
    client: &Client,
    host: &str,
) -> Result<Statement, DestinationError> {
    client
        .prepare(WRITE_CHECKPOINT)
        .await
        .map_err(|e| error::statement(host, CHECKPOINTS, &e))
}

/// Writes `checkpoint` in the caller's transaction, if `run` is still the current one, with
/// `statement` (from [`prepare_checkpoint`]); sent when first polled (see [`crate::ahead`]).
///
/// # Errors
///
/// `Fenced` (then the transaction is aborted and its `COMMIT` rolls it back), `Lost`,
/// `Unknown`.
pub(crate) async fn send_checkpoint(
    client: Arc<Client>,
    host: String,
    run: Run,
    statement: Statement,
    checkpoint: Checkpoint,
) -> Result<(), DestinationError> {
    let epoch = run.epoch_param()?;
    let written = client
        .query_one(
            &statement,
            &[
                &run.pipeline.get(),
                &epoch,
                &PgLsn::from(checkpoint.commit_lsn.get()),
                &PgLsn::from(checkpoint.end_lsn.get()),
                &checkpoint.commit_time,
            ],
        )
        .await;
    match written {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::DIVISION_BY_ZERO) => {
            // Read after this transaction's end (the COMMIT was sent before this reply was
            // read), so it sees the run that replaced this one.
            match current_epoch(&*client, &host, run, "").await? {
                Some(newer) => Err(run.fenced(newer)),
                None => Err(missing(run)),
            }
        }
        Err(e) => Err(error::statement(&host, CHECKPOINTS, &e)),
    }
}

/// Forgets the pipeline's checkpoint and table copies and records `slot`, in the caller's
/// transaction (which must hold the row: see [`check`]).
///
/// # Errors
///
/// `Lost`, `Unknown`.
pub(crate) async fn reset(
    client: &Client,
    host: &str,
    run: Run,
    slot: &str,
) -> Result<(), DestinationError> {
    let id = run.pipeline.get();
    client
        .execute(
            "UPDATE rosetta.checkpoints SET slot = $2, commit_lsn = NULL, end_lsn = NULL, \
             commit_time = NULL, updated_at = now() WHERE pipeline_id = $1",
            &[&id, &slot],
        )
        .await
        .map_err(|e| error::statement(host, CHECKPOINTS, &e))?;
    client
        .execute(
            "DELETE FROM rosetta.table_syncs WHERE pipeline_id = $1",
            &[&id],
        )
        .await
        .map_err(|e| error::statement(host, TABLE_SYNCS, &e))?;
    Ok(())
}

/// Records that `table` was copied from the snapshot at `synced_at`, in the copy's
/// transaction.
///
/// # Errors
///
/// `Lost`, `Unknown`.
pub(crate) async fn record_sync<C: GenericClient>(
    client: &C,
    host: &str,
    run: Run,
    sync: &TableSync,
) -> Result<(), DestinationError> {
    let rows = i64::try_from(sync.rows).unwrap_or(i64::MAX);
    client
        .execute(
            "INSERT INTO rosetta.table_syncs (pipeline_id, schema_name, table_name, synced_at, rows) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (pipeline_id, schema_name, table_name) \
             DO UPDATE SET synced_at = EXCLUDED.synced_at, rows = EXCLUDED.rows, updated_at = now()",
            &[
                &run.pipeline.get(),
                &sync.table.schema,
                &sync.table.name,
                &PgLsn::from(sync.synced_at.get()),
                &rows,
            ],
        )
        .await
        .map_err(|e| error::statement(host, TABLE_SYNCS, &e))?;
    Ok(())
}

/// What the destination keeps of the pipeline; `None` before its first reset (a run that only
/// opened has chosen no slot).
///
/// # Errors
///
/// `Lost`, `Unknown`.
pub(crate) async fn state(
    client: &Client,
    host: &str,
    run: Run,
) -> Result<Option<DestinationState>, DestinationError> {
    let id = run.pipeline.get();
    let row = client
        .query_opt(
            "SELECT slot, commit_lsn, end_lsn, commit_time FROM rosetta.checkpoints \
             WHERE pipeline_id = $1",
            &[&id],
        )
        .await
        .map_err(|e| error::statement(host, CHECKPOINTS, &e))?;
    let Some(row) = row else { return Ok(None) };
    let Some(slot) = get::<Option<String>>(&row, 0)? else {
        return Ok(None);
    };
    let lsn = |lsn: Option<PgLsn>| lsn.map(|lsn| Lsn::new(lsn.into()));
    let checkpoint = match (
        lsn(get(&row, 1)?),
        lsn(get(&row, 2)?),
        get::<Option<DateTime<Utc>>>(&row, 3)?,
    ) {
        (Some(commit_lsn), Some(end_lsn), Some(commit_time)) => Some(Checkpoint {
            commit_lsn,
            end_lsn,
            commit_time,
        }),
        _ => None,
    };
    let tables = client
        .query(
            "SELECT schema_name, table_name, synced_at, rows FROM rosetta.table_syncs \
             WHERE pipeline_id = $1 ORDER BY schema_name, table_name",
            &[&id],
        )
        .await
        .map_err(|e| error::statement(host, TABLE_SYNCS, &e))?
        .iter()
        .map(|row| {
            Ok(TableSync {
                table: TableName::new(get::<String>(row, 0)?, get::<String>(row, 1)?),
                synced_at: Lsn::new(get::<PgLsn>(row, 2)?.into()),
                rows: u64::try_from(get::<i64>(row, 3)?).unwrap_or_default(),
            })
        })
        .collect::<Result<_, DestinationError>>()?;
    Ok(Some(DestinationState {
        slot,
        checkpoint,
        tables,
    }))
}
