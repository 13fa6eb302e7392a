//! The SQL a probe runs, chosen by server version, and how its answer becomes a `WalReading`.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rosetta_domain::{ports::WalProbeError, RolePrivileges, Source, WalDirectory, WalReading};
use tokio_postgres::{
    types::{ToSql, Type},
    Client, Row,
};

use crate::{error, slots, waldir};

/// The reading statement, with the two `pg_replication_slots` columns that PostgreSQL 13 added
/// left to the caller: a PostgreSQL 12 server rejects a statement naming them.
///
/// Everything comes back in one row so that it costs one round trip:
/// - `pg_current_wal_lsn()` raises an error on a standby, hence the `CASE`: a standby reports the
///   position it has received, or, when it is not streaming (restoring from an archive), the
///   position it has replayed. Slots are measured against that same position.
/// - `pg_wal_lsn_diff` returns `numeric`, cast to `int8` so it decodes as `i64`.
/// - The slots are one JSON array, as a variable number of rows would need a statement of
///   their own.
/// - Settings come from `current_setting`, not the `pg_settings` view, which builds a row for
///   every setting of the server: a probe runs on a fresh backend with cold caches, and its
///   cost is mostly such catalog work. `max_slot_wal_keep_size` (shown with its unit, `10GB`)
///   does not exist before PostgreSQL 13, when `current_setting(…, true)` gives NULL, as `-1`
///   (unlimited) does through `nullif`. `is_superuser` is a setting too.
/// - The slots come from `pg_get_replication_slots()`, the function behind the
///   `pg_replication_slots` view (same column names), without the view's join to
///   `pg_database`: on a fresh backend that join cost about as much as the rest of the slots
///   part. Whether the source's own slot exists is read from this same list.
/// - `$1` is the publication.
macro_rules! reading_sql {
    ($wal_status:literal, $safe_wal_size:literal) => {
        concat!(
            "\
WITH position AS (
    SELECT CASE WHEN pg_is_in_recovery()
                THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
                ELSE pg_current_wal_lsn()
           END AS lsn
)
SELECT pg_is_in_recovery() AS in_recovery,
       current_setting('server_version_num')::int4 AS server_version_num,
       pg_wal_lsn_diff(position.lsn, '0/0')::int8 AS position_bytes,
       current_setting('wal_level') AS wal_level,
       current_setting('max_replication_slots')::int4 AS max_replication_slots,
       nullif(pg_size_bytes(current_setting('max_slot_wal_keep_size', true)), -1)
           AS max_slot_wal_keep_size_bytes,
       (SELECT coalesce(json_agg(json_build_object(
                   'name', s.slot_name,
                   'slot_type', s.slot_type,
                   'plugin', s.plugin,
                   'database', (SELECT datname FROM pg_database d WHERE d.oid = s.datoid),
                   'active', s.active,
                   'retained_bytes', pg_wal_lsn_diff(position.lsn, s.restart_lsn)::int8,
                   'unconfirmed_bytes', CASE WHEN s.slot_type = 'logical'
                       THEN pg_wal_lsn_diff(position.lsn, s.confirmed_flush_lsn)::int8
                   END,
                   'wal_status', ",
            $wal_status,
            ",
                   'safe_wal_size_bytes', ",
            $safe_wal_size,
            "
               ) ORDER BY s.slot_name), '[]')::text
          FROM pg_get_replication_slots() s) AS slots,
       EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1) AS publication_exists,
       current_setting('is_superuser') = 'on' AS superuser,
       coalesce((SELECT rolreplication FROM pg_roles WHERE rolname = current_user), false)
           AS replication,
       pg_has_role(current_user, 'pg_monitor', 'MEMBER') AS monitor
  FROM position"
        )
    };
}

/// PostgreSQL 13 and later.
const READING: &str = reading_sql!("s.wal_status", "s.safe_wal_size");

/// PostgreSQL 12, whose slots have neither `wal_status` nor `safe_wal_size`.
const READING_PG12: &str = reading_sql!("NULL::text", "NULL::int8");

/// The statement for a server of `major_version`. When the version is unknown, the one every
/// supported server accepts: a reading without `wal_status` beats a failed probe.
pub(crate) fn reading_sql(major_version: Option<i32>) -> &'static str {
    match major_version {
        Some(major) if major >= 13 => READING,
        Some(_) => READING_PG12,
        None => {
            tracing::debug!("server version unknown; reading slots as on PostgreSQL 12");
            READING_PG12
        }
    }
}

/// Reads everything about `source` on an open connection.
///
/// The reading statement and the WAL directory's are pipelined: `query_typed_one` sends parse,
/// bind, describe, execute and sync for an unnamed statement as soon as it is polled, so joining
/// the two sends both before either answer arrives — one round trip, no prepared statement left
/// on the server, and, each having its own sync, a failure of one leaves the other standing.
pub(crate) async fn read(
    client: &Client,
    major_version: Option<i32>,
    source: &Source,
    host: &str,
) -> Result<WalReading, WalProbeError> {
    let publication = source.publication_name.as_str();
    let params: [(&(dyn ToSql + Sync), Type); 1] = [(&publication, Type::TEXT)];
    let (row, wal_directory) = tokio::join!(
        client.query_typed_one(reading_sql(major_version), &params),
        waldir::read(client, host),
    );
    let row = row.map_err(|e| error::query(host, &e))?;
    Ok(decode(&row, Utc::now(), wal_directory, source)?)
}

/// The reading in `row`, completed with the WAL directory, which another statement read.
///
/// A decoding failure means the server answered in an unexpected shape (a NULL position), not
/// that it refused the query.
fn decode(
    row: &Row,
    read_at: DateTime<Utc>,
    wal_directory: Option<WalDirectory>,
    source: &Source,
) -> anyhow::Result<WalReading> {
    let slots = slots::decode(
        &row.try_get::<_, String>("slots")
            .context("decoding slots")?,
    )?;
    let slot_exists = slots.iter().any(|slot| source.owns_slot(&slot.name));
    Ok(WalReading {
        position_bytes: row
            .try_get("position_bytes")
            .context("decoding position_bytes")?,
        in_recovery: row.try_get("in_recovery").context("decoding in_recovery")?,
        server_version_num: row
            .try_get("server_version_num")
            .context("decoding server_version_num")?,
        read_at,
        wal_level: row.try_get("wal_level").context("decoding wal_level")?,
        max_replication_slots: row
            .try_get("max_replication_slots")
            .context("decoding max_replication_slots")?,
        max_slot_wal_keep_size_bytes: row
            .try_get("max_slot_wal_keep_size_bytes")
            .context("decoding max_slot_wal_keep_size_bytes")?,
        wal_directory,
        slots,
        publication_exists: row
            .try_get("publication_exists")
            .context("decoding publication_exists")?,
        slot_exists,
        privileges: RolePrivileges {
            superuser: row.try_get("superuser").context("decoding superuser")?,
            replication: row.try_get("replication").context("decoding replication")?,
            monitor: row.try_get("monitor").context("decoding monitor")?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_12_gets_nulls_for_the_columns_it_lacks() {
        assert_eq!(reading_sql(Some(12)), READING_PG12);
        assert!(!READING_PG12.contains("wal_status,"));
        assert!(!READING_PG12.contains("safe_wal_size,"));
        assert!(READING_PG12.contains("'wal_status', NULL::text"));
    }

    #[test]
    fn postgresql_13_and_later_read_the_slots_wal_status() {
        for major in [13, 15, 18] {
            assert_eq!(reading_sql(Some(major)), READING);
        }
        assert!(READING.contains("'wal_status', s.wal_status"));
        assert!(READING.contains("'safe_wal_size_bytes', s.safe_wal_size"));
    }

    #[test]
    fn an_unknown_version_gets_the_statement_every_server_accepts() {
        assert_eq!(reading_sql(None), READING_PG12);
    }
}
