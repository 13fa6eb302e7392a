//! Pipeline leases and runtime reports against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::*;
use rosetta_domain::ports::{
    DestinationRepository, PipelineLeases, PipelineRepository, PipelineRuntime, RuntimeError,
    SourceRepository, WalHistory,
};
use rosetta_domain::replication::{
    Lsn, PipelinePhase, PipelineProgress, PipelineSeriesQuery, TableName, TableProgress, TableState,
};
use rosetta_domain::{InitialPipelineStatus, Limit, PipelineId, PipelineMetadataStatus, WalBucket};
use rosetta_metadata_store::{
    PgDestinationRepository, PgPipelineLeases, PgPipelineRepository, PgPipelineRuntime,
    PgSourceRepository, PgWalHistory,
};
use rosetta_test_support::TestDb;

const TTL: Duration = Duration::from_secs(30);

struct Fixture {
    _db: TestDb,
    pipelines: PgPipelineRepository,
    leases: PgPipelineLeases,
    runtime: PgPipelineRuntime,
    pipeline: PipelineId,
}

async fn fixture(status: InitialPipelineStatus) -> Fixture {
    let db = TestDb::new().await;
    let pool = db.pool();
    let source = PgSourceRepository::new(pool.clone(), cipher())
        .create(new_source("orders"))
        .await
        .unwrap();
    let destination = PgDestinationRepository::new(pool.clone(), cipher())
        .create(new_destination("dw", postgres_config()))
        .await
        .unwrap();
    let pipelines = PgPipelineRepository::new(pool.clone(), cipher());
    let pipeline = pipelines
        .create(new_pipeline("p", source.id, destination.id, status))
        .await
        .unwrap()
        .pipeline
        .id;
    Fixture {
        leases: PgPipelineLeases::new(pool.clone()),
        runtime: PgPipelineRuntime::new(pool),
        pipelines,
        pipeline,
        _db: db,
    }
}

fn progress(phase: PipelinePhase) -> PipelineProgress {
    PipelineProgress {
        phase,
        owner: Some("host:1:a".to_owned()),
        confirmed_lsn: Some(Lsn::new(0x16_B374_D848)),
        lag_bytes: Some(1024),
        lag: Some(Duration::from_millis(250)),
        rows_copied: 1_000_000,
        changes_applied: 42,
        last_commit_at: Some(Utc::now()),
        updated_at: Utc::now(),
    }
}

#[tokio::test]
async fn a_free_lease_is_taken_renewed_by_its_owner_and_refused_to_others() {
    let f = fixture(InitialPipelineStatus::Start).await;
    let first = f
        .leases
        .acquire(f.pipeline, "a", TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.owner.as_str(), first.epoch), ("a", 1));
    assert!(first.expires_at > Utc::now() + chrono::Duration::seconds(20));

    let renewed = f
        .leases
        .acquire(f.pipeline, "a", TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renewed.epoch, 1, "renewing keeps the run");
    assert!(renewed.expires_at >= first.expires_at);
    assert_eq!(f.leases.acquire(f.pipeline, "b", TTL).await.unwrap(), None);
}

#[tokio::test]
async fn a_lapsed_or_released_lease_is_taken_over_with_a_new_epoch() {
    let f = fixture(InitialPipelineStatus::Start).await;
    // A lease of no length lapses at once (the next statement's clock is later).
    f.leases
        .acquire(f.pipeline, "a", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    let taken = f
        .leases
        .acquire(f.pipeline, "b", TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.owner.as_str(), taken.epoch), ("b", 2));

    f.leases.release(f.pipeline, "a").await.unwrap(); // not a's: nothing happens
    assert_eq!(f.leases.acquire(f.pipeline, "a", TTL).await.unwrap(), None);
    f.leases.release(f.pipeline, "b").await.unwrap();
    let back = f
        .leases
        .acquire(f.pipeline, "a", TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((back.owner.as_str(), back.epoch), ("a", 3));
    // Its own released lease, taken again, is a new run too.
    f.leases.release(f.pipeline, "a").await.unwrap();
    let again = f
        .leases
        .acquire(f.pipeline, "a", TTL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.epoch, 4);
}

#[tokio::test]
async fn nobody_leases_a_pipeline_that_does_not_exist() {
    let f = fixture(InitialPipelineStatus::Start).await;
    f.pipelines.delete(f.pipeline).await.unwrap();
    assert_eq!(f.leases.acquire(f.pipeline, "a", TTL).await.unwrap(), None);
    let missing = PipelineId::new(9_999);
    assert_eq!(f.leases.acquire(missing, "a", TTL).await.unwrap(), None);
}

#[tokio::test]
async fn a_report_is_read_back_and_replaced_by_the_next() {
    let f = fixture(InitialPipelineStatus::Start).await;
    assert_eq!(f.runtime.progress(f.pipeline).await.unwrap(), None);
    let first = progress(PipelinePhase::Copying);
    f.runtime.report(f.pipeline, &first).await.unwrap();
    let read = f.runtime.progress(f.pipeline).await.unwrap().unwrap();
    assert_eq!(read.phase, PipelinePhase::Copying);
    assert_eq!(read.confirmed_lsn, first.confirmed_lsn);
    assert_eq!((read.rows_copied, read.changes_applied), (1_000_000, 42));
    assert_eq!(read.lag, Some(Duration::from_millis(250)));

    let second = PipelineProgress {
        owner: None,
        lag_bytes: None,
        ..progress(PipelinePhase::Streaming)
    };
    f.runtime.report(f.pipeline, &second).await.unwrap();
    let read = f.runtime.progress(f.pipeline).await.unwrap().unwrap();
    assert_eq!(
        (read.phase, read.owner, read.lag_bytes),
        (PipelinePhase::Streaming, None, None)
    );
}

#[tokio::test]
async fn the_tables_reported_replace_those_reported_before() {
    let f = fixture(InitialPipelineStatus::Start).await;
    let table = |name: &str, state, rows, error: Option<&str>| TableProgress {
        table: TableName::new("public", name),
        state,
        rows_copied: rows,
        error: error.map(str::to_owned),
        updated_at: Utc::now(),
    };
    f.runtime
        .report_tables(
            f.pipeline,
            &[
                table("orders", TableState::Copying, 10, None),
                table("items", TableState::Queued, 0, None),
            ],
        )
        .await
        .unwrap();
    f.runtime
        .report_tables(
            f.pipeline,
            &[
                table("orders", TableState::Streaming, 500, None),
                table("users", TableState::Error, 0, Some("column mismatch")),
            ],
        )
        .await
        .unwrap();
    let tables = f.runtime.tables(f.pipeline).await.unwrap();
    let seen: Vec<_> = tables
        .iter()
        .map(|t| {
            (
                t.table.name.as_str(),
                t.state,
                t.rows_copied,
                t.error.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("orders", TableState::Streaming, 500, None),
            ("users", TableState::Error, 0, Some("column mismatch")),
        ]
    );
    f.runtime.report_tables(f.pipeline, &[]).await.unwrap();
    assert!(f.runtime.tables(f.pipeline).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failure_is_the_contracts_error_until_the_pipeline_streams_again() {
    let f = fixture(InitialPipelineStatus::Start).await;
    let at = Utc::now();
    f.runtime
        .fail(f.pipeline, "wal_level is 'replica'", at)
        .await
        .unwrap();
    let details = f.pipelines.get(f.pipeline).await.unwrap().unwrap();
    assert_eq!(details.metadata.status, PipelineMetadataStatus::Error);
    assert_eq!(
        details.metadata.last_error.as_deref(),
        Some("wal_level is 'replica'")
    );
    assert!(details.metadata.last_error_at.is_some());
    let phase = f.runtime.progress(f.pipeline).await.unwrap().unwrap().phase;
    assert_eq!(phase, PipelinePhase::Error);

    // Starting again reports `starting` first: still an error until it copies or streams.
    f.runtime
        .report(f.pipeline, &progress(PipelinePhase::Starting))
        .await
        .unwrap();
    let metadata = f.pipelines.get(f.pipeline).await.unwrap().unwrap().metadata;
    assert_eq!(metadata.status, PipelineMetadataStatus::Error);
    f.runtime
        .report(f.pipeline, &progress(PipelinePhase::Streaming))
        .await
        .unwrap();
    let metadata = f.pipelines.get(f.pipeline).await.unwrap().unwrap().metadata;
    assert_eq!(metadata.status, PipelineMetadataStatus::Running);
    assert_eq!(
        metadata.last_error.as_deref(),
        Some("wal_level is 'replica'"),
        "the last error stays as history"
    );
}

#[tokio::test]
async fn a_failure_after_a_pause_keeps_the_pipeline_paused_and_records_the_error() {
    let f = fixture(InitialPipelineStatus::Pause).await;
    f.runtime
        .fail(f.pipeline, "connection refused", Utc::now())
        .await
        .unwrap();
    let metadata = f.pipelines.get(f.pipeline).await.unwrap().unwrap().metadata;
    assert_eq!(metadata.status, PipelineMetadataStatus::Paused);
    assert_eq!(metadata.last_error.as_deref(), Some("connection refused"));
    let phase = f.runtime.progress(f.pipeline).await.unwrap().unwrap().phase;
    assert_eq!(phase, PipelinePhase::Paused);
}

#[tokio::test]
async fn a_report_never_resumes_a_paused_pipeline() {
    let f = fixture(InitialPipelineStatus::Pause).await;
    f.runtime
        .report(f.pipeline, &progress(PipelinePhase::Streaming))
        .await
        .unwrap();
    let metadata = f.pipelines.get(f.pipeline).await.unwrap().unwrap().metadata;
    assert_eq!(metadata.status, PipelineMetadataStatus::Paused);
}

#[tokio::test]
async fn reports_about_a_deleted_pipeline_say_it_is_missing() {
    let f = fixture(InitialPipelineStatus::Start).await;
    f.pipelines.delete(f.pipeline).await.unwrap();
    let reported = f
        .runtime
        .report(f.pipeline, &progress(PipelinePhase::Streaming))
        .await;
    assert!(
        matches!(reported, Err(RuntimeError::PipelineMissing(id)) if id == f.pipeline),
        "{reported:?}"
    );
    let failed = f.runtime.fail(f.pipeline, "boom", Utc::now()).await;
    assert!(
        matches!(failed, Err(RuntimeError::PipelineMissing(_))),
        "{failed:?}"
    );
    let sampled = f
        .runtime
        .sample(f.pipeline, &progress(PipelinePhase::Streaming))
        .await;
    assert!(
        matches!(sampled, Err(RuntimeError::PipelineMissing(_))),
        "{sampled:?}"
    );
    let tables = f.runtime.report_tables(f.pipeline, &[]).await;
    assert!(
        tables.is_ok(),
        "nothing to write, nothing refused: {tables:?}"
    );
}

/// A sample of `changes` changes applied so far and `lag_bytes`, taken at `at`.
fn sample_at(at: DateTime<Utc>, changes: u64, lag_bytes: Option<u64>) -> PipelineProgress {
    PipelineProgress {
        changes_applied: changes,
        lag_bytes,
        lag: lag_bytes.map(|_| Duration::from_millis(500)),
        updated_at: at,
        ..progress(PipelinePhase::Streaming)
    }
}

fn minutes(from: DateTime<Utc>) -> PipelineSeriesQuery {
    PipelineSeriesQuery {
        from: Some(from),
        to: None,
        limit: Limit::new(100).unwrap(),
    }
}

#[tokio::test]
async fn samples_summarize_lag_and_throughput_per_bucket() {
    let f = fixture(InitialPipelineStatus::Start).await;
    let base = "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let at = |seconds: i64| base + chrono::Duration::seconds(seconds);
    for (seconds, changes, lag) in [
        // Before the range: starts the first bucket's first rise.
        (-20, 100, Some(10)),
        (0, 160, Some(100)),
        (20, 220, None),
        (40, 280, Some(300)),
        // The next minute: a count that went down rises by nothing.
        (60, 400, Some(50)),
        (80, 390, Some(50)),
        (100, 450, Some(50)),
    ] {
        f.runtime
            .sample(f.pipeline, &sample_at(at(seconds), changes, lag))
            .await
            .unwrap();
    }
    // The same moment again is the same sample.
    f.runtime
        .sample(f.pipeline, &sample_at(at(0), 999, Some(1)))
        .await
        .unwrap();

    let series = f
        .runtime
        .series(f.pipeline, minutes(base), WalBucket::Minute)
        .await
        .unwrap();

    let newest = &series[0];
    assert_eq!(series.len(), 2, "{series:?}");
    assert_eq!(newest.bucket_start, at(60));
    assert_eq!(newest.samples, 3);
    assert_eq!(newest.changes_applied, 120 + 60, "{newest:?}");
    assert_eq!(newest.changes_per_second, 3.0);
    assert_eq!(newest.max_lag_bytes, Some(50));
    let oldest = &series[1];
    assert_eq!(oldest.bucket_start, at(0));
    assert_eq!(oldest.samples, 3);
    assert_eq!(oldest.changes_applied, 180);
    assert_eq!(oldest.changes_per_second, 3.0);
    assert_eq!(oldest.max_lag_bytes, Some(300));
    assert_eq!(
        oldest.avg_lag_bytes,
        Some(200.0),
        "a sample without lag is left out"
    );
    assert_eq!(oldest.max_lag, Some(Duration::from_millis(500)));

    let before = PipelineSeriesQuery {
        to: Some(at(60)),
        ..minutes(base)
    };
    let only_first = f
        .runtime
        .series(f.pipeline, before, WalBucket::Minute)
        .await
        .unwrap();
    assert_eq!(only_first, vec![oldest.clone()]);
    let hourly = f
        .runtime
        .series(f.pipeline, minutes(base), WalBucket::Hour)
        .await
        .unwrap();
    assert_eq!(hourly.len(), 1);
    assert_eq!(hourly[0].changes_applied, 360);
    assert_eq!(hourly[0].changes_per_second, 0.1);
    let other = f
        .runtime
        .series(PipelineId::new(31_337), minutes(base), WalBucket::Minute)
        .await
        .unwrap();
    assert!(other.is_empty());
}

#[tokio::test]
async fn pipeline_samples_are_pruned_with_the_wal_history_and_go_with_their_pipeline() {
    let f = fixture(InitialPipelineStatus::Start).await;
    let now = Utc::now();
    for days in [10, 5, 1] {
        f.runtime
            .sample(
                f.pipeline,
                &sample_at(now - chrono::Duration::days(days), 1, Some(1)),
            )
            .await
            .unwrap();
    }
    let history = PgWalHistory::new(f._db.pool());

    let pruned = history
        .prune(now - chrono::Duration::days(3))
        .await
        .unwrap();

    assert_eq!(pruned, 2);
    let year = PipelineSeriesQuery {
        from: Some(now - chrono::Duration::days(365)),
        ..minutes(now)
    };
    let kept = f
        .runtime
        .series(f.pipeline, year, WalBucket::Day)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].samples, 1);
    f.pipelines.delete(f.pipeline).await.unwrap();
    assert!(f
        .runtime
        .series(f.pipeline, year, WalBucket::Day)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn replicators_count_those_alive_and_stop_counting_one_that_left() {
    let f = fixture(InitialPipelineStatus::Start).await;
    assert_eq!(f.leases.heartbeat("a", TTL).await.unwrap(), 1);
    assert_eq!(f.leases.heartbeat("b", TTL).await.unwrap(), 2);
    assert_eq!(f.leases.heartbeat("a", TTL).await.unwrap(), 2);
    // One whose heartbeat lapsed is not counted.
    f.leases.heartbeat("c", Duration::ZERO).await.unwrap();
    assert_eq!(f.leases.heartbeat("a", TTL).await.unwrap(), 2);
    f.leases.leave("b").await.unwrap();
    assert_eq!(f.leases.heartbeat("a", TTL).await.unwrap(), 1);
}
