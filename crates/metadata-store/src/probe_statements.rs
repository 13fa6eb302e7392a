//! The statements that keep probe outcomes, written as query types of their own.
//!
//! The WAL monitor records up to a thousand outcomes per cycle, so each must cost one round
//! trip. diesel-async prepares a `sql_query`, an upsert or an update again on every call (a
//! second round trip), but caches, per connection, the prepared statement of a query type with
//! a static id. Each statement here is such a type; its SQL must never vary with its values,
//! since the cache hands out the statement prepared for the type.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use diesel::QueryResult;

/// Keeps a successful probe in one statement: a WAL sample, one sample per slot and the
/// source's latest outcome. Data-modifying CTEs make it all or nothing without a transaction
/// (which would cost two more round trips); the slots are expanded from the reading's JSON with
/// `jsonb_to_recordset`, so their number does not change the SQL.
pub(crate) struct RecordSuccess {
    pub(crate) source_id: i64,
    pub(crate) position_bytes: i64,
    pub(crate) read_at: DateTime<Utc>,
    /// The reading as stored in `last_reading`; its `slots` become the slot samples.
    pub(crate) reading: serde_json::Value,
}

impl QueryId for RecordSuccess {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for RecordSuccess {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Each parameter is bound once, in `input`, and read from there.
        out.push_sql("WITH input AS (SELECT ");
        out.push_bind_param::<BigInt, _>(&self.source_id)?;
        out.push_sql("::int8 AS source_id, ");
        out.push_bind_param::<BigInt, _>(&self.position_bytes)?;
        out.push_sql("::int8 AS size_bytes, ");
        out.push_bind_param::<Timestamptz, _>(&self.read_at)?;
        out.push_sql("::timestamptz AS read_at, ");
        out.push_bind_param::<Jsonb, _>(&self.reading)?;
        out.push_sql(
            "::jsonb AS reading),
             metric AS (
                 INSERT INTO wal_metrics (source_id, size_bytes, recorded_at)
                 SELECT source_id, size_bytes, read_at FROM input),
             slots AS (
                 INSERT INTO wal_slot_samples (source_id, recorded_at, slot_name, slot_type, plugin,
                     database, active, retained_bytes, unconfirmed_bytes, wal_status,
                     safe_wal_size_bytes)
                 SELECT input.source_id, input.read_at, s.name, s.slot_type, s.plugin, s.database,
                     s.active, s.retained_bytes, s.unconfirmed_bytes, s.wal_status,
                     s.safe_wal_size_bytes
                 FROM input, jsonb_to_recordset(input.reading -> 'slots') AS s(
                     name text, slot_type text, plugin text, database text, active boolean,
                     retained_bytes int8, unconfirmed_bytes int8, wal_status text,
                     safe_wal_size_bytes int8))
             INSERT INTO source_probe_status (source_id, probed_at, error, consecutive_failures,
                 last_success_at, last_reading)
             SELECT source_id, read_at, NULL, 0, read_at, reading FROM input
             ON CONFLICT (source_id) DO UPDATE SET
                 probed_at = EXCLUDED.probed_at,
                 error = NULL,
                 consecutive_failures = 0,
                 last_success_at = EXCLUDED.last_success_at,
                 last_reading = EXCLUDED.last_reading",
        );
        Ok(())
    }
}

/// Keeps a failed probe: the error and one more consecutive failure (1 for a first probe); the
/// last success and its reading stay, since the verdict judges the slots by them meanwhile.
/// Returns the last success time kept, so the caller need not read the row back.
pub(crate) struct RecordFailure {
    pub(crate) source_id: i64,
    pub(crate) failed_at: DateTime<Utc>,
    pub(crate) error: String,
}

impl QueryId for RecordFailure {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for RecordFailure {
    type SqlType = Nullable<Timestamptz>;
}

impl QueryFragment<Pg> for RecordFailure {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO source_probe_status (source_id, probed_at, error, consecutive_failures)
             VALUES (",
        );
        out.push_bind_param::<BigInt, _>(&self.source_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamptz, _>(&self.failed_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.error)?;
        out.push_sql(
            ", 1)
             ON CONFLICT (source_id) DO UPDATE SET
                 probed_at = EXCLUDED.probed_at,
                 error = EXCLUDED.error,
                 consecutive_failures = source_probe_status.consecutive_failures + 1
             RETURNING last_success_at",
        );
        Ok(())
    }
}
