//! Each test database is migrated, private to its test and gone once dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use rosetta_test_support::{database_url, TestDb};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(url: &str, sql: &str, bind: &str) -> i64 {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Count> = diesel::sql_query(sql)
        .bind::<Text, _>(bind)
        .load(&mut conn)
        .await
        .unwrap();
    rows[0].n
}

async fn databases_named(name: &str) -> i64 {
    let admin = database_url("postgres").unwrap();
    count(
        &admin,
        "SELECT count(*) AS n FROM pg_database WHERE datname = $1",
        name,
    )
    .await
}

#[tokio::test]
async fn test_databases_are_migrated_separate_and_dropped_afterwards() {
    let first = TestDb::new().await;
    let second = TestDb::new().await;
    assert_ne!(first.name(), second.name());
    let tables = "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1";
    assert_eq!(count(first.url(), tables, "pipelines").await, 1);

    // A row written in one is not seen in the other.
    let mut conn = AsyncPgConnection::establish(first.url()).await.unwrap();
    conn.batch_execute(
        "INSERT INTO sources (name, pg_host, pg_database, pg_username, publication_name, replication_id)
         VALUES ('only-here', 'h', 'd', 'u', 'p', 0)",
    )
    .await
    .unwrap();
    drop(conn);
    let named = "SELECT count(*) AS n FROM sources WHERE name = $1";
    assert_eq!(count(first.url(), named, "only-here").await, 1);
    assert_eq!(count(second.url(), named, "only-here").await, 0);

    let (first_name, second_name) = (first.name().to_owned(), second.name().to_owned());
    let pool = first.pool();
    let _held = pool.get().await.unwrap(); // an open connection does not stop the drop
    drop(first);
    drop(second);
    assert_eq!(databases_named(&first_name).await, 0);
    assert_eq!(databases_named(&second_name).await, 0);
}
