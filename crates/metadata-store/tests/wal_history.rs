//! The WAL history against a real PostgreSQL: what the WAL monitor writes after each probe, and
//! the samples and series the API reads back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use rosetta_domain::fixtures;
use rosetta_domain::ports::{SourceRepository, WalHistory, WalHistoryError};
use rosetta_domain::{
    DeleteMode, Limit, ProbeStatus, RolePrivileges, SlotReading, SlotType, SourceId, WalDirectory,
    WalMetricQuery, WalReading,
};
use rosetta_metadata_store::{DbPool, PgSourceRepository, PgWalHistory};
use rosetta_test_support::TestDb;

/// Now, to the microsecond PostgreSQL keeps, so that stored times compare equal.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

/// A logical slot with some bytes unconfirmed and a known safe WAL size, so that every column
/// of its sample holds a value.
fn logical_slot(name: &str, retained: i64) -> SlotReading {
    SlotReading {
        unconfirmed_bytes: Some(retained / 2),
        safe_wal_size_bytes: Some(1 << 30),
        ..fixtures::logical_slot(name, retained)
    }
}

fn physical_slot(name: &str) -> SlotReading {
    SlotReading {
        name: name.to_owned(),
        slot_type: SlotType::Physical,
        plugin: None,
        database: None,
        active: false,
        retained_bytes: None,
        unconfirmed_bytes: None,
        wal_status: None,
        safe_wal_size_bytes: None,
    }
}

/// A reading whose optional figures all hold a value.
fn reading(read_at: DateTime<Utc>, position_bytes: i64, slots: Vec<SlotReading>) -> WalReading {
    WalReading {
        server_version_num: 160_004,
        max_slot_wal_keep_size_bytes: Some(10 << 30),
        wal_directory: Some(WalDirectory {
            size_bytes: 512 << 20,
            segments: 32,
        }),
        ..fixtures::logical_reading(read_at, position_bytes, slots)
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The rows `sql` selects for `source`, its `$1`.
async fn of_source<T>(pool: &DbPool, sql: &str, source: SourceId) -> Vec<T>
where
    T: QueryableByName<Pg> + Send + 'static,
{
    let mut conn = pool.get().await.unwrap();
    diesel::sql_query(sql)
        .bind::<BigInt, _>(source.get())
        .load(&mut conn)
        .await
        .unwrap()
}

/// Rows of `table` (a fixed name) belonging to `source`.
async fn rows(pool: &DbPool, table: &str, source: SourceId) -> i64 {
    let sql = format!("SELECT count(*) AS n FROM {table} WHERE source_id = $1");
    let counts: Vec<Count> = of_source(pool, &sql, source).await;
    counts[0].n
}

/// Asserts that nothing of `source` is kept: no sample and no outcome.
async fn assert_nothing_kept(pool: &DbPool, source: SourceId) {
    for table in ["wal_metrics", "wal_slot_samples", "source_probe_status"] {
        assert_eq!(rows(pool, table, source).await, 0, "{table}");
    }
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct SlotSample {
    #[diesel(sql_type = Timestamptz)]
    recorded_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    slot_name: String,
    #[diesel(sql_type = Text)]
    slot_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    plugin: Option<String>,
    #[diesel(sql_type = Bool)]
    active: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    retained_bytes: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    unconfirmed_bytes: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    wal_status: Option<String>,
}

async fn slot_samples(pool: &DbPool, source: SourceId) -> Vec<SlotSample> {
    let sql = "SELECT recorded_at, slot_name, slot_type, plugin, active, retained_bytes,
                      unconfirmed_bytes, wal_status
               FROM wal_slot_samples WHERE source_id = $1 ORDER BY recorded_at, slot_name";
    of_source(pool, sql, source).await
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct MetricSample {
    #[diesel(sql_type = BigInt)]
    size_bytes: i64,
    #[diesel(sql_type = Timestamptz)]
    recorded_at: DateTime<Utc>,
}

async fn wal_samples(pool: &DbPool, source: SourceId) -> Vec<MetricSample> {
    let sql = "SELECT size_bytes, recorded_at FROM wal_metrics WHERE source_id = $1
               ORDER BY recorded_at";
    of_source(pool, sql, source).await
}

/// A test database with a WAL history and the sources named `names`.
struct History {
    db: TestDb,
    pool: DbPool,
    sources: PgSourceRepository,
    store: PgWalHistory,
    ids: Vec<SourceId>,
}

impl History {
    /// The sources named `names`, in a new test database.
    async fn with_sources(names: &[&str]) -> Self {
        let db = TestDb::new().await;
        let pool = db.pool();
        Self::on(db, pool, names).await
    }

    /// The sources named `names`, stored through `pool` into `db`.
    async fn on(db: TestDb, pool: DbPool, names: &[&str]) -> Self {
        let sources = PgSourceRepository::new(pool.clone(), cipher());
        let mut ids = Vec::new();
        for name in names {
            ids.push(sources.create(new_source(name)).await.unwrap().id);
        }
        Self {
            store: PgWalHistory::new(pool.clone()),
            db,
            pool,
            sources,
            ids,
        }
    }

    /// Runs `sql` on the test database, as an operator would.
    async fn run_sql(&self, sql: &str) {
        raw_execute(&self.db, sql).await;
    }
}

#[tokio::test]
async fn a_successful_probe_reads_back_whole_with_a_wal_sample_and_one_sample_per_slot() {
    let h = History::with_sources(&["orders"]).await;
    let (pool, store, ids) = (&h.pool, &h.store, &h.ids);
    let source = ids[0];

    let first_at = now() - Duration::minutes(1);
    let first = reading(
        first_at,
        9_000_000,
        vec![logical_slot("rosetta_7", 4096), physical_slot("standby_1")],
    );
    store.record_success(source, &first).await.unwrap();
    let expected = ProbeStatus {
        source_id: source,
        probed_at: first_at,
        error: None,
        consecutive_failures: 0,
        last_success_at: Some(first_at),
        last_reading: Some(first.clone()),
    };
    assert_eq!(store.status(source).await.unwrap(), Some(expected));
    assert_eq!(
        wal_samples(pool, source).await,
        [MetricSample {
            size_bytes: 9_000_000,
            recorded_at: first_at
        }]
    );
    let slots = slot_samples(pool, source).await;
    assert_eq!(
        slots,
        [
            SlotSample {
                recorded_at: first_at,
                slot_name: "rosetta_7".to_owned(),
                slot_type: "logical".to_owned(),
                plugin: Some("pgoutput".to_owned()),
                active: true,
                retained_bytes: Some(4096),
                unconfirmed_bytes: Some(2048),
                wal_status: Some("reserved".to_owned()),
            },
            SlotSample {
                recorded_at: first_at,
                slot_name: "standby_1".to_owned(),
                slot_type: "physical".to_owned(),
                plugin: None,
                active: false,
                retained_bytes: None,
                unconfirmed_bytes: None,
                wal_status: None,
            },
        ]
    );

    // A role without pg_monitor reads no WAL directory; a server without slots has none.
    let second_at = now();
    let second = WalReading {
        wal_directory: None,
        max_slot_wal_keep_size_bytes: None,
        in_recovery: true,
        privileges: RolePrivileges::default(),
        ..reading(second_at, 9_500_000, Vec::new())
    };
    store.record_success(source, &second).await.unwrap();
    let status = store.status(source).await.unwrap().unwrap();
    assert_eq!(status.last_reading, Some(second));
    assert_eq!(status.last_success_at, Some(second_at));
    assert_eq!(wal_samples(pool, source).await.len(), 2);
    assert_eq!(slot_samples(pool, source).await.len(), 2);
}

#[tokio::test]
async fn failures_count_up_and_keep_the_last_reading_until_a_success_resets_them() {
    let h = History::with_sources(&["orders"]).await;
    let (store, ids) = (&h.store, &h.ids);
    let source = ids[0];
    let start = now() - Duration::minutes(10);

    // A failure before any success leaves nothing to keep.
    let kept = store
        .record_failure(source, start, "connection refused")
        .await
        .unwrap();
    assert_eq!(kept, None);
    let status = store.status(source).await.unwrap().unwrap();
    assert_eq!(
        (
            status.consecutive_failures,
            status.error.as_deref(),
            status.last_success_at,
            status.last_reading
        ),
        (1, Some("connection refused"), None, None)
    );

    let success_at = start + Duration::minutes(1);
    let good = reading(success_at, 1_000, vec![logical_slot("rosetta_7", 1 << 31)]);
    store.record_success(source, &good).await.unwrap();
    assert_eq!(
        store
            .status(source)
            .await
            .unwrap()
            .unwrap()
            .consecutive_failures,
        0
    );

    for (minute, message) in [(2, "timeout"), (3, "password authentication failed")] {
        let kept = store
            .record_failure(source, start + Duration::minutes(minute), message)
            .await
            .unwrap();
        assert_eq!(
            kept,
            Some(success_at),
            "the last success is returned as kept"
        );
    }
    let failing = store.status(source).await.unwrap().unwrap();
    assert_eq!(
        failing,
        ProbeStatus {
            source_id: source,
            probed_at: start + Duration::minutes(3),
            error: Some("password authentication failed".to_owned()),
            consecutive_failures: 2,
            last_success_at: Some(success_at),
            last_reading: Some(good),
        }
    );
    assert!(!failing.ok());

    let recovered_at = start + Duration::minutes(4);
    let recovered = reading(recovered_at, 2_000, Vec::new());
    store.record_success(source, &recovered).await.unwrap();
    let status = store.status(source).await.unwrap().unwrap();
    assert!(status.ok());
    assert_eq!(
        (
            status.consecutive_failures,
            status.probed_at,
            status.last_success_at
        ),
        (0, recovered_at, Some(recovered_at))
    );
}

#[tokio::test]
async fn probes_of_a_missing_or_deleted_source_are_refused_and_leave_nothing() {
    let h = History::with_sources(&["gone"]).await;
    let (pool, sources, store, ids) = (&h.pool, &h.sources, &h.store, &h.ids);
    let deleted = ids[0];
    sources.delete(deleted, DeleteMode::Restrict).await.unwrap();

    for source in [deleted, SourceId::new(31_337)] {
        let probe = reading(now(), 1, vec![logical_slot("rosetta_7", 1)]);
        let errors = [
            store.record_success(source, &probe).await.unwrap_err(),
            store
                .record_failure(source, now(), "timeout")
                .await
                .unwrap_err(),
        ];
        for error in errors {
            assert!(
                matches!(error, WalHistoryError::SourceMissing(id) if id == source),
                "{error:?}"
            );
        }
        assert_nothing_kept(pool, source).await;
    }
}

#[tokio::test]
async fn a_probe_whose_slot_samples_fail_keeps_neither_its_wal_sample_nor_its_status() {
    let history = History::with_sources(&["orders"]).await;
    let (pool, store, source) = (&history.pool, &history.store, history.ids[0]);
    // Only the slot samples can fail: the other two writes would succeed on their own.
    history
        .run_sql(
            "ALTER TABLE wal_slot_samples
             ADD CONSTRAINT test_refuses_doomed CHECK (slot_name <> 'doomed')",
        )
        .await;

    let probe = reading(
        now(),
        1,
        vec![logical_slot("fine", 1), logical_slot("doomed", 1)],
    );
    let error = store.record_success(source, &probe).await.unwrap_err();
    assert!(matches!(error, WalHistoryError::Unknown(_)), "{error:?}");
    assert_nothing_kept(pool, source).await;
    assert_eq!(store.status(source).await.unwrap(), None);
}

#[tokio::test]
async fn pruning_deletes_only_older_samples_of_both_tables_and_counts_them() {
    let h = History::with_sources(&["a", "b"]).await;
    let (pool, store, ids) = (&h.pool, &h.store, &h.ids);
    let (a, b) = (ids[0], ids[1]);
    let now = now();
    let two_slots = || vec![logical_slot("s1", 1), physical_slot("s2")];
    store
        .record_success(a, &reading(now - Duration::days(40), 1, two_slots()))
        .await
        .unwrap();
    store
        .record_success(
            b,
            &reading(now - Duration::days(31), 2, vec![physical_slot("s")]),
        )
        .await
        .unwrap();
    store
        .record_success(a, &reading(now - Duration::days(1), 3, two_slots()))
        .await
        .unwrap();
    let cutoff = now - Duration::days(30);
    // A sample exactly at the cutoff is kept.
    store
        .record_success(b, &reading(cutoff, 4, Vec::new()))
        .await
        .unwrap();

    // a: 1 WAL sample + 2 slot samples; b: 1 + 1.
    assert_eq!(store.prune(cutoff).await.unwrap(), 5);
    let sizes = |samples: Vec<MetricSample>| -> Vec<i64> {
        samples.into_iter().map(|s| s.size_bytes).collect()
    };
    assert_eq!(sizes(wal_samples(pool, a).await), [3]);
    assert_eq!(sizes(wal_samples(pool, b).await), [4]);
    let kept = slot_samples(pool, a).await;
    assert_eq!(kept.len(), 2);
    assert!(kept
        .iter()
        .all(|s| s.recorded_at == now - Duration::days(1)));
    assert!(slot_samples(pool, b).await.is_empty());
    // The latest outcomes are not samples: they stay.
    assert!(store.status(a).await.unwrap().is_some());
    assert!(store.status(b).await.unwrap().is_some());
    assert_eq!(store.prune(cutoff).await.unwrap(), 0);
}

#[tokio::test]
async fn an_unprobed_or_unknown_source_has_no_status() {
    let h = History::with_sources(&["orders"]).await;
    let (store, ids) = (&h.store, &h.ids);
    assert_eq!(store.status(ids[0]).await.unwrap(), None);
    assert_eq!(store.status(SourceId::new(31_337)).await.unwrap(), None);
}

#[tokio::test]
async fn a_malformed_stored_reading_is_an_error_not_a_panic() {
    let history = History::with_sources(&["orders"]).await;
    let (store, source) = (&history.store, history.ids[0]);
    store
        .record_success(source, &reading(now(), 1, vec![physical_slot("s")]))
        .await
        .unwrap();
    history
        .run_sql(
            "UPDATE source_probe_status
             SET last_reading = jsonb_set(last_reading, '{slots,0,slot_type}', '\"temporary\"')",
        )
        .await;
    let error = store.status(source).await.unwrap_err();
    assert!(matches!(error, WalHistoryError::Unknown(_)), "{error:?}");
    assert!(format!("{error:#}").contains("slot_type"), "{error:#}");
}

#[derive(diesel::QueryableByName)]
struct Prepared {
    #[diesel(sql_type = Text)]
    statement: String,
}

#[tokio::test]
async fn probe_outcomes_are_kept_by_statements_prepared_once_per_connection() {
    use rosetta_metadata_store::{build_pool, PoolSettings};
    let db = TestDb::new().await;
    // One connection, so that every call goes through the session inspected below.
    let settings = PoolSettings {
        size: 1,
        max_overflow: 0,
        ..PoolSettings::default()
    };
    let pool = build_pool(db.url(), &settings).unwrap();
    let h = History::on(db, pool, &["orders"]).await;
    let (pool, store, ids) = (&h.pool, &h.store, &h.ids);
    let source = ids[0];
    for slots in 0..3 {
        let slots = (0..slots)
            .map(|i| physical_slot(&format!("s{i}")))
            .collect();
        store
            .record_success(source, &reading(now(), 1, slots))
            .await
            .unwrap();
        store
            .record_failure(source, now(), "timeout")
            .await
            .unwrap();
    }
    // A statement prepared for one call only is closed after it; a cached one stays, once.
    let mut conn = pool.get().await.unwrap();
    let prepared: Vec<Prepared> = diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let kept = |start: &str| {
        prepared
            .iter()
            .filter(|p| p.statement.trim_start().starts_with(start))
            .count()
    };
    assert_eq!(kept("WITH input AS"), 1);
    assert_eq!(kept("INSERT INTO source_probe_status"), 1);
    assert_eq!(wal_samples(pool, source).await.len(), 3);
    assert_eq!(slot_samples(pool, source).await.len(), 3);
}

/// Keeps a WAL sample of `source` as the monitor does: a successful probe, without slots.
async fn sample(history: &PgWalHistory, source: SourceId, size_bytes: i64, at: DateTime<Utc>) {
    history
        .record_success(source, &reading(at, size_bytes, Vec::new()))
        .await
        .unwrap();
}

#[tokio::test]
async fn samples_list_newest_first_per_source_within_the_limit() {
    let h = History::with_sources(&["a", "b"]).await;
    let (history, ids) = (&h.store, &h.ids);
    let (a, b) = (ids[0], ids[1]);
    let start = Utc::now() - Duration::hours(1);
    for minute in 0..5 {
        for (source, size) in [(a, 1000), (b, 2000)] {
            sample(
                history,
                source,
                size + minute,
                start + Duration::minutes(minute),
            )
            .await;
        }
    }
    let query = WalMetricQuery {
        source_id: Some(a),
        limit: Limit::new(3).unwrap(),
        ..WalMetricQuery::default()
    };
    let sizes: Vec<_> = history
        .list(query)
        .await
        .unwrap()
        .iter()
        .map(|m| m.size_bytes)
        .collect();
    assert_eq!(sizes, [1004, 1003, 1002]);
    let everything = history.list(WalMetricQuery::default()).await.unwrap();
    assert_eq!(everything.len(), 10);
    assert!(everything
        .windows(2)
        .all(|w| w[0].recorded_at >= w[1].recorded_at));
}

#[tokio::test]
async fn old_samples_are_pruned_and_samples_go_with_their_source() {
    let h = History::with_sources(&["a"]).await;
    let (sources, history, ids) = (&h.sources, &h.store, &h.ids);
    let source = ids[0];
    let now = Utc::now();
    for days in [40, 31, 1, 0] {
        sample(history, source, days, now - Duration::days(days)).await;
    }
    let deleted = history.prune(now - Duration::days(30)).await.unwrap();
    assert_eq!(deleted, 2);
    let left: Vec<_> = history
        .list(WalMetricQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|m| m.size_bytes)
        .collect();
    assert_eq!(left, [0, 1]);
    sources.delete(source, DeleteMode::Restrict).await.unwrap();
    assert!(history
        .list(WalMetricQuery::default())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_series_summarizes_each_bucket_in_sql_within_the_time_range() {
    use rosetta_domain::WalBucket;
    let h = History::with_sources(&["a", "b"]).await;
    let (history, ids) = (&h.store, &h.ids);
    let (a, b) = (ids[0], ids[1]);
    // Three 5-minute buckets from 10:00 UTC, samples every minute; b's samples must not count.
    let start = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 10, 0, 0).unwrap();
    for minute in 0..15 {
        let at = start + Duration::minutes(minute);
        sample(history, a, 1000 + minute * 10, at).await;
        sample(history, b, 1, at).await;
    }
    let query = WalMetricQuery {
        source_id: Some(a),
        ..WalMetricQuery::default()
    };
    let series = history.series(query, WalBucket::FiveMinutes).await.unwrap();
    let starts: Vec<_> = series.iter().map(|p| p.bucket_start).collect();
    assert_eq!(
        starts,
        [
            start + Duration::minutes(10),
            start + Duration::minutes(5),
            start
        ]
    );
    let newest = &series[0];
    assert_eq!(
        (
            newest.min_bytes,
            newest.max_bytes,
            newest.last_bytes,
            newest.samples
        ),
        (1100, 1140, 1140, 5)
    );
    assert!((newest.avg_bytes - 1120.0).abs() < 1e-9);

    let ranged = WalMetricQuery {
        source_id: Some(a),
        from: Some(start + Duration::minutes(5)),
        to: Some(start + Duration::minutes(7)),
        limit: Limit::new(10).unwrap(),
    };
    let series = history.series(ranged, WalBucket::Hour).await.unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(
        (series[0].min_bytes, series[0].max_bytes, series[0].samples),
        (1050, 1060, 2)
    );
    let listed = history.list(ranged).await.unwrap();
    let sizes: Vec<_> = listed.iter().map(|m| m.size_bytes).collect();
    assert_eq!(sizes, [1060, 1050]);
    let one = WalMetricQuery {
        limit: Limit::new(1).unwrap(),
        ..query
    };
    assert_eq!(
        history.series(one, WalBucket::Minute).await.unwrap().len(),
        1
    );
}
