//! What running pipelines report, in `pipeline_runtime` and `pipeline_tables`, their samples,
//! in `pipeline_samples`, and their failures, in `pipeline_metadata` (the contract's `status`
//! and `last_error`).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Nullable, Text, Timestamptz};
use diesel_async::RunQueryDsl;
use rosetta_domain::ports::{PipelineRuntime, RuntimeError};
use rosetta_domain::replication::{
    Lsn, PipelinePhase, PipelineProgress, PipelineSeriesPoint, PipelineSeriesQuery, TableName,
    TableProgress, TableState,
};
use rosetta_domain::{PipelineId, WalBucket};

use crate::conn::with_conn;
use crate::errors::{DbError, Doing};
use crate::schema::{pipeline_runtime, pipeline_tables};
use crate::stored::stored;
use crate::DbPool;

/// The runtime state of pipelines, stored in the metadata database.
#[derive(Clone)]
pub struct PgPipelineRuntime {
    pool: DbPool,
}

impl PgPipelineRuntime {
    /// A store drawing connections from `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }
}

/// Replaces the report, and brings a pipeline that had failed back to `RUNNING` once it copies
/// or streams again (its last error stays, as history, until it is started).
const REPORT: &str = "\
WITH recovered AS (
    UPDATE pipeline_metadata SET status = 'RUNNING', updated_at = now()
    WHERE pipeline_id = $1 AND status = 'ERROR' AND $2 IN ('copying', 'streaming')
)
INSERT INTO pipeline_runtime AS r (pipeline_id, phase, owner, confirmed_lsn, lag_bytes,
    lag_seconds, rows_copied, changes_applied, last_commit_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (pipeline_id) DO UPDATE SET
    phase = EXCLUDED.phase, owner = EXCLUDED.owner, confirmed_lsn = EXCLUDED.confirmed_lsn,
    lag_bytes = EXCLUDED.lag_bytes, lag_seconds = EXCLUDED.lag_seconds,
    rows_copied = EXCLUDED.rows_copied, changes_applied = EXCLUDED.changes_applied,
    last_commit_at = EXCLUDED.last_commit_at, updated_at = EXCLUDED.updated_at";

/// Replaces the tables' states with those given, in one statement.
const REPORT_TABLES: &str = "\
WITH input AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                         $7::timestamptz[])
        AS t(schema_name, table_name, state, rows_copied, error, updated_at)
), gone AS (
    DELETE FROM pipeline_tables p WHERE p.pipeline_id = $1 AND NOT EXISTS (
        SELECT 1 FROM input i WHERE i.schema_name = p.schema_name AND i.table_name = p.table_name)
)
INSERT INTO pipeline_tables (pipeline_id, schema_name, table_name, state, rows_copied, error,
    updated_at)
SELECT $1, schema_name, table_name, state, rows_copied, error, updated_at FROM input
ON CONFLICT (pipeline_id, schema_name, table_name) DO UPDATE SET
    state = EXCLUDED.state, rows_copied = EXCLUDED.rows_copied, error = EXCLUDED.error,
    updated_at = EXCLUDED.updated_at";

/// The contract's failure (`ERROR`, `last_error`), and the phase, together; a pipeline paused
/// meanwhile (its run failing as it stops) keeps `PAUSED` and the phase `paused`, with the
/// error as its `last_error`.
const FAIL: &str = "\
WITH failed AS (
    UPDATE pipeline_metadata m
    SET status = CASE WHEN p.status = 'PAUSE' THEN m.status ELSE 'ERROR' END,
        last_error = $2, last_error_at = $3, updated_at = now()
    FROM pipelines p
    WHERE m.pipeline_id = $1 AND p.id = m.pipeline_id
    RETURNING m.pipeline_id, p.status = 'PAUSE' AS paused
)
INSERT INTO pipeline_runtime AS r (pipeline_id, phase, updated_at)
SELECT pipeline_id, CASE WHEN paused THEN 'paused' ELSE 'error' END, $3 FROM failed
ON CONFLICT (pipeline_id) DO UPDATE SET phase = EXCLUDED.phase, updated_at = EXCLUDED.updated_at
RETURNING pipeline_id";

/// Keeps a sample; one taken at the same moment as another is the same sample.
const SAMPLE: &str = "\
INSERT INTO pipeline_samples (pipeline_id, sampled_at, lag_bytes, lag_seconds, rows_copied,
    changes_applied)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (pipeline_id, sampled_at) DO NOTHING";

/// A pipeline's samples per bucket. The changes of a bucket are the rises of the count of
/// changes applied from each sample to the next, summed over the samples in the bucket (the
/// sample before the range, when there is one, starts the first rise); a count that went down
/// (it never should) rises by nothing. The throughput divides them by the part of the bucket
/// already past. NULL bounds match everything, so that one statement serves every query.
const SERIES: &str = "\
WITH steps AS (
    SELECT sampled_at, lag_bytes, lag_seconds,
           greatest(changes_applied - lag(changes_applied) OVER (ORDER BY sampled_at), 0)
               AS changes
    FROM pipeline_samples
    WHERE pipeline_id = $1
      AND ($2::timestamptz IS NULL OR sampled_at >= (
          SELECT coalesce(max(sampled_at), $2) FROM pipeline_samples
          WHERE pipeline_id = $1 AND sampled_at < $2))
      AND ($3::timestamptz IS NULL OR sampled_at < $3)
), buckets AS (
    SELECT date_bin(make_interval(secs => $4), sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')
               AS bucket_start,
           max(lag_bytes) AS max_lag_bytes,
           avg(lag_bytes)::float8 AS avg_lag_bytes,
           max(lag_seconds) AS max_lag_seconds,
           coalesce(sum(changes), 0)::bigint AS changes,
           count(*) AS samples
    FROM steps
    WHERE $2::timestamptz IS NULL OR sampled_at >= $2
    GROUP BY 1
)
SELECT bucket_start, max_lag_bytes, avg_lag_bytes, max_lag_seconds, changes, samples,
       greatest(least($4, extract(epoch FROM now() - bucket_start)::float8), 1) AS seconds
FROM buckets
ORDER BY bucket_start DESC
LIMIT $5";

#[derive(diesel::QueryableByName)]
struct SeriesRow {
    #[diesel(sql_type = Timestamptz)]
    bucket_start: DateTime<Utc>,
    #[diesel(sql_type = Nullable<BigInt>)]
    max_lag_bytes: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    avg_lag_bytes: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    max_lag_seconds: Option<f64>,
    #[diesel(sql_type = BigInt)]
    changes: i64,
    #[diesel(sql_type = BigInt)]
    samples: i64,
    #[diesel(sql_type = Double)]
    seconds: f64,
}

impl From<SeriesRow> for PipelineSeriesPoint {
    fn from(row: SeriesRow) -> Self {
        Self {
            bucket_start: row.bucket_start,
            max_lag_bytes: row.max_lag_bytes.map(read_count),
            avg_lag_bytes: row.avg_lag_bytes,
            max_lag: row
                .max_lag_seconds
                .and_then(|s| Duration::try_from_secs_f64(s.max(0.0)).ok()),
            changes_applied: read_count(row.changes),
            changes_per_second: row.changes as f64 / row.seconds,
            samples: read_count(row.samples),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Returned {
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code, reason = "only its presence is read")]
    pipeline_id: i64,
}

/// A pipeline's last report, as stored (also read with the pipeline, see `pipelines.rs`).
#[derive(Queryable, Selectable)]
#[diesel(table_name = pipeline_runtime, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RuntimeRow {
    phase: String,
    owner: Option<String>,
    confirmed_lsn: Option<i64>,
    lag_bytes: Option<i64>,
    lag_seconds: Option<f64>,
    rows_copied: i64,
    changes_applied: i64,
    last_commit_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = pipeline_tables, check_for_backend(diesel::pg::Pg))]
struct TableRow {
    schema_name: String,
    table_name: String,
    state: String,
    rows_copied: i64,
    error: Option<String>,
    updated_at: DateTime<Utc>,
}

/// A count as stored (they never reach `i64::MAX`; saturate rather than fail if one did).
fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn read_count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl RuntimeRow {
    pub(crate) fn into_progress(self) -> anyhow::Result<PipelineProgress> {
        Ok(PipelineProgress {
            phase: stored(
                self.phase.parse::<PipelinePhase>(),
                "pipeline_runtime.phase",
            )?,
            owner: self.owner,
            confirmed_lsn: self.confirmed_lsn.map(|lsn| Lsn::new(read_count(lsn))),
            lag_bytes: self.lag_bytes.map(read_count),
            lag: self
                .lag_seconds
                .and_then(|s| Duration::try_from_secs_f64(s.max(0.0)).ok()),
            rows_copied: read_count(self.rows_copied),
            changes_applied: read_count(self.changes_applied),
            last_commit_at: self.last_commit_at,
            updated_at: self.updated_at,
        })
    }
}

impl TableRow {
    fn into_progress(self) -> anyhow::Result<TableProgress> {
        Ok(TableProgress {
            table: TableName::new(self.schema_name, self.table_name),
            state: stored(self.state.parse::<TableState>(), "pipeline_tables.state")?,
            rows_copied: read_count(self.rows_copied),
            error: self.error,
            updated_at: self.updated_at,
        })
    }
}

#[async_trait]
impl PipelineRuntime for PgPipelineRuntime {
    #[tracing::instrument(skip(self, progress), fields(phase = %progress.phase), err(level = "info"))]
    async fn report(
        &self,
        pipeline: PipelineId,
        progress: &PipelineProgress,
    ) -> Result<(), RuntimeError> {
        let doing = Doing::new("reporting a pipeline's progress").pipeline(pipeline);
        with_conn(&self.pool, doing, async |conn| {
            diesel::sql_query(REPORT)
                .bind::<BigInt, _>(pipeline.get())
                .bind::<Text, _>(progress.phase.as_str())
                .bind::<Nullable<Text>, _>(progress.owner.as_deref())
                .bind::<Nullable<BigInt>, _>(progress.confirmed_lsn.map(|l| count(l.get())))
                .bind::<Nullable<BigInt>, _>(progress.lag_bytes.map(count))
                .bind::<Nullable<Double>, _>(progress.lag.map(|lag| lag.as_secs_f64()))
                .bind::<BigInt, _>(count(progress.rows_copied))
                .bind::<BigInt, _>(count(progress.changes_applied))
                .bind::<Nullable<Timestamptz>, _>(progress.last_commit_at)
                .bind::<Timestamptz, _>(progress.updated_at)
                .execute(conn)
                .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self, progress), err(level = "info"))]
    async fn sample(
        &self,
        pipeline: PipelineId,
        progress: &PipelineProgress,
    ) -> Result<(), RuntimeError> {
        let doing = Doing::new("sampling a pipeline's progress").pipeline(pipeline);
        with_conn(&self.pool, doing, async |conn| {
            diesel::sql_query(SAMPLE)
                .bind::<BigInt, _>(pipeline.get())
                .bind::<Timestamptz, _>(progress.updated_at)
                .bind::<Nullable<BigInt>, _>(progress.lag_bytes.map(count))
                .bind::<Nullable<Double>, _>(progress.lag.map(|lag| lag.as_secs_f64()))
                .bind::<BigInt, _>(count(progress.rows_copied))
                .bind::<BigInt, _>(count(progress.changes_applied))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn series(
        &self,
        pipeline: PipelineId,
        query: PipelineSeriesQuery,
        bucket: WalBucket,
    ) -> Result<Vec<PipelineSeriesPoint>, RuntimeError> {
        let doing = Doing::new("summarizing a pipeline's samples");
        let rows: Vec<SeriesRow> = with_conn(&self.pool, doing, async |conn| {
            Ok(diesel::sql_query(SERIES)
                .bind::<BigInt, _>(pipeline.get())
                .bind::<Nullable<Timestamptz>, _>(query.from)
                .bind::<Nullable<Timestamptz>, _>(query.to)
                .bind::<Double, _>(bucket.seconds() as f64)
                .bind::<BigInt, _>(i64::from(query.limit.get()))
                .load(conn)
                .await?)
        })
        .await?;
        Ok(rows.into_iter().map(PipelineSeriesPoint::from).collect())
    }

    #[tracing::instrument(skip(self, tables), fields(tables = tables.len()), err(level = "info"))]
    async fn report_tables(
        &self,
        pipeline: PipelineId,
        tables: &[TableProgress],
    ) -> Result<(), RuntimeError> {
        let doing = Doing::new("reporting a pipeline's tables").pipeline(pipeline);
        let schemas: Vec<&str> = tables.iter().map(|t| t.table.schema.as_str()).collect();
        let names: Vec<&str> = tables.iter().map(|t| t.table.name.as_str()).collect();
        let states: Vec<&str> = tables.iter().map(|t| t.state.as_str()).collect();
        let rows: Vec<i64> = tables.iter().map(|t| count(t.rows_copied)).collect();
        let errors: Vec<Option<&str>> = tables.iter().map(|t| t.error.as_deref()).collect();
        let times: Vec<DateTime<Utc>> = tables.iter().map(|t| t.updated_at).collect();
        with_conn(&self.pool, doing, async |conn| {
            diesel::sql_query(REPORT_TABLES)
                .bind::<BigInt, _>(pipeline.get())
                .bind::<Array<Text>, _>(&schemas)
                .bind::<Array<Text>, _>(&names)
                .bind::<Array<Text>, _>(&states)
                .bind::<Array<BigInt>, _>(&rows)
                .bind::<Array<Nullable<Text>>, _>(&errors)
                .bind::<Array<Timestamptz>, _>(&times)
                .execute(conn)
                .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    // The error may quote what a server said; it never holds a secret, but keep it at info.
    #[tracing::instrument(skip(self, error), err(level = "info"))]
    async fn fail(
        &self,
        pipeline: PipelineId,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<(), RuntimeError> {
        let doing = Doing::new("recording a pipeline's failure").pipeline(pipeline);
        with_conn(&self.pool, doing, async |conn| {
            diesel::sql_query(FAIL)
                .bind::<BigInt, _>(pipeline.get())
                .bind::<Text, _>(error)
                .bind::<Timestamptz, _>(at)
                .get_result::<Returned>(conn)
                .await
                .map_err(DbError::from)?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn progress(
        &self,
        pipeline: PipelineId,
    ) -> Result<Option<PipelineProgress>, RuntimeError> {
        let doing = Doing::new("reading a pipeline's progress");
        let row = with_conn(&self.pool, doing, async |conn| {
            Ok(pipeline_runtime::table
                .find(pipeline.get())
                .select(RuntimeRow::as_select())
                .first(conn)
                .await
                .optional()?)
        })
        .await?;
        Ok(row.map(RuntimeRow::into_progress).transpose()?)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn tables(&self, pipeline: PipelineId) -> Result<Vec<TableProgress>, RuntimeError> {
        let doing = Doing::new("reading a pipeline's tables");
        let rows = with_conn(&self.pool, doing, async |conn| {
            Ok(pipeline_tables::table
                .filter(pipeline_tables::pipeline_id.eq(pipeline.get()))
                .order((pipeline_tables::schema_name, pipeline_tables::table_name))
                .select(TableRow::as_select())
                .load(conn)
                .await?)
        })
        .await?;
        Ok(rows
            .into_iter()
            .map(TableRow::into_progress)
            .collect::<anyhow::Result<_>>()?)
    }
}
