//! The source repository against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rosetta_domain::ports::{
    DestinationRepository, PipelineRepository, SourceRepository, SourceRepositoryError,
};
use rosetta_domain::{
    DeleteMode, InitialPipelineStatus, Limit, PageRequest, PortNumber, SourceId, SourceUpdate,
    SslMode,
};
use rosetta_metadata_store::PgSourceRepository;
use rosetta_test_support::TestDb;

#[tokio::test]
async fn a_created_source_reads_back_with_every_field() {
    let db = TestDb::new().await;
    let repo = PgSourceRepository::new(db.pool(), cipher());
    let created = repo.create(new_source("Orders_EU")).await.unwrap();
    assert_eq!(created.name.as_str(), "orders_eu");
    assert_eq!(created.pg_port.get(), 5433);
    assert_eq!(
        created.pg_password.as_ref().map(|p| p.expose()),
        Some("source-password-1")
    );
    assert_eq!(created.replication_id.get(), 7);
    let read = repo.get(created.id).await.unwrap();
    assert_eq!(read, Some(created));
    assert_eq!(repo.get(SourceId::new(999_999)).await.unwrap(), None);
}

#[tokio::test]
async fn a_taken_name_is_a_duplicate_whatever_its_case() {
    let db = TestDb::new().await;
    let repo = PgSourceRepository::new(db.pool(), cipher());
    repo.create(new_source("orders")).await.unwrap();
    let error = repo.create(new_source("ORDERS")).await.unwrap_err();
    assert!(
        matches!(error, SourceRepositoryError::Duplicate(ref n) if n.as_str() == "orders"),
        "{error:?}"
    );
}

#[tokio::test]
async fn pages_are_ordered_by_id_and_bounded_by_skip_and_limit() {
    let db = TestDb::new().await;
    let repo = PgSourceRepository::new(db.pool(), cipher());
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(repo.create(new_source(&format!("s{i}"))).await.unwrap().id);
    }
    let page = PageRequest::new(1, Limit::new(3).unwrap()).unwrap();
    let listed: Vec<_> = repo
        .list(page)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, ids[1..4]);
    let beyond = PageRequest::new(10, Limit::default()).unwrap();
    assert!(repo.list(beyond).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_partial_update_changes_only_what_it_names_and_keeps_the_password() {
    let db = TestDb::new().await;
    let repo = PgSourceRepository::new(db.pool(), cipher());
    let created = repo.create(new_source("orders")).await.unwrap();
    let update = SourceUpdate {
        pg_host: Some(text("replica.example.com")),
        pg_port: Some(PortNumber::new(6432).unwrap()),
        ..SourceUpdate::default()
    };
    let updated = repo.update(created.id, update).await.unwrap();
    assert_eq!(updated.pg_host.as_str(), "replica.example.com");
    assert_eq!(updated.pg_port.get(), 6432);
    assert_eq!(updated.name, created.name);
    assert_eq!(updated.pg_password, created.pg_password);
    assert!(updated.updated_at > created.updated_at);
    assert_eq!(updated.created_at, created.created_at);
}

#[tokio::test]
async fn a_source_keeps_its_ssl_mode_through_create_update_and_reads() {
    let db = TestDb::new().await;
    let repo = PgSourceRepository::new(db.pool(), cipher());
    let created = repo.create(new_source("orders")).await.unwrap();
    assert_eq!(created.ssl_mode, SslMode::Require);
    assert_eq!(
        repo.get(created.id).await.unwrap().unwrap().ssl_mode,
        SslMode::Require
    );
    let update = SourceUpdate {
        ssl_mode: Some(SslMode::VerifyFull),
        ..SourceUpdate::default()
    };
    let updated = repo.update(created.id, update).await.unwrap();
    assert_eq!(updated.ssl_mode, SslMode::VerifyFull);
    let read = repo.get(created.id).await.unwrap().unwrap();
    assert_eq!(read.ssl_mode, SslMode::VerifyFull);
    assert_eq!(read.pg_host, created.pg_host);
    // An update that does not name it leaves it alone.
    let rehost = SourceUpdate {
        pg_host: Some(text("replica.example.com")),
        ..SourceUpdate::default()
    };
    let rehosted = repo.update(created.id, rehost).await.unwrap();
    assert_eq!(rehosted.ssl_mode, SslMode::VerifyFull);
}

#[tokio::test]
async fn updates_of_a_missing_source_or_to_a_taken_name_are_refused() {
    let db = TestDb::new().await;
    let repo = PgSourceRepository::new(db.pool(), cipher());
    repo.create(new_source("a")).await.unwrap();
    let b = repo.create(new_source("b")).await.unwrap();
    let rename = SourceUpdate {
        name: Some(name("A")),
        ..SourceUpdate::default()
    };
    let error = repo.update(b.id, rename.clone()).await.unwrap_err();
    assert!(
        matches!(error, SourceRepositoryError::Duplicate(_)),
        "{error:?}"
    );
    let missing = SourceId::new(999_999);
    let error = repo.update(missing, rename).await.unwrap_err();
    assert!(
        matches!(error, SourceRepositoryError::NotFound(id) if id == missing),
        "{error:?}"
    );
    let error = repo
        .update(missing, SourceUpdate::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, SourceRepositoryError::NotFound(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn deleting_a_source_in_use_is_refused_unless_cascaded() {
    let db = TestDb::new().await;
    let repositories = Repositories::new(&db);
    let (source, destination, pipeline) = repositories
        .one_pipeline(InitialPipelineStatus::Start)
        .await;
    let (sources, destinations, pipelines) = (
        &repositories.sources,
        &repositories.destinations,
        &repositories.pipelines,
    );

    let error = sources
        .delete(source.id, DeleteMode::Restrict)
        .await
        .unwrap_err();
    match error {
        SourceRepositoryError::InUse { id, used_by } => {
            assert_eq!(id, source.id);
            assert_eq!(used_by.len(), 1);
            assert_eq!(used_by[0].id, pipeline.pipeline.id);
            assert_eq!(used_by[0].name.as_str(), "p1");
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(sources.get(source.id).await.unwrap().is_some());

    sources
        .delete(source.id, DeleteMode::Cascade)
        .await
        .unwrap();
    assert!(sources.get(source.id).await.unwrap().is_none());
    assert!(pipelines.get(pipeline.pipeline.id).await.unwrap().is_none());
    assert!(destinations.get(destination.id).await.unwrap().is_some());
    let error = sources
        .delete(source.id, DeleteMode::Cascade)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SourceRepositoryError::NotFound(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_source_without_pipelines_is_deleted() {
    let db = TestDb::new().await;
    let repo = PgSourceRepository::new(db.pool(), cipher());
    let source = repo.create(new_source("orders")).await.unwrap();
    repo.delete(source.id, DeleteMode::Restrict).await.unwrap();
    assert!(repo.get(source.id).await.unwrap().is_none());
}
