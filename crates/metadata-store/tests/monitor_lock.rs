//! The WAL monitor's claim on cycles against a real PostgreSQL, with instances played by
//! separate pools on one database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Bool, Nullable, Timestamptz};
use diesel_async::RunQueryDsl;
use rosetta_domain::ports::MonitorLock;
use rosetta_metadata_store::{DbPool, PgMonitorLock, WAL_MONITOR_LOCK_KEY};
use rosetta_test_support::TestDb;

const HOUR: Duration = Duration::from_secs(3600);

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Sessions holding the monitor lock in this test's database (advisory locks are per database,
/// so tests running in parallel do not see each other's).
async fn lock_holders(pool: &DbPool) -> i64 {
    let mut conn = pool.get().await.unwrap();
    let count: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_locks
         WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND classid::int8 = ($1 >> 32) & 4294967295
           AND objid::int8 = $1 & 4294967295
           AND objsubid = 1",
    )
    .bind::<BigInt, _>(WAL_MONITOR_LOCK_KEY)
    .get_result(&mut conn)
    .await
    .unwrap();
    count.n
}

#[derive(diesel::QueryableByName, Debug)]
struct Cycle {
    #[diesel(sql_type = Timestamptz)]
    started_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    finished_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    started_within_a_minute: bool,
}

async fn cycles(pool: &DbPool) -> Vec<Cycle> {
    let mut conn = pool.get().await.unwrap();
    diesel::sql_query(
        "SELECT started_at, finished_at,
                started_at > now() - interval '1 minute' AS started_within_a_minute
         FROM wal_monitor_cycles",
    )
    .load(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn only_one_instance_runs_a_cycle_and_the_next_waits_for_the_gap() {
    let db = TestDb::new().await;
    let a = PgMonitorLock::new(db.pool());
    let b = PgMonitorLock::new(db.pool());

    assert!(a.try_begin_cycle(Duration::ZERO).await.unwrap());
    assert!(!b.try_begin_cycle(Duration::ZERO).await.unwrap());
    assert!(
        !a.try_begin_cycle(Duration::ZERO).await.unwrap(),
        "a cycle of A's own is still running"
    );
    a.finish_cycle().await.unwrap();

    assert!(
        !b.try_begin_cycle(HOUR).await.unwrap(),
        "A's cycle began less than an hour ago"
    );
    assert!(b.try_begin_cycle(Duration::ZERO).await.unwrap());
    assert!(!a.try_begin_cycle(Duration::ZERO).await.unwrap());
    b.finish_cycle().await.unwrap();
}

#[tokio::test]
async fn a_cycle_is_recorded_by_the_database_clock_from_start_to_end() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let lock = PgMonitorLock::new(db.pool());
    assert!(cycles(&pool).await.is_empty());

    assert!(lock.try_begin_cycle(HOUR).await.unwrap());
    let running = cycles(&pool).await;
    assert_eq!(running.len(), 1);
    assert!(running[0].started_within_a_minute, "{running:?}");
    assert_eq!(running[0].finished_at, None);

    lock.finish_cycle().await.unwrap();
    let done = cycles(&pool).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].started_at, running[0].started_at);
    assert!(done[0]
        .finished_at
        .is_some_and(|end| end >= done[0].started_at));

    // The gap counts from the start of the last cycle, whoever ran it.
    assert!(!lock.try_begin_cycle(HOUR).await.unwrap());
    assert_eq!(cycles(&pool).await[0].started_at, running[0].started_at);
    assert!(lock.try_begin_cycle(Duration::ZERO).await.unwrap());
    let again = cycles(&pool).await;
    assert!(again[0].started_at > running[0].started_at);
    assert_eq!(again[0].finished_at, None);
    lock.finish_cycle().await.unwrap();
}

#[tokio::test]
async fn finishing_without_a_claim_does_nothing() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let a = PgMonitorLock::new(db.pool());
    let b = PgMonitorLock::new(db.pool());

    b.finish_cycle().await.unwrap();
    assert!(cycles(&pool).await.is_empty());

    assert!(a.try_begin_cycle(Duration::ZERO).await.unwrap());
    assert!(!b.try_begin_cycle(Duration::ZERO).await.unwrap());
    // B never held the claim, so its finish must leave A's alone.
    b.finish_cycle().await.unwrap();
    assert_eq!(lock_holders(&pool).await, 1);
    assert_eq!(cycles(&pool).await[0].finished_at, None);
    assert!(!b.try_begin_cycle(Duration::ZERO).await.unwrap());

    a.finish_cycle().await.unwrap();
    a.finish_cycle().await.unwrap();
    assert_eq!(lock_holders(&pool).await, 0);
}

#[tokio::test]
async fn the_advisory_lock_is_held_during_a_cycle_and_free_after_it() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let lock = PgMonitorLock::new(pool.clone());
    assert_eq!(lock_holders(&pool).await, 0);
    for _ in 0..3 {
        assert!(lock.try_begin_cycle(Duration::ZERO).await.unwrap());
        assert_eq!(lock_holders(&pool).await, 1);
        lock.finish_cycle().await.unwrap();
        // The connection went back to the pool without the lock.
        assert_eq!(lock_holders(&pool).await, 0);
    }
    // Declined claims leave no lock behind either.
    assert!(lock.try_begin_cycle(Duration::ZERO).await.unwrap());
    lock.finish_cycle().await.unwrap();
    assert!(!lock.try_begin_cycle(HOUR).await.unwrap());
    assert_eq!(lock_holders(&pool).await, 0);
}

#[tokio::test]
async fn an_instance_that_goes_away_while_holding_the_lock_releases_it() {
    let db = TestDb::new().await;
    let observer = db.pool();
    let b = PgMonitorLock::new(db.pool());

    // The instance drops its lock with the claim held, and then its pool, as a crash would.
    let pool_a = db.pool();
    let a = PgMonitorLock::new(pool_a.clone());
    assert!(a.try_begin_cycle(Duration::ZERO).await.unwrap());
    assert!(!b.try_begin_cycle(Duration::ZERO).await.unwrap());
    drop(a);
    drop(pool_a);

    // The server releases the lock once it sees the session end, which takes a moment.
    let mut began = false;
    for _ in 0..100 {
        if b.try_begin_cycle(Duration::ZERO).await.unwrap() {
            began = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(began, "the lock was never released");
    assert_eq!(lock_holders(&observer).await, 1);
    b.finish_cycle().await.unwrap();
    assert_eq!(lock_holders(&observer).await, 0);
}

#[tokio::test]
async fn a_lock_dropped_with_its_claim_does_not_leave_the_lock_in_the_shared_pool() {
    let db = TestDb::new().await;
    // One pool shared with the rest of the instance, as in the service.
    let pool = db.pool();
    let a = PgMonitorLock::new(pool.clone());
    assert!(a.try_begin_cycle(Duration::ZERO).await.unwrap());
    drop(a);
    let mut released = false;
    for _ in 0..100 {
        if lock_holders(&pool).await == 0 {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(released, "a pooled connection still holds the lock");
    let again = PgMonitorLock::new(pool.clone());
    assert!(again.try_begin_cycle(Duration::ZERO).await.unwrap());
    again.finish_cycle().await.unwrap();
}
