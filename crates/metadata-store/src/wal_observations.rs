//! The store of what the WAL monitor observes, on PostgreSQL: `wal_metrics`, `wal_slot_samples`
//! and `source_probe_status`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::RunQueryDsl;
use rosetta_domain::ports::{WalObservationRepository, WalObservationRepositoryError};
use rosetta_domain::{ProbeStatus, SourceId, WalReading};

use crate::errors::{Context, DbError};
use crate::probe_statements::{RecordFailure, RecordSuccess};
use crate::schema::source_probe_status;
use crate::{stored_reading, DbPool};

/// What the WAL monitor observes, in `wal_metrics`, `wal_slot_samples` and
/// `source_probe_status`.
#[derive(Clone)]
pub struct PgWalObservationRepository {
    pool: DbPool,
}

impl PgWalObservationRepository {
    /// A repository drawing connections from `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
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

fn to_port_error(error: DbError, source: Option<SourceId>) -> WalObservationRepositoryError {
    match (error, source) {
        // Every foreign key of these tables points at `sources`.
        (DbError::ForeignKey(_), Some(id)) => WalObservationRepositoryError::SourceMissing(id),
        (DbError::Unavailable(e), _) => WalObservationRepositoryError::Unavailable(e),
        (DbError::Other(e), _) => WalObservationRepositoryError::Unknown(e),
        (other, _) => {
            WalObservationRepositoryError::Unknown(anyhow::anyhow!("unexpected: {other:?}"))
        }
    }
}

#[async_trait]
impl WalObservationRepository for PgWalObservationRepository {
    #[tracing::instrument(
        skip(self, reading),
        fields(slots = reading.slots.len()),
        err(level = "info")
    )]
    async fn record_success(
        &self,
        source_id: SourceId,
        reading: &WalReading,
    ) -> Result<(), WalObservationRepositoryError> {
        let query = RecordSuccess {
            source_id: source_id.get(),
            position_bytes: reading.position_bytes,
            read_at: reading.read_at,
            reading: stored_reading::to_json(reading)?,
        };
        let result: Result<usize, DbError> = async {
            let mut conn = self.pool.get().await?;
            Ok(query.execute(&mut conn).await?)
        }
        .await
        .while_doing("recording a successful probe");
        result.map_err(|e| to_port_error(e, Some(source_id)))?;
        Ok(())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn record_failure(
        &self,
        source_id: SourceId,
        failed_at: DateTime<Utc>,
        error: &str,
    ) -> Result<Option<DateTime<Utc>>, WalObservationRepositoryError> {
        let query = RecordFailure {
            source_id: source_id.get(),
            failed_at,
            error: error.to_owned(),
        };
        let result: Result<Option<DateTime<Utc>>, DbError> = async {
            let mut conn = self.pool.get().await?;
            Ok(query.get_result(&mut conn).await?)
        }
        .await
        .while_doing("recording a failed probe");
        result.map_err(|e| to_port_error(e, Some(source_id)))
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn status(
        &self,
        source_id: SourceId,
    ) -> Result<Option<ProbeStatus>, WalObservationRepositoryError> {
        let result: Result<Option<StatusRow>, DbError> = async {
            let mut conn = self.pool.get().await?;
            Ok(source_probe_status::table
                .find(source_id.get())
                .select(StatusRow::as_select())
                .first(&mut conn)
                .await
                .optional()?)
        }
        .await
        .while_doing("reading a source's probe status");
        let row = result.map_err(|e| to_port_error(e, None))?;
        Ok(row.map(ProbeStatus::try_from).transpose()?)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn prune(&self, cutoff: DateTime<Utc>) -> Result<u64, WalObservationRepositoryError> {
        let result: Result<Deleted, DbError> = async {
            let mut conn = self.pool.get().await?;
            // One statement, so that both tables are pruned or neither.
            Ok(diesel::sql_query(
                "WITH metrics AS (DELETE FROM wal_metrics WHERE recorded_at < $1 RETURNING 1),
                      slots AS (DELETE FROM wal_slot_samples WHERE recorded_at < $1 RETURNING 1)
                 SELECT (SELECT count(*) FROM metrics) + (SELECT count(*) FROM slots) AS deleted",
            )
            .bind::<Timestamptz, _>(cutoff)
            .get_result(&mut conn)
            .await?)
        }
        .await
        .while_doing("pruning old WAL and slot samples");
        let deleted = result.map_err(|e| to_port_error(e, None))?.deleted;
        Ok(u64::try_from(deleted).unwrap_or_default())
    }
}
