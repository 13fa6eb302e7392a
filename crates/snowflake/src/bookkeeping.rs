//! Rosetta's bookkeeping in a Snowflake destination's schema: `ROSETTA_CHECKPOINTS` (per
//! pipeline: its slot, the run that owns it, the last applied transaction) and
//! `ROSETTA_TABLE_SYNCS` (per copied table). The checkpoint is written in the transaction of
//! each batch, by an `UPDATE` that only the current run matches: the fence.

use chrono::{DateTime, TimeZone, Utc};
use rosetta_domain::ports::{Checkpoint, DestinationError, DestinationState, TableSync};
use rosetta_domain::replication::{Lsn, TableName};
use rosetta_domain::{PipelineId, SnowflakeMode};

use crate::client::{Outcome, Session, SnowflakeError};
use crate::statements::{Bound, Statement};

/// The checkpoints table's name.
pub(crate) const CHECKPOINTS: &str = "ROSETTA_CHECKPOINTS";
/// The table copies table's name.
pub(crate) const TABLE_SYNCS: &str = "ROSETTA_TABLE_SYNCS";

/// One run of one pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) pipeline: PipelineId,
    pub(crate) epoch: u64,
}

impl Run {
    pub(crate) fn fenced(self, newer: u64) -> DestinationError {
        DestinationError::Fenced {
            pipeline: self.pipeline,
            ours: self.epoch,
            newer,
        }
    }
}

/// Statement codes and SQL states worth another try: a warehouse that is suspended or still
/// resuming (`57P03`), a statement cancelled by a timeout (`57014`).
const TRANSIENT_SQL_STATES: [&str; 2] = ["57P03", "57014"];

/// A Snowflake error as the destination port says it: `host` is the account's address.
pub(crate) fn error(host: &str, table: &str, error: SnowflakeError) -> DestinationError {
    match error {
        SnowflakeError::Statement { ref sql_state, .. }
            if TRANSIENT_SQL_STATES.contains(&sql_state.as_str()) =>
        {
            DestinationError::Lost {
                host: host.to_owned(),
                reason: error.to_string(),
            }
        }
        error if error.is_transient() => DestinationError::Lost {
            host: host.to_owned(),
            reason: error.to_string(),
        },
        error => DestinationError::Rejected {
            table: table.to_owned(),
            reason: error.to_string(),
        },
    }
}

/// The tables' definitions.
pub(crate) fn definitions(schema: &str) -> [String; 2] {
    [
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.{CHECKPOINTS} (PIPELINE_ID NUMBER(19,0) NOT NULL, \
             SLOT VARCHAR, EPOCH NUMBER(20,0) NOT NULL, COMMIT_LSN NUMBER(20,0), \
             END_LSN NUMBER(20,0), COMMIT_TIME TIMESTAMP_TZ, COMMIT_MICROS NUMBER(20,0), \
             UPDATED_AT TIMESTAMP_TZ)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {schema}.{TABLE_SYNCS} (PIPELINE_ID NUMBER(19,0) NOT NULL, \
             SCHEMA_NAME VARCHAR NOT NULL, TABLE_NAME VARCHAR NOT NULL, MODE VARCHAR NOT NULL, \
             SYNCED_AT NUMBER(20,0) NOT NULL, ROW_COUNT NUMBER(20,0) NOT NULL, \
             UPDATED_AT TIMESTAMP_TZ)"
        ),
    ]
}

/// Runs `sql` with text bindings.
pub(crate) async fn run(
    session: &mut Session,
    host: &str,
    table: &str,
    sql: &str,
    bindings: &[Option<String>],
) -> Result<Outcome, DestinationError> {
    let bound: Vec<Option<&str>> = bindings.iter().map(Option::as_deref).collect();
    session
        .execute(sql, &bound)
        .await
        .map_err(|e| error(host, table, e))
}

/// Runs `statement`, its sequences counted from `base`.
pub(crate) async fn run_statement(
    session: &mut Session,
    host: &str,
    statement: &Statement,
    base: u128,
) -> Result<Outcome, DestinationError> {
    let bindings: Vec<Option<String>> = statement
        .bindings
        .iter()
        .map(|bound| match bound {
            Bound::Text(text) => text.clone(),
            Bound::Sequence(n) => Some((base + u128::from(*n)).to_string()),
        })
        .collect();
    run(session, host, &statement.table, &statement.sql, &bindings).await
}

fn text(value: impl ToString) -> Option<String> {
    Some(value.to_string())
}

/// The run recorded for `pipeline`, if any (the newest, should two have been recorded).
pub(crate) async fn current_epoch(
    session: &mut Session,
    host: &str,
    schema: &str,
    pipeline: PipelineId,
) -> Result<Option<u64>, DestinationError> {
    let outcome = run(
        session,
        host,
        CHECKPOINTS,
        &format!(
            "SELECT EPOCH::VARCHAR FROM {schema}.{CHECKPOINTS} WHERE PIPELINE_ID = ? \
             ORDER BY EPOCH DESC LIMIT 1"
        ),
        &[text(pipeline.get())],
    )
    .await?;
    outcome
        .rows
        .first()
        .and_then(|row| row.first().cloned().flatten())
        .map(|epoch| number(&epoch, "EPOCH"))
        .transpose()
}

fn number<T: std::str::FromStr>(value: &str, column: &str) -> Result<T, DestinationError> {
    // Snowflake may write a NUMBER(20,0) as `12` or `12.000`.
    value
        .split('.')
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|_| {
            DestinationError::Unknown(anyhow::anyhow!(
                "{CHECKPOINTS}.{column} holds {value:?}, not a number"
            ))
        })
}

/// Makes `run` the pipeline's current run, unless a newer one is.
///
/// # Errors
///
/// `Fenced` when a newer run has opened, `Lost`, `Rejected`, `Unknown`.
pub(crate) async fn fence(
    session: &mut Session,
    host: &str,
    schema: &str,
    run_: Run,
) -> Result<(), DestinationError> {
    let (id, epoch) = (text(run_.pipeline.get()), text(run_.epoch));
    let claimed = run(
        session,
        host,
        CHECKPOINTS,
        &format!(
            "UPDATE {schema}.{CHECKPOINTS} SET EPOCH = ?, UPDATED_AT = CURRENT_TIMESTAMP() \
             WHERE PIPELINE_ID = ? AND EPOCH <= ?"
        ),
        &[epoch.clone(), id.clone(), epoch.clone()],
    )
    .await?;
    if claimed.count().unwrap_or_default() > 0 {
        return Ok(());
    }
    let inserted = run(
        session,
        host,
        CHECKPOINTS,
        &format!(
            "INSERT INTO {schema}.{CHECKPOINTS} (PIPELINE_ID, EPOCH, UPDATED_AT) \
             SELECT CAST(? AS NUMBER(19,0)), CAST(? AS NUMBER(20,0)), CURRENT_TIMESTAMP() \
             FROM (SELECT 1 AS ONE) AS ROSETTA_ONE WHERE NOT EXISTS (SELECT 1 FROM {schema}.{CHECKPOINTS} WHERE PIPELINE_ID = ?)"
        ),
        &[id.clone(), epoch, id],
    )
    .await?;
    if inserted.count().unwrap_or_default() > 0 {
        return Ok(());
    }
    match current_epoch(session, host, schema, run_.pipeline).await? {
        Some(newer) if newer > run_.epoch => Err(run_.fenced(newer)),
        _ => Ok(()),
    }
}

/// Checks, inside the caller's transaction, that `run_` is still the current run.
///
/// # Errors
///
/// `Fenced`, `Rejected` when the pipeline's row is gone, `Lost`, `Unknown`.
pub(crate) async fn check(
    session: &mut Session,
    host: &str,
    schema: &str,
    run_: Run,
) -> Result<(), DestinationError> {
    match current_epoch(session, host, schema, run_.pipeline).await? {
        Some(epoch) if epoch == run_.epoch => Ok(()),
        Some(newer) => Err(run_.fenced(newer)),
        None => Err(missing(run_)),
    }
}

fn missing(run_: Run) -> DestinationError {
    DestinationError::Rejected {
        table: CHECKPOINTS.to_owned(),
        reason: format!(
            "the row of pipeline {} is gone (deleted by hand?): restart the pipeline",
            run_.pipeline
        ),
    }
}

/// Writes `checkpoint` for `run_`, inside the batch's transaction.
///
/// # Errors
///
/// `Fenced` when another run owns the pipeline (nothing is written), `Lost`, `Rejected`.
pub(crate) async fn write_checkpoint(
    session: &mut Session,
    host: &str,
    schema: &str,
    run_: Run,
    checkpoint: Checkpoint,
) -> Result<(), DestinationError> {
    let micros = checkpoint.commit_time.timestamp_micros();
    let written = run(
        session,
        host,
        CHECKPOINTS,
        &format!(
            "UPDATE {schema}.{CHECKPOINTS} SET COMMIT_LSN = ?, END_LSN = ?, \
             COMMIT_TIME = CAST(? AS TIMESTAMP_TZ), COMMIT_MICROS = ?, UPDATED_AT = CURRENT_TIMESTAMP() \
             WHERE PIPELINE_ID = ? AND EPOCH = ?"
        ),
        &[
            text(checkpoint.commit_lsn.get()),
            text(checkpoint.end_lsn.get()),
            text(checkpoint.commit_time.format("%Y-%m-%d %H:%M:%S%.6f+00:00")),
            text(micros),
            text(run_.pipeline.get()),
            text(run_.epoch),
        ],
    )
    .await?;
    if written.count().unwrap_or_default() > 0 {
        return Ok(());
    }
    match current_epoch(session, host, schema, run_.pipeline).await? {
        Some(newer) if newer != run_.epoch => Err(run_.fenced(newer)),
        _ => Err(missing(run_)),
    }
}

/// Starts over with `slot`: no checkpoint, no table copied.
pub(crate) async fn reset(
    session: &mut Session,
    host: &str,
    schema: &str,
    run_: Run,
    slot: &str,
) -> Result<(), DestinationError> {
    let reset = run(
        session,
        host,
        CHECKPOINTS,
        &format!(
            "UPDATE {schema}.{CHECKPOINTS} SET SLOT = ?, COMMIT_LSN = NULL, END_LSN = NULL, \
             COMMIT_TIME = NULL, COMMIT_MICROS = NULL, UPDATED_AT = CURRENT_TIMESTAMP() \
             WHERE PIPELINE_ID = ? AND EPOCH = ?"
        ),
        &[text(slot), text(run_.pipeline.get()), text(run_.epoch)],
    )
    .await?;
    if reset.count().unwrap_or_default() == 0 {
        return check(session, host, schema, run_).await;
    }
    run(
        session,
        host,
        TABLE_SYNCS,
        &format!("DELETE FROM {schema}.{TABLE_SYNCS} WHERE PIPELINE_ID = ?"),
        &[text(run_.pipeline.get())],
    )
    .await?;
    Ok(())
}

/// Records the copy of `sync.table` into the tables of `mode`, inside the copy's transaction.
pub(crate) async fn record_sync(
    session: &mut Session,
    host: &str,
    schema: &str,
    run_: Run,
    mode: SnowflakeMode,
    sync: &TableSync,
) -> Result<(), DestinationError> {
    let (id, table_schema, table) = (
        text(run_.pipeline.get()),
        text(&sync.table.schema),
        text(&sync.table.name),
    );
    let mode = text(mode.as_str());
    run(
        session,
        host,
        TABLE_SYNCS,
        &format!(
            "DELETE FROM {schema}.{TABLE_SYNCS} WHERE PIPELINE_ID = ? AND SCHEMA_NAME = ? \
             AND TABLE_NAME = ? AND MODE = ?"
        ),
        &[
            id.clone(),
            table_schema.clone(),
            table.clone(),
            mode.clone(),
        ],
    )
    .await?;
    run(
        session,
        host,
        TABLE_SYNCS,
        &format!(
            "INSERT INTO {schema}.{TABLE_SYNCS} (PIPELINE_ID, SCHEMA_NAME, TABLE_NAME, MODE, \
             SYNCED_AT, ROW_COUNT, UPDATED_AT) SELECT CAST(? AS NUMBER(19,0)), ?, ?, ?, \
             CAST(? AS NUMBER(20,0)), CAST(? AS NUMBER(20,0)), CURRENT_TIMESTAMP()"
        ),
        &[
            id,
            table_schema,
            table,
            mode,
            text(sync.synced_at.get()),
            text(sync.rows),
        ],
    )
    .await?;
    Ok(())
}

/// What the destination keeps of `pipeline`, its tables as copied into the tables of `mode`
/// (after a change of mode, every table is copied again into the new mode's tables).
pub(crate) async fn state(
    session: &mut Session,
    host: &str,
    schema: &str,
    pipeline: PipelineId,
    mode: SnowflakeMode,
) -> Result<Option<DestinationState>, DestinationError> {
    let outcome = run(
        session,
        host,
        CHECKPOINTS,
        &format!(
            "SELECT SLOT, COMMIT_LSN::VARCHAR, END_LSN::VARCHAR, COMMIT_MICROS::VARCHAR \
             FROM {schema}.{CHECKPOINTS} WHERE PIPELINE_ID = ? ORDER BY EPOCH DESC LIMIT 1"
        ),
        &[text(pipeline.get())],
    )
    .await?;
    let Some(row) = outcome.rows.first() else {
        return Ok(None);
    };
    let value = |i: usize| row.get(i).cloned().flatten();
    let Some(slot) = value(0) else {
        return Ok(None);
    };
    let checkpoint = match (value(1), value(2), value(3)) {
        (Some(commit), Some(end), Some(micros)) => Some(Checkpoint {
            commit_lsn: Lsn::new(number(&commit, "COMMIT_LSN")?),
            end_lsn: Lsn::new(number(&end, "END_LSN")?),
            commit_time: commit_time(number(&micros, "COMMIT_MICROS")?),
        }),
        _ => None,
    };
    let synced = run(
        session,
        host,
        TABLE_SYNCS,
        &format!(
            "SELECT SCHEMA_NAME, TABLE_NAME, SYNCED_AT::VARCHAR, ROW_COUNT::VARCHAR \
             FROM {schema}.{TABLE_SYNCS} WHERE PIPELINE_ID = ? AND MODE = ? \
             ORDER BY SCHEMA_NAME, TABLE_NAME"
        ),
        &[text(pipeline.get()), text(mode.as_str())],
    )
    .await?;
    let tables = synced
        .rows
        .iter()
        .map(|row| {
            let value = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            Ok(TableSync {
                table: TableName::new(value(0), value(1)),
                synced_at: Lsn::new(number(&value(2), "SYNCED_AT")?),
                rows: number(&value(3), "ROW_COUNT")?,
            })
        })
        .collect::<Result<_, DestinationError>>()?;
    Ok(Some(DestinationState {
        slot,
        checkpoint,
        tables,
    }))
}

fn commit_time(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(code: &str, sql_state: &str) -> SnowflakeError {
        SnowflakeError::Statement {
            code: code.to_owned(),
            sql_state: sql_state.to_owned(),
            message: "it failed".to_owned(),
            query_id: "01b2".to_owned(),
        }
    }

    #[test]
    fn errors_a_retry_may_cure_are_lost_and_the_others_rejected_with_the_query_id() {
        let ended = SnowflakeError::SessionEnded {
            code: "390112".to_owned(),
            message: "Your session has expired. Please login again.".to_owned(),
        };
        assert!(matches!(
            error("acct", "T", ended),
            DestinationError::Lost { .. }
        ));
        let suspended = error("acct", "T", statement("000606", "57P03"));
        assert!(suspended.is_transient(), "{suspended}");
        let refused = error("acct", "T", statement("100038", "22018"));
        assert!(matches!(refused, DestinationError::Rejected { .. }));
        assert!(refused.to_string().contains("query id 01b2"), "{refused}");
        let unreachable = SnowflakeError::Unreachable {
            url: "http://127.0.0.1:1/".to_owned(),
            reason: "could not connect".to_owned(),
        };
        assert!(error("acct", "T", unreachable).is_transient());
    }

    #[test]
    fn numbers_read_with_or_without_a_fraction() {
        assert_eq!(number::<u64>("12", "EPOCH").unwrap(), 12);
        assert_eq!(number::<u64>("12.000", "EPOCH").unwrap(), 12);
        assert!(number::<u64>("twelve", "EPOCH").is_err());
    }
}
