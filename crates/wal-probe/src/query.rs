//! The SQL a probe runs and how its answer becomes a `WalReading`.

use anyhow::Context as _;
use chrono::Utc;
use rosetta_domain::{ports::WalProbeError, WalReading};
use tokio_postgres::Client;

use crate::error;

/// Everything a probe reads, in a single statement so that it costs one round trip.
///
/// `pg_current_wal_lsn()` raises an error on a standby, hence the `CASE`: a standby reports the
/// position it has received, or, when it is not streaming (restoring from an archive), the
/// position it has replayed. `pg_wal_lsn_diff` returns `numeric`, cast to `bigint` so that it
/// decodes as `i64`.
const WAL_READING: &str = "\
SELECT pg_is_in_recovery() AS in_recovery,
       current_setting('server_version_num')::int4 AS server_version_num,
       CASE WHEN pg_is_in_recovery()
            THEN pg_wal_lsn_diff(coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), '0/0')
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')
       END::int8 AS position_bytes";

/// Runs [`WAL_READING`] on an open connection.
///
/// `query_typed_one` sends parse, bind, describe and execute together with an unnamed statement:
/// one round trip, and no prepared statement left on the server.
pub(crate) async fn read_wal(client: &Client, host: &str) -> Result<WalReading, WalProbeError> {
    let row = client
        .query_typed_one(WAL_READING, &[])
        .await
        .map_err(|e| error::query(host, &e))?;
    let read_at = Utc::now();
    // A decoding failure means the server answered in an unexpected shape (a NULL position), not
    // that it refused the query.
    let in_recovery = row.try_get("in_recovery").context("decoding in_recovery")?;
    let server_version_num = row
        .try_get("server_version_num")
        .context("decoding server_version_num")?;
    let position_bytes = row
        .try_get("position_bytes")
        .context("decoding position_bytes")?;
    Ok(WalReading {
        position_bytes,
        in_recovery,
        server_version_num,
        read_at,
    })
}
