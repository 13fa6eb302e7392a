//! Pipeline leases and runtime reports against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use chrono::Utc;
use common::*;
use rosetta_domain::ports::{
    DestinationRepository, PipelineLeases, PipelineRepository, PipelineRuntime, RuntimeError,
    SourceRepository,
};
use rosetta_domain::replication::{
    Lsn, PipelinePhase, PipelineProgress, TableName, TableProgress, TableState,
};
use rosetta_domain::{InitialPipelineStatus, PipelineId, PipelineMetadataStatus};
use rosetta_metadata_store::{
    PgDestinationRepository, PgPipelineLeases, PgPipelineRepository, PgPipelineRuntime,
    PgSourceRepository,
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
    let tables = f.runtime.report_tables(f.pipeline, &[]).await;
    assert!(
        tables.is_ok(),
        "nothing to write, nothing refused: {tables:?}"
    );
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
