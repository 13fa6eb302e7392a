//! The claim on WAL monitor cycles shared by every instance on one metadata database: a
//! PostgreSQL session advisory lock, and the start of the last cycle in `wal_monitor_cycles`.
//!
//! While an instance runs a cycle, one of its pooled connections is set aside and its session
//! holds the advisory lock [`WAL_MONITOR_LOCK_KEY`]; other instances' `pg_try_advisory_lock`
//! fails and they skip the cycle. If the instance crashes or loses its connection, the server
//! ends the session and so releases the lock: no claim outlives its holder, and no lease or
//! timeout is needed. The start of each cycle is recorded with the database's clock (`now()`),
//! never an instance's, so that instances with drifting clocks still agree on the gap between
//! cycles.

use std::time::Duration;

use anyhow::anyhow;
use async_trait::async_trait;
use diesel::sql_types::{BigInt, Bool, Double};
use diesel::OptionalExtension;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rosetta_domain::ports::{MonitorLock, MonitorLockError};
use tokio::sync::Mutex;

use crate::errors::{Context, DbError, Doing};
use crate::schema::wal_monitor_cycles;
use crate::DbPool;

/// The key of the session advisory lock held while a WAL monitor cycle runs: the 64-bit FNV-1a
/// hash of the bytes of `rosetta-wal-monitor`, read as an `i64`.
///
/// Every version of Rosetta must use the same key, or two of them could run cycles at once
/// during a rolling deployment. It is `-4269665010435738577` (`0xc4bf1a4b6f10342f`); in
/// `pg_locks` it shows as an `advisory` lock with `classid` 3300858443 and `objid` 1863332911
/// (its high and low 32 bits) and `objsubid` 1.
pub const WAL_MONITOR_LOCK_KEY: i64 = fnv1a_64(b"rosetta-wal-monitor");

const fn fnv1a_64(bytes: &[u8]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    // The same 64 bits, read as the signed key PostgreSQL takes.
    i64::from_be_bytes(hash.to_be_bytes())
}

diesel::define_sql_function! {
    /// Takes a session advisory lock if it is free; never waits.
    fn pg_try_advisory_lock(key: BigInt) -> Bool;
}

diesel::define_sql_function! {
    /// Releases a session advisory lock; false (with a warning) when it was not held.
    fn pg_advisory_unlock(key: BigInt) -> Bool;
}

type PooledConnection = Object<AsyncPgConnection>;

/// A pooled connection whose session may hold the monitor lock.
///
/// Dropped, it closes its session instead of going back to the pool: a pooled session still
/// holding the lock would keep it for as long as the connection lives, and since advisory locks
/// are re-entrant within a session, whoever drew that connection next would "take" it again.
/// Only [`Session::release`], called once the lock is known to be free, returns the connection
/// to the pool. Closing on drop also covers a caller that abandons `try_begin_cycle` midway
/// (a timeout) and a [`PgMonitorLock`] dropped while it holds a claim.
struct Session {
    conn: Option<PooledConnection>,
}

impl Session {
    fn conn(&mut self) -> Result<&mut AsyncPgConnection, DbError> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| DbError::Other(anyhow!("the monitor lock's session is gone")))
    }

    /// Gives the connection back to the pool; only when its session holds no lock.
    fn release(mut self) {
        drop(self.conn.take());
    }

    /// Releases the lock; the connection goes back to the pool only if the server confirms.
    async fn unlock(mut self) -> Result<(), DbError> {
        let unlocked = diesel::select(pg_advisory_unlock(WAL_MONITOR_LOCK_KEY))
            .get_result::<bool>(self.conn()?)
            .await;
        match unlocked {
            Ok(true) => {
                self.release();
                Ok(())
            }
            // The lock was not held: nothing is wrong for others, but this session is not
            // what it was believed to be, so it is closed rather than reused.
            Ok(false) => {
                tracing::warn!("the WAL monitor lock was not held by its session");
                Ok(())
            }
            // Dropping `self` closes the session, which releases the lock in any case.
            Err(e) => Err(DbError::from(e)),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Detached from the pool, the connection is closed when dropped, and the server
            // releases every lock its session held.
            drop(Object::take(conn));
        }
    }
}

/// The WAL monitor's claim on cycles, through the metadata database.
///
/// While it holds a claim it keeps one connection out of `pool`.
pub struct PgMonitorLock {
    pool: DbPool,
    /// The session holding the advisory lock, between a successful `try_begin_cycle` and
    /// `finish_cycle`.
    held: Mutex<Option<Session>>,
}

impl PgMonitorLock {
    /// A lock drawing its connection from `pool`.
    pub fn new(pool: DbPool) -> Self {
        Self {
            pool,
            held: Mutex::new(None),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Bool)]
    claimed: bool,
}

/// Records the start of a cycle unless the last one began less than `min_gap` ago (by the
/// database's clock); says whether it did. Runs under the advisory lock, so nobody races it.
async fn claim_cycle(conn: &mut AsyncPgConnection, min_gap: Duration) -> Result<bool, DbError> {
    let claimed: Option<Claimed> = diesel::sql_query(
        "INSERT INTO wal_monitor_cycles (id, started_at, finished_at) VALUES (1, now(), NULL)
         ON CONFLICT (id) DO UPDATE SET started_at = EXCLUDED.started_at, finished_at = NULL
         WHERE wal_monitor_cycles.started_at <= now() - make_interval(secs => $1)
         RETURNING true AS claimed",
    )
    .bind::<Double, _>(min_gap.as_secs_f64())
    .get_result(conn)
    .await
    .optional()?;
    Ok(claimed.is_some_and(|c| c.claimed))
}

#[async_trait]
impl MonitorLock for PgMonitorLock {
    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn try_begin_cycle(&self, min_gap: Duration) -> Result<bool, MonitorLockError> {
        let mut held = self.held.lock().await;
        if held.is_some() {
            // This instance's own cycle is still running.
            return Ok(false);
        }
        let result: Result<Option<Session>, DbError> = async {
            let mut session = Session {
                conn: Some(self.pool.get().await?),
            };
            let acquired = diesel::select(pg_try_advisory_lock(WAL_MONITOR_LOCK_KEY))
                .get_result::<bool>(session.conn()?)
                .await?;
            if !acquired {
                session.release();
                return Ok(None);
            }
            // On an error here `session` is dropped, closing it and releasing the lock.
            if claim_cycle(session.conn()?, min_gap).await? {
                Ok(Some(session))
            } else {
                session.unlock().await?;
                Ok(None)
            }
        }
        .await;
        let claimed = result.while_doing(Doing::new("claiming a WAL monitor cycle"))?;
        let began = claimed.is_some();
        *held = claimed;
        tracing::debug!(began, "WAL monitor cycle claim");
        Ok(began)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn finish_cycle(&self) -> Result<(), MonitorLockError> {
        let mut held = self.held.lock().await;
        let Some(mut session) = held.take() else {
            return Ok(());
        };
        let recorded: Result<usize, DbError> = async {
            use diesel::ExpressionMethods;
            let conn = session.conn()?;
            Ok(diesel::update(wal_monitor_cycles::table)
                .set(wal_monitor_cycles::finished_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?)
        }
        .await;
        // Unlock even when the end could not be recorded: the claim must go either way.
        let unlocked = session.unlock().await;
        recorded.while_doing(Doing::new("recording the end of a WAL monitor cycle"))?;
        Ok(unlocked.while_doing(Doing::new("releasing the WAL monitor lock"))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_key_never_changes_between_versions() {
        assert_eq!(WAL_MONITOR_LOCK_KEY, -4_269_665_010_435_738_577);
        assert_eq!(
            WAL_MONITOR_LOCK_KEY.to_be_bytes(),
            0xc4bf_1a4b_6f10_342f_u64.to_be_bytes()
        );
    }
}
