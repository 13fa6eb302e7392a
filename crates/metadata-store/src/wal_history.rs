//! The WAL history of sources on PostgreSQL: `wal_metrics` and `wal_slot_samples`, the samples
//! each successful probe leaves, and `source_probe_status`, each source's latest probe outcome.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Timestamptz};
use diesel_async::RunQueryDsl;
use rosetta_domain::ports::{WalHistory, WalHistoryError};
use rosetta_domain::{
    ProbeStatus, SourceId, WalBucket, WalMetric, WalMetricId, WalMetricQuery, WalReading,
    WalSeriesPoint,
};

use crate::conn::with_conn;
use crate::errors::Doing;
use crate::probe_statements::{RecordFailure, RecordSuccess};
use crate::schema::{source_probe_status, wal_metrics};
use crate::{stored_reading, DbPool};

/// The WAL history of sources, in `wal_metrics`, `wal_slot_samples` and `source_probe_status`.
#[derive(Clone)]
pub struct PgWalHistory {
    pool: DbPool,
}

impl PgWalHistory {
    /// A history drawing connections from `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = wal_metrics, check_for_backend(diesel::pg::Pg))]
struct WalMetricRow {
    id: i64,
    source_id: i64,
    size_bytes: i64,
    recorded_at: DateTime<Utc>,
}

impl From<WalMetricRow> for WalMetric {
    fn from(row: WalMetricRow) -> Self {
        Self {
            id: WalMetricId::new(row.id),
            source_id: SourceId::new(row.source_id),
            size_bytes: row.size_bytes,
            recorded_at: row.recorded_at,
        }
    }
}

#[derive(QueryableByName)]
struct SeriesRow {
    #[diesel(sql_type = Timestamptz)]
    bucket_start: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    min_bytes: i64,
    #[diesel(sql_type = BigInt)]
    max_bytes: i64,
    #[diesel(sql_type = Double)]
    avg_bytes: f64,
    #[diesel(sql_type = BigInt)]
    last_bytes: i64,
    #[diesel(sql_type = BigInt)]
    samples: i64,
}

impl From<SeriesRow> for WalSeriesPoint {
    fn from(row: SeriesRow) -> Self {
        Self {
            bucket_start: row.bucket_start,
            min_bytes: row.min_bytes,
            max_bytes: row.max_bytes,
            avg_bytes: row.avg_bytes,
            last_bytes: row.last_bytes,
            samples: row.samples,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = source_probe_status, check_for_backend(diesel::pg::Pg))]
struct StatusRow {
    source_id: i64,
    probed_at: DateTime<Utc>,
    error: Option<String>,
    consecutive_failures: i32,
    last_success_at: Option<DateTime<Utc>>,
    last_reading: Option<serde_json::Value>,
}

impl TryFrom<StatusRow> for ProbeStatus {
    type Error = anyhow::Error;

    fn try_from(row: StatusRow) -> Result<Self, Self::Error> {
        Ok(Self {
            source_id: SourceId::new(row.source_id),
            probed_at: row.probed_at,
            error: row.error,
            consecutive_failures: row.consecutive_failures,
            last_success_at: row.last_success_at,
            last_reading: row
                .last_reading
                .map(stored_reading::from_json)
                .transpose()?,
        })
    }
}

#[derive(QueryableByName)]
struct Deleted {
    #[diesel(sql_type = BigInt)]
    deleted: i64,
}

#[async_trait]
impl WalHistory for PgWalHistory {
    #[tracing::instrument(
        skip(self, reading),
        fields(slots = reading.slots.len()),
        err(level = "info")
    )]
    async fn record_success(
        &self,
        source_id: SourceId,
        reading: &WalReading,
    ) -> Result<(), WalHistoryError> {
        let query = RecordSuccess {
            source_id: source_id.get(),
            position_bytes: reading.position_bytes,
            read_at: reading.read_at,
            reading: stored_reading::to_json(reading)?,
        };
        let doing = Doing::new("recording a successful probe").source(source_id);
        with_conn(&self.pool, doing, async |conn| {
            Ok(query.execute(conn).await?)
        })
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn record_failure(
        &self,
        source_id: SourceId,
        failed_at: DateTime<Utc>,
        error: &str,
    ) -> Result<Option<DateTime<Utc>>, WalHistoryError> {
        let query = RecordFailure {
            source_id: source_id.get(),
            failed_at,
            error: error.to_owned(),
        };
        let doing = Doing::new("recording a failed probe").source(source_id);
        Ok(with_conn(&self.pool, doing, async |conn| {
            Ok(query.get_result(conn).await?)
        })
        .await?)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn status(&self, source_id: SourceId) -> Result<Option<ProbeStatus>, WalHistoryError> {
        let doing = Doing::new("reading a source's probe status");
        let row = with_conn(&self.pool, doing, async |conn| {
            Ok(source_probe_status::table
                .find(source_id.get())
                .select(StatusRow::as_select())
                .first(conn)
                .await
                .optional()?)
        })
        .await?;
        Ok(row.map(ProbeStatus::try_from).transpose()?)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn prune(&self, cutoff: DateTime<Utc>) -> Result<u64, WalHistoryError> {
        let doing = Doing::new("pruning old WAL, slot and pipeline samples");
        let pruned: Deleted = with_conn(&self.pool, doing, async |conn| {
            // One statement, so that the tables are pruned together or not at all.
            Ok(diesel::sql_query(
                "WITH metrics AS (DELETE FROM wal_metrics WHERE recorded_at < $1 RETURNING 1),
                      slots AS (DELETE FROM wal_slot_samples WHERE recorded_at < $1 RETURNING 1),
                      pipelines AS (DELETE FROM pipeline_samples WHERE sampled_at < $1 RETURNING 1)
                 SELECT (SELECT count(*) FROM metrics) + (SELECT count(*) FROM slots)
                        + (SELECT count(*) FROM pipelines) AS deleted",
            )
            .bind::<Timestamptz, _>(cutoff)
            .get_result(conn)
            .await?)
        })
        .await?;
        Ok(u64::try_from(pruned.deleted).unwrap_or_default())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn list(&self, query: WalMetricQuery) -> Result<Vec<WalMetric>, WalHistoryError> {
        let rows = with_conn(
            &self.pool,
            Doing::new("listing WAL samples"),
            async |conn| {
                let mut select = wal_metrics::table
                    .order((wal_metrics::recorded_at.desc(), wal_metrics::id.desc()))
                    .limit(query.limit.get().into())
                    .select(WalMetricRow::as_select())
                    .into_boxed();
                if let Some(source) = query.source_id {
                    select = select.filter(wal_metrics::source_id.eq(source.get()));
                }
                if let Some(from) = query.from {
                    select = select.filter(wal_metrics::recorded_at.ge(from));
                }
                if let Some(to) = query.to {
                    select = select.filter(wal_metrics::recorded_at.lt(to));
                }
                Ok(select.load(conn).await?)
            },
        )
        .await?;
        Ok(rows.into_iter().map(WalMetric::from).collect())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn series(
        &self,
        query: WalMetricQuery,
        bucket: WalBucket,
    ) -> Result<Vec<WalSeriesPoint>, WalHistoryError> {
        let doing = Doing::new("summarizing WAL samples");
        let rows: Vec<SeriesRow> = with_conn(&self.pool, doing, async |conn| {
            // NULL filters match everything, so that one statement serves every query.
            Ok(diesel::sql_query(
                "SELECT date_bin(make_interval(secs => $1), recorded_at,
                                 TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
                        min(size_bytes) AS min_bytes,
                        max(size_bytes) AS max_bytes,
                        avg(size_bytes)::float8 AS avg_bytes,
                        (array_agg(size_bytes ORDER BY recorded_at DESC, id DESC))[1] AS last_bytes,
                        count(*) AS samples
                 FROM wal_metrics
                 WHERE ($2::bigint IS NULL OR source_id = $2)
                   AND ($3::timestamptz IS NULL OR recorded_at >= $3)
                   AND ($4::timestamptz IS NULL OR recorded_at < $4)
                 GROUP BY 1
                 ORDER BY 1 DESC
                 LIMIT $5",
            )
            .bind::<Double, _>(bucket.seconds() as f64)
            .bind::<Nullable<BigInt>, _>(query.source_id.map(SourceId::get))
            .bind::<Nullable<Timestamptz>, _>(query.from)
            .bind::<Nullable<Timestamptz>, _>(query.to)
            .bind::<BigInt, _>(i64::from(query.limit.get()))
            .load(conn)
            .await?)
        })
        .await?;
        Ok(rows.into_iter().map(WalSeriesPoint::from).collect())
    }
}
