//! Pipeline leases in `pipeline_leases`: which replicator runs each pipeline, on the metadata
//! database's clock, so that replicators with drifting clocks still agree.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Double, Text, Timestamptz};
use diesel::OptionalExtension;
use diesel_async::RunQueryDsl;
use rosetta_domain::ports::{Lease, LeaseError, PipelineLeases};
use rosetta_domain::PipelineId;

use crate::conn::with_conn;
use crate::errors::{DbError, Doing};
use crate::DbPool;

/// The leases of pipelines, stored in the metadata database.
#[derive(Clone)]
pub struct PgPipelineLeases {
    pool: DbPool,
}

impl PgPipelineLeases {
    /// Leases drawing connections from `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }
}

#[derive(diesel::QueryableByName)]
struct LeaseRow {
    #[diesel(sql_type = BigInt)]
    pipeline_id: i64,
    #[diesel(sql_type = Text)]
    owner: String,
    #[diesel(sql_type = BigInt)]
    epoch: i64,
    #[diesel(sql_type = Timestamptz)]
    expires_at: DateTime<Utc>,
}

/// Takes a free or lapsed lease, or renews the owner's own; the epoch moves on whenever the
/// lease was not the owner's live lease (a takeover, or the owner's own lapsed or released
/// lease), so every run of a pipeline has an epoch of its own. A lease held by another owner
/// and not lapsed is left alone: no row comes back. A pipeline that does not exist (any more)
/// fails the foreign key.
const ACQUIRE: &str = "\
INSERT INTO pipeline_leases AS l (pipeline_id, owner, epoch, expires_at)
VALUES ($1, $2, 1, now() + make_interval(secs => $3))
ON CONFLICT (pipeline_id) DO UPDATE
    SET owner = EXCLUDED.owner,
        epoch = l.epoch + CASE WHEN l.owner = EXCLUDED.owner AND l.expires_at > now()
                               THEN 0 ELSE 1 END,
        expires_at = EXCLUDED.expires_at,
        acquired_at = CASE WHEN l.owner = EXCLUDED.owner AND l.expires_at > now()
                           THEN l.acquired_at ELSE now() END
    WHERE l.owner = EXCLUDED.owner OR l.expires_at <= now()
RETURNING pipeline_id, owner, epoch, expires_at";

/// Lets a lease lapse now, keeping its row (and so its epoch).
const RELEASE: &str = "\
UPDATE pipeline_leases SET expires_at = now() - interval '1 microsecond'
WHERE pipeline_id = $1 AND owner = $2 AND expires_at > now()";

/// Renews the replicator's heartbeat and counts the replicators alive, in one statement (the
/// count sees the table as it was before the upsert, so it counts `owner` apart).
const HEARTBEAT: &str = "\
WITH beat AS (
    INSERT INTO replicators AS r (owner, expires_at) VALUES ($1, now() + make_interval(secs => $2))
    ON CONFLICT (owner) DO UPDATE SET expires_at = EXCLUDED.expires_at
    RETURNING owner
)
SELECT (SELECT count(*) FROM replicators WHERE expires_at > now() AND owner <> $1) + 1 AS alive";

#[derive(diesel::QueryableByName)]
struct Alive {
    #[diesel(sql_type = BigInt)]
    alive: i64,
}

#[async_trait]
impl PipelineLeases for PgPipelineLeases {
    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn acquire(
        &self,
        pipeline: PipelineId,
        owner: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, LeaseError> {
        let doing = Doing::new("acquiring a pipeline lease").pipeline(pipeline);
        let row = with_conn(&self.pool, doing, async |conn| {
            let outcome = diesel::sql_query(ACQUIRE)
                .bind::<BigInt, _>(pipeline.get())
                .bind::<Text, _>(owner)
                .bind::<Double, _>(ttl.as_secs_f64())
                .get_result::<LeaseRow>(conn)
                .await
                .optional()
                .map_err(DbError::from);
            match outcome {
                // The pipeline is gone: nobody may run it.
                Err(DbError::ForeignKey(_)) => Ok(None),
                other => other,
            }
        })
        .await?;
        row.map(|row| {
            Ok(Lease {
                pipeline: PipelineId::new(row.pipeline_id),
                owner: row.owner,
                epoch: u64::try_from(row.epoch)
                    .map_err(|_| anyhow::anyhow!("negative lease epoch {}", row.epoch))?,
                expires_at: row.expires_at,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn release(&self, pipeline: PipelineId, owner: &str) -> Result<(), LeaseError> {
        let doing = Doing::new("releasing a pipeline lease").pipeline(pipeline);
        with_conn(&self.pool, doing, async |conn| {
            diesel::sql_query(RELEASE)
                .bind::<BigInt, _>(pipeline.get())
                .bind::<Text, _>(owner)
                .execute(conn)
                .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn heartbeat(&self, owner: &str, ttl: Duration) -> Result<usize, LeaseError> {
        let doing = Doing::new("renewing the replicator's heartbeat");
        let alive = with_conn(&self.pool, doing, async |conn| {
            Ok(diesel::sql_query(HEARTBEAT)
                .bind::<Text, _>(owner)
                .bind::<Double, _>(ttl.as_secs_f64())
                .get_result::<Alive>(conn)
                .await?)
        })
        .await?;
        Ok(usize::try_from(alive.alive).unwrap_or(1).max(1))
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn leave(&self, owner: &str) -> Result<(), LeaseError> {
        let doing = Doing::new("removing the replicator's heartbeat");
        with_conn(&self.pool, doing, async |conn| {
            diesel::sql_query(
                "DELETE FROM replicators WHERE owner = $1 OR expires_at < now() - interval '1 day'",
            )
            .bind::<Text, _>(owner)
            .execute(conn)
            .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}
