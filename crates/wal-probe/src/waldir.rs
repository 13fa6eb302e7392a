//! The size of the server's `pg_wal` directory, a figure the probe can do without.

use rosetta_domain::WalDirectory;
use tokio_postgres::{error::SqlState, Client};

/// Total size and count of the files in `pg_wal`.
///
/// A statement of its own, not a guarded branch of the reading statement: the server checks
/// the `EXECUTE` privilege on `pg_ls_waldir()` when the executor starts, whether or not a `CASE`
/// would reach the call, so a role without `pg_monitor` would lose the whole reading.
const WAL_DIRECTORY: &str = "\
SELECT coalesce(sum(size), 0)::int8 AS size_bytes,
       count(*)::int8 AS segments
  FROM pg_ls_waldir()";

/// The WAL directory, or `None` when this role may not list it (or listing it failed for any
/// other reason): it is one figure among many, and never fails the probe.
pub(crate) async fn read(client: &Client, host: &str) -> Option<WalDirectory> {
    let outcome = client.query_typed_one(WAL_DIRECTORY, &[]).await;
    let row = match outcome {
        Ok(row) => row,
        // The usual case of a role without pg_monitor: nothing worth a log line.
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => return None,
        Err(e) => {
            tracing::debug!(%host, error = %crate::error::reason(&e), "cannot list pg_wal");
            return None;
        }
    };
    match (row.try_get("size_bytes"), row.try_get("segments")) {
        (Ok(size_bytes), Ok(segments)) => Some(WalDirectory {
            size_bytes,
            segments,
        }),
        (Err(e), _) | (_, Err(e)) => {
            tracing::debug!(%host, error = %e, "cannot decode the pg_wal listing");
            None
        }
    }
}
