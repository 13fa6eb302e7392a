//! Migrations, database creation and an unreachable database, against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rosetta_domain::ports::{SourceRepository, SourceRepositoryError};
use rosetta_domain::PageRequest;
use rosetta_metadata_store::migrations::{
    create_database_if_missing, quote_identifier, revert_all_migrations, run_migrations,
};
use rosetta_metadata_store::{build_pool, PgSourceRepository, PoolSettings};
use rosetta_test_support::{database_url, TestDb};

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Table {
    #[diesel(sql_type = Text)]
    table_name: String,
}

async fn tables(url: &str) -> Vec<String> {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Table> = diesel::sql_query(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
         ORDER BY table_name",
    )
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|t| t.table_name).collect()
}

const ALL_TABLES: [&str; 13] = [
    "destinations",
    "pipeline_leases",
    "pipeline_metadata",
    "pipeline_runtime",
    "pipeline_samples",
    "pipeline_tables",
    "pipelines",
    "replicators",
    "source_probe_status",
    "sources",
    "wal_metrics",
    "wal_monitor_cycles",
    "wal_slot_samples",
];

/// How many migrations `migrations/` holds.
const MIGRATION_COUNT: usize = 6;

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = TestDb::new().await;
    assert_eq!(tables(db.url()).await, ALL_TABLES);
    assert!(
        run_migrations(db.url()).await.unwrap().is_empty(),
        "a migrated database is up to date"
    );

    let reverted = revert_all_migrations(db.url()).await.unwrap();
    assert_eq!(reverted.len(), MIGRATION_COUNT);
    assert!(tables(db.url()).await.is_empty());

    let applied = run_migrations(db.url()).await.unwrap();
    assert_eq!(applied.len(), MIGRATION_COUNT);
    assert_eq!(tables(db.url()).await, ALL_TABLES);
}

#[tokio::test]
async fn a_missing_database_is_created_once_and_then_left_alone() {
    let name = format!("rosetta_test_create_{}", std::process::id());
    let url = database_url(&name).unwrap();
    assert!(create_database_if_missing(&url).await.unwrap());
    assert!(!create_database_if_missing(&url).await.unwrap());
    assert_eq!(run_migrations(&url).await.unwrap().len(), MIGRATION_COUNT);
    let mut admin = AsyncPgConnection::establish(&database_url("postgres").unwrap())
        .await
        .unwrap();
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut admin,
        &format!("DROP DATABASE {} WITH (FORCE)", quote_identifier(&name)),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_unreachable_database_makes_repositories_unavailable() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres:s3cret@127.0.0.1:{port}/rosetta");
    let settings = PoolSettings {
        timeout: Duration::from_secs(2),
        ..PoolSettings::default()
    };
    let repo = PgSourceRepository::new(build_pool(&url, &settings).unwrap(), common::cipher());
    let error = repo.list(PageRequest::default()).await.unwrap_err();
    assert!(
        matches!(error, SourceRepositoryError::Unavailable(_)),
        "{error:?}"
    );
    assert!(!format!("{error:?}").contains("s3cret"));

    let error = create_database_if_missing(&url)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
}
