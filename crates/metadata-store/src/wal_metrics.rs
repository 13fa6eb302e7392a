//! The WAL sample repository on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Timestamptz};
use diesel_async::RunQueryDsl;
use rosetta_domain::ports::{WalMetricRepository, WalMetricRepositoryError};
use rosetta_domain::{
    NewWalMetric, SourceId, WalBucket, WalMetric, WalMetricId, WalMetricQuery, WalSeriesPoint,
};

use crate::errors::{Context, DbError};
use crate::schema::wal_metrics;
use crate::DbPool;

/// WAL samples stored in `wal_metrics`.
#[derive(Clone)]
pub struct PgWalMetricRepository {
    pool: DbPool,
}

impl PgWalMetricRepository {
    /// A repository drawing connections from `pool`.
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

fn to_port_error(error: DbError, source: Option<SourceId>) -> WalMetricRepositoryError {
    match (error, source) {
        (DbError::ForeignKey(_), Some(id)) => WalMetricRepositoryError::SourceMissing(id),
        (DbError::Unavailable(e), _) => WalMetricRepositoryError::Unavailable(e),
        (DbError::Other(e), _) => WalMetricRepositoryError::Unknown(e),
        (other, _) => WalMetricRepositoryError::Unknown(anyhow::anyhow!("unexpected: {other:?}")),
    }
}

#[async_trait]
impl WalMetricRepository for PgWalMetricRepository {
    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn record(&self, metric: NewWalMetric) -> Result<WalMetric, WalMetricRepositoryError> {
        let result: Result<WalMetricRow, DbError> = async {
            let mut conn = self.pool.get().await?;
            Ok(diesel::insert_into(wal_metrics::table)
                .values((
                    wal_metrics::source_id.eq(metric.source_id.get()),
                    wal_metrics::size_bytes.eq(metric.size_bytes),
                    wal_metrics::recorded_at.eq(metric.recorded_at),
                ))
                .returning(WalMetricRow::as_returning())
                .get_result(&mut conn)
                .await?)
        }
        .await
        .while_doing("recording a WAL sample");
        Ok(result
            .map_err(|e| to_port_error(e, Some(metric.source_id)))?
            .into())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn list(
        &self,
        query: WalMetricQuery,
    ) -> Result<Vec<WalMetric>, WalMetricRepositoryError> {
        let result: Result<Vec<WalMetricRow>, DbError> = async {
            let mut conn = self.pool.get().await?;
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
            Ok(select.load(&mut conn).await?)
        }
        .await
        .while_doing("listing WAL samples");
        let rows = result.map_err(|e| to_port_error(e, None))?;
        Ok(rows.into_iter().map(WalMetric::from).collect())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn series(
        &self,
        query: WalMetricQuery,
        bucket: WalBucket,
    ) -> Result<Vec<WalSeriesPoint>, WalMetricRepositoryError> {
        let result: Result<Vec<SeriesRow>, DbError> = async {
            let mut conn = self.pool.get().await?;
            // NULL filters match everything, so that one statement serves every query.
            let rows = diesel::sql_query(
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
            .load(&mut conn)
            .await?;
            Ok(rows)
        }
        .await
        .while_doing("summarizing WAL samples");
        let rows = result.map_err(|e| to_port_error(e, None))?;
        Ok(rows.into_iter().map(WalSeriesPoint::from).collect())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, WalMetricRepositoryError> {
        let result: Result<usize, DbError> = async {
            let mut conn = self.pool.get().await?;
            Ok(
                diesel::delete(wal_metrics::table.filter(wal_metrics::recorded_at.lt(cutoff)))
                    .execute(&mut conn)
                    .await?,
            )
        }
        .await
        .while_doing("deleting old WAL samples");
        let deleted = result.map_err(|e| to_port_error(e, None))?;
        Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
    }
}
