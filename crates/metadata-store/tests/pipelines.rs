//! The pipeline repository against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Utc};
use common::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rosetta_domain::ports::{
    DestinationRepository, PipelineRepository, PipelineRepositoryError, SourceRepository,
};
use rosetta_domain::{
    Destination, DestinationId, InitialPipelineStatus, Limit, PageRequest, PipelineDetails,
    PipelineId, PipelineMetadataStatus, PipelineStatus, PipelineUpdate, Source, SourceId,
};
use rosetta_metadata_store::{PgDestinationRepository, PgPipelineRepository, PgSourceRepository};
use rosetta_test_support::TestDb;

struct Fixture {
    db: TestDb,
    pipelines: PgPipelineRepository,
    source: Source,
    destination: Destination,
}

async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let pool = db.pool();
    let source = PgSourceRepository::new(pool.clone(), cipher())
        .create(new_source("orders"))
        .await
        .unwrap();
    let destination = PgDestinationRepository::new(pool.clone(), cipher())
        .create(new_destination("dw", snowflake_config()))
        .await
        .unwrap();
    Fixture {
        pipelines: PgPipelineRepository::new(pool, cipher()),
        db,
        source,
        destination,
    }
}

impl Fixture {
    /// Stores pipeline `name` in `status`, from the fixture's source to its destination.
    async fn create(&self, name: &str, status: InitialPipelineStatus) -> PipelineDetails {
        let new = new_pipeline(name, self.source.id, self.destination.id, status);
        self.pipelines.create(new).await.unwrap()
    }

    /// Why storing a started pipeline `name` from `source` to `destination` fails.
    async fn refused(
        &self,
        name: &str,
        source: SourceId,
        destination: DestinationId,
    ) -> PipelineRepositoryError {
        let new = new_pipeline(name, source, destination, InitialPipelineStatus::Start);
        self.pipelines.create(new).await.unwrap_err()
    }

    /// How many rows `table` (a fixed name) holds.
    async fn count(&self, table: &str) -> i64 {
        let mut conn = AsyncPgConnection::establish(self.db.url()).await.unwrap();
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "(SELECT count(*) FROM {table})"
        )))
        .get_result(&mut conn)
        .await
        .unwrap()
    }
}

/// An update asking a pipeline in `from` for `wanted`, at `at`.
fn to_status(wanted: PipelineStatus, from: PipelineStatus, at: DateTime<Utc>) -> PipelineUpdate {
    PipelineUpdate {
        status: wanted.change_from(from, at),
        ..PipelineUpdate::default()
    }
}

#[tokio::test]
async fn a_started_pipeline_is_created_running_with_its_nested_objects() {
    let f = fixture().await;
    let before = Utc::now();
    let created = f.create("Orders-To-DW", InitialPipelineStatus::Start).await;
    assert_eq!(created.pipeline.name.as_str(), "orders-to-dw");
    assert_eq!(created.pipeline.status, PipelineStatus::Start);
    assert_eq!(created.source, f.source);
    assert_eq!(created.destination, f.destination);
    assert_eq!(created.metadata.pipeline_id, created.pipeline.id);
    assert_eq!(created.metadata.status, PipelineMetadataStatus::Running);
    let started = created.metadata.last_start_at.unwrap();
    assert!(started >= before - chrono::Duration::milliseconds(1));
    assert_eq!(
        f.pipelines.get(created.pipeline.id).await.unwrap(),
        Some(created)
    );
}

#[tokio::test]
async fn a_paused_pipeline_is_created_paused_and_never_started() {
    let f = fixture().await;
    let created = f.create("p", InitialPipelineStatus::Pause).await;
    assert_eq!(created.pipeline.status, PipelineStatus::Pause);
    assert_eq!(created.metadata.status, PipelineMetadataStatus::Paused);
    assert_eq!(created.metadata.last_start_at, None);
}

#[tokio::test]
async fn a_pipeline_needs_an_existing_source_and_destination() {
    let f = fixture().await;
    let missing_source = SourceId::new(777);
    let error = f.refused("p", missing_source, f.destination.id).await;
    assert!(matches!(error, PipelineRepositoryError::SourceMissing(id) if id == missing_source));
    let missing_destination = DestinationId::new(778);
    let error = f.refused("p", f.source.id, missing_destination).await;
    assert!(
        matches!(error, PipelineRepositoryError::DestinationMissing(id) if id == missing_destination)
    );
    // Both missing: the source is named, whichever foreign key PostgreSQL checks first.
    let error = f.refused("p", missing_source, missing_destination).await;
    assert!(matches!(error, PipelineRepositoryError::SourceMissing(id) if id == missing_source));
    assert!(f
        .pipelines
        .list(PageRequest::default(), None)
        .await
        .unwrap()
        .is_empty());
    // A missing end is named before a taken name.
    f.create("taken", InitialPipelineStatus::Pause).await;
    for (source, destination, missing) in [
        (missing_source, f.destination.id, "source"),
        (f.source.id, missing_destination, "destination"),
    ] {
        let error = f.refused("taken", source, destination).await;
        let named = match error {
            PipelineRepositoryError::SourceMissing(id) if id == missing_source => "source",
            PipelineRepositoryError::DestinationMissing(id) if id == missing_destination => {
                "destination"
            }
            other => panic!("expected the missing {missing}, got {other:?}"),
        };
        assert_eq!(named, missing);
    }
    let error = f.refused("taken", f.source.id, f.destination.id).await;
    assert!(
        matches!(&error, PipelineRepositoryError::Duplicate(name) if name.as_str() == "taken"),
        "{error:?}"
    );
    let names: Vec<_> = f
        .pipelines
        .list(PageRequest::default(), None)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.pipeline.name.to_string())
        .collect();
    assert_eq!(names, ["taken"]);
}

#[tokio::test]
async fn pipeline_names_are_unique() {
    let f = fixture().await;
    f.create("p", InitialPipelineStatus::Start).await;
    let error = f.refused("p", f.source.id, f.destination.id).await;
    assert!(
        matches!(error, PipelineRepositoryError::Duplicate(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_failure_after_the_pipeline_insert_leaves_no_pipeline_behind() {
    let f = fixture().await;
    // Make the second write of the transaction fail.
    raw_execute(
        &f.db,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'metadata refused'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON pipeline_metadata
           FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .await;
    let error = f.refused("p", f.source.id, f.destination.id).await;
    assert!(
        matches!(error, PipelineRepositoryError::Unknown(_)),
        "{error:?}"
    );
    assert_eq!(f.count("pipelines").await, 0);
}

#[tokio::test]
async fn lists_are_ordered_by_id_filtered_by_status_and_paged() {
    let f = fixture().await;
    let mut started = Vec::new();
    for i in 0..6 {
        let status = if i % 2 == 0 {
            InitialPipelineStatus::Start
        } else {
            InitialPipelineStatus::Pause
        };
        let created = f.create(&format!("p{i}"), status).await;
        if status == InitialPipelineStatus::Start {
            started.push(created.pipeline.id);
        }
    }
    let all = f
        .pipelines
        .list(PageRequest::default(), None)
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|p| p.pipeline.id.get()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    assert_eq!(ids.len(), 6);
    assert!(all
        .iter()
        .all(|p| p.source == f.source && p.destination == f.destination));

    let only_started = f
        .pipelines
        .list(PageRequest::default(), Some(PipelineStatus::Start))
        .await
        .unwrap();
    let only_started: Vec<_> = only_started.iter().map(|p| p.pipeline.id).collect();
    assert_eq!(only_started, started);

    let page = PageRequest::new(1, Limit::new(1).unwrap()).unwrap();
    let second = f
        .pipelines
        .list(page, Some(PipelineStatus::Start))
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].pipeline.id, started[1]);
}

#[tokio::test]
async fn a_start_clears_the_last_error_and_sets_last_start_at_in_one_write() {
    let f = fixture().await;
    let created = f.create("p", InitialPipelineStatus::Pause).await;
    let id = created.pipeline.id;
    raw_execute(
        &f.db,
        &format!(
            "UPDATE pipeline_metadata SET status = 'ERROR', last_error = 'boom',
             last_error_at = now() WHERE pipeline_id = {id}"
        ),
    )
    .await;
    let started_at = Utc::now();
    let update = to_status(PipelineStatus::Start, PipelineStatus::Pause, started_at);
    let started = f.pipelines.update(id, update).await.unwrap();
    assert_eq!(started.pipeline.status, PipelineStatus::Start);
    assert_eq!(started.metadata.status, PipelineMetadataStatus::Running);
    assert_eq!(started.metadata.last_error, None);
    assert_eq!(started.metadata.last_error_at, None);
    let stored = started.metadata.last_start_at.unwrap();
    assert!((stored - started_at).num_milliseconds().abs() < 1);
}

#[tokio::test]
async fn pause_sets_paused_and_refresh_leaves_the_metadata_alone() {
    let f = fixture().await;
    let created = f.create("p", InitialPipelineStatus::Start).await;
    let id = created.pipeline.id;
    let now = Utc::now();
    let pause = to_status(PipelineStatus::Pause, PipelineStatus::Start, now);
    let paused = f.pipelines.update(id, pause).await.unwrap();
    assert_eq!(paused.metadata.status, PipelineMetadataStatus::Paused);
    assert_eq!(
        paused.metadata.last_start_at,
        created.metadata.last_start_at
    );

    let refresh = to_status(PipelineStatus::Refresh, PipelineStatus::Pause, now);
    let refreshed = f.pipelines.update(id, refresh).await.unwrap();
    assert_eq!(refreshed.pipeline.status, PipelineStatus::Refresh);
    assert_eq!(refreshed.metadata, paused.metadata);
}

#[tokio::test]
async fn updates_name_missing_pipelines_taken_names_and_missing_endpoints() {
    let f = fixture().await;
    f.create("a", InitialPipelineStatus::Start).await;
    let b = f
        .create("b", InitialPipelineStatus::Start)
        .await
        .pipeline
        .id;
    let rename = PipelineUpdate {
        name: Some(name("a")),
        ..PipelineUpdate::default()
    };
    let error = f.pipelines.update(b, rename).await.unwrap_err();
    assert!(
        matches!(error, PipelineRepositoryError::Duplicate(_)),
        "{error:?}"
    );
    let to_missing = PipelineUpdate {
        source_id: Some(SourceId::new(999)),
        ..PipelineUpdate::default()
    };
    let error = f.pipelines.update(b, to_missing).await.unwrap_err();
    assert!(
        matches!(error, PipelineRepositoryError::SourceMissing(_)),
        "{error:?}"
    );
    let missing = PipelineId::new(999);
    let error = f
        .pipelines
        .update(missing, PipelineUpdate::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, PipelineRepositoryError::NotFound(id) if id == missing),
        "{error:?}"
    );
    let renamed = PipelineUpdate {
        name: Some(name("c")),
        ..PipelineUpdate::default()
    };
    let c = f.pipelines.update(b, renamed).await.unwrap();
    assert_eq!(c.pipeline.name.as_str(), "c");
}

#[tokio::test]
async fn deleting_a_pipeline_removes_its_metadata() {
    let f = fixture().await;
    let created = f.create("p", InitialPipelineStatus::Start).await;
    assert_eq!(
        f.pipelines.using_source(f.source.id).await.unwrap().len(),
        1
    );
    assert_eq!(
        f.pipelines
            .using_destination(f.destination.id)
            .await
            .unwrap()
            .len(),
        1
    );
    f.pipelines.delete(created.pipeline.id).await.unwrap();
    assert!(f
        .pipelines
        .get(created.pipeline.id)
        .await
        .unwrap()
        .is_none());
    assert!(f
        .pipelines
        .using_source(f.source.id)
        .await
        .unwrap()
        .is_empty());

    assert_eq!(f.count("pipeline_metadata").await, 0);
    let error = f.pipelines.delete(created.pipeline.id).await.unwrap_err();
    assert!(
        matches!(error, PipelineRepositoryError::NotFound(_)),
        "{error:?}"
    );
}
