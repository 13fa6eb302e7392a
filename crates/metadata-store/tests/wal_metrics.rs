//! The WAL sample repository against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::*;
use rosetta_domain::ports::{SourceRepository, WalMetricRepository, WalMetricRepositoryError};
use rosetta_domain::{DeleteMode, Limit, NewWalMetric, SourceId, WalMetricQuery};
use rosetta_metadata_store::{PgSourceRepository, PgWalMetricRepository};
use rosetta_test_support::TestDb;

#[tokio::test]
async fn samples_list_newest_first_per_source_within_the_limit() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let sources = PgSourceRepository::new(pool.clone(), cipher());
    let metrics = PgWalMetricRepository::new(pool);
    let a = sources.create(new_source("a")).await.unwrap().id;
    let b = sources.create(new_source("b")).await.unwrap().id;
    let start = Utc::now() - Duration::hours(1);
    for minute in 0..5 {
        for (source, size) in [(a, 1000), (b, 2000)] {
            let metric = NewWalMetric {
                source_id: source,
                size_bytes: size + minute,
                recorded_at: start + Duration::minutes(minute),
            };
            metrics.record(metric).await.unwrap();
        }
    }
    let query = WalMetricQuery {
        source_id: Some(a),
        limit: Limit::new(3).unwrap(),
        ..WalMetricQuery::default()
    };
    let sizes: Vec<_> = metrics
        .list(query)
        .await
        .unwrap()
        .iter()
        .map(|m| m.size_bytes)
        .collect();
    assert_eq!(sizes, [1004, 1003, 1002]);
    let everything = metrics.list(WalMetricQuery::default()).await.unwrap();
    assert_eq!(everything.len(), 10);
    assert!(everything
        .windows(2)
        .all(|w| w[0].recorded_at >= w[1].recorded_at));
}

#[tokio::test]
async fn a_sample_of_a_missing_source_is_refused() {
    let db = TestDb::new().await;
    let metrics = PgWalMetricRepository::new(db.pool());
    let missing = SourceId::new(31_337);
    let metric = NewWalMetric {
        source_id: missing,
        size_bytes: 1,
        recorded_at: Utc::now(),
    };
    let error = metrics.record(metric).await.unwrap_err();
    assert!(
        matches!(error, WalMetricRepositoryError::SourceMissing(id) if id == missing),
        "{error:?}"
    );
}

#[tokio::test]
async fn old_samples_are_deleted_and_samples_go_with_their_source() {
    let db = TestDb::new().await;
    let pool = db.pool();
    let sources = PgSourceRepository::new(pool.clone(), cipher());
    let metrics = PgWalMetricRepository::new(pool);
    let source = sources.create(new_source("a")).await.unwrap().id;
    let now = Utc::now();
    for days in [40, 31, 1, 0] {
        let metric = NewWalMetric {
            source_id: source,
            size_bytes: days,
            recorded_at: now - Duration::days(days),
        };
        metrics.record(metric).await.unwrap();
    }
    let deleted = metrics
        .delete_before(now - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    let left: Vec<_> = metrics
        .list(WalMetricQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|m| m.size_bytes)
        .collect();
    assert_eq!(left, [0, 1]);
    sources.delete(source, DeleteMode::Restrict).await.unwrap();
    assert!(metrics
        .list(WalMetricQuery::default())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_series_summarizes_each_bucket_in_sql_within_the_time_range() {
    use rosetta_domain::WalBucket;
    let db = TestDb::new().await;
    let pool = db.pool();
    let sources = PgSourceRepository::new(pool.clone(), cipher());
    let metrics = PgWalMetricRepository::new(pool);
    let a = sources.create(new_source("a")).await.unwrap().id;
    let b = sources.create(new_source("b")).await.unwrap().id;
    // Three 5-minute buckets from 10:00 UTC, samples every minute; b's samples must not count.
    let start = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 10, 0, 0).unwrap();
    for minute in 0..15 {
        let at = start + Duration::minutes(minute);
        let metric = NewWalMetric {
            source_id: a,
            size_bytes: 1000 + minute * 10,
            recorded_at: at,
        };
        metrics.record(metric).await.unwrap();
        let other = NewWalMetric {
            source_id: b,
            size_bytes: 1,
            recorded_at: at,
        };
        metrics.record(other).await.unwrap();
    }
    let query = WalMetricQuery {
        source_id: Some(a),
        ..WalMetricQuery::default()
    };
    let series = metrics.series(query, WalBucket::FiveMinutes).await.unwrap();
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
    let series = metrics.series(ranged, WalBucket::Hour).await.unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(
        (series[0].min_bytes, series[0].max_bytes, series[0].samples),
        (1050, 1060, 2)
    );
    let listed = metrics.list(ranged).await.unwrap();
    let sizes: Vec<_> = listed.iter().map(|m| m.size_bytes).collect();
    assert_eq!(sizes, [1060, 1050]);
    let one = WalMetricQuery {
        limit: Limit::new(1).unwrap(),
        ..query
    };
    assert_eq!(
        metrics.series(one, WalBucket::Minute).await.unwrap().len(),
        1
    );
}
