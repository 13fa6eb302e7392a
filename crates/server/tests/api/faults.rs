//! The metadata database failing under load: a backend the server terminates (what a restart
//! or `pg_terminate_backend` does to every pooled connection) makes the requests that were using
//! it `503`, never `500`, and the service goes on by itself.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use rosetta_test_support::database_url;
use serde_json::json;

use crate::helpers::{source_body, spawn_app, TestApp};

/// Terminates every backend of the app's database but the caller's; returns how many.
async fn terminate_backends(admin: &mut AsyncPgConnection, database: &str) -> usize {
    use diesel_async::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Terminated {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        #[allow(dead_code)]
        done: bool,
    }
    let rows: Vec<Terminated> = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind::<Text, _>(database)
    .load(admin)
    .await
    .unwrap();
    rows.len()
}

/// Creates sources and lists them in a loop until `stop`, counting the answers by status.
async fn load(app: Arc<TestApp>, worker: usize, stop: Arc<AtomicBool>) -> BTreeMap<u16, usize> {
    let mut statuses = BTreeMap::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let created = app
            .post(
                "/api/v1/sources",
                &source_body(&format!("load-{worker}-{n}")),
            )
            .await;
        *statuses.entry(created.status.as_u16()).or_default() += 1;
        let listed = app.get("/api/v1/sources?limit=5").await;
        *statuses.entry(listed.status.as_u16()).or_default() += 1;
        for reply in [created, listed] {
            if reply.status.as_u16() == 503 {
                let body = reply.json();
                assert_eq!(body["error"], "DatabaseConnectionError", "{body}");
            }
        }
    }
    statuses
}

#[tokio::test]
async fn backends_terminated_under_load_answer_503_never_500() {
    let app = Arc::new(spawn_app().await);
    app.create_pipeline("first").await;
    let database = app.db.name().to_owned();
    let mut admin = AsyncPgConnection::establish(&database_url("postgres").unwrap())
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..6)
        .map(|worker| tokio::spawn(load(app.clone(), worker, stop.clone())))
        .collect();

    let mut terminated = 0;
    for _ in 0..25 {
        // Let requests get going on fresh connections, then cut them all.
        tokio::time::sleep(Duration::from_millis(40)).await;
        terminated += terminate_backends(&mut admin, &database).await;
    }
    stop.store(true, Ordering::SeqCst);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for worker in workers {
        for (status, count) in worker.await.unwrap() {
            *statuses.entry(status).or_default() += count;
        }
    }

    assert!(terminated > 0, "no backend was ever terminated");
    let unexpected: Vec<_> = statuses
        .keys()
        .filter(|s| ![200, 201, 503].contains(*s))
        .collect();
    assert!(
        unexpected.is_empty(),
        "statuses under termination: {statuses:?}"
    );
    // Once the server stops terminating, the service works again without a restart.
    let after = app
        .post(
            "/api/v1/sources",
            &json!({
                "name": "after", "pg_host": "h", "pg_database": "d", "pg_username": "u",
                "publication_name": "p", "replication_id": 1
            }),
        )
        .await;
    assert!(
        [201, 503].contains(&after.status.as_u16()),
        "{}",
        after.text
    );
    let recovered = app.get("/api/v1/sources?limit=1").await;
    let recovered = if recovered.status.as_u16() == 503 {
        // The one stale pooled connection may fail once; the next request gets a fresh one.
        app.get("/api/v1/sources?limit=1").await
    } else {
        recovered
    };
    recovered.expect(200);
}
