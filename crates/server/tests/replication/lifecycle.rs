//! A pipeline's lifecycle on the data plane: paused and started again, refreshed, given a new
//! table, deleted.

use std::time::Duration;

use reqwest::Method;

use crate::harness::{converged, eventually, Database, Service};

const SCHEMA: &str = "
CREATE TABLE items (id bigint PRIMARY KEY, label text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g;
CREATE PUBLICATION stock FOR TABLE items;
";

#[tokio::test]
async fn a_paused_pipeline_catches_up_when_started_and_a_refresh_copies_everything_again() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source.execute(SCHEMA).await;
    let service = Service::start(&[]).await;
    let pipeline = service
        .pipeline("stock", &source, "stock", &destination, "START")
        .await;
    service.streaming(pipeline).await;
    converged(&source, &destination, "items", "id").await;

    service
        .post(
            &format!("/api/v1/pipelines/{pipeline}/pause"),
            serde_json::json!({}),
        )
        .await;
    eventually("the pipeline to pause", Duration::from_secs(30), || async {
        let metadata = service.pipeline_metadata(pipeline).await;
        (metadata["phase"] == "paused", metadata)
    })
    .await;
    source
        .execute("INSERT INTO items SELECT g, 'while paused' FROM generate_series(101, 150) g")
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        destination
            .count("SELECT count(*) AS value FROM items")
            .await,
        100,
        "a paused pipeline applies nothing"
    );
    service
        .post(
            &format!("/api/v1/pipelines/{pipeline}/start"),
            serde_json::json!({}),
        )
        .await;
    converged(&source, &destination, "items", "id").await;

    // Rows the destination lost by someone's hand come back with a refresh, and the
    // pipeline goes back to START by itself.
    destination
        .execute("DELETE FROM items WHERE id <= 50")
        .await;
    service
        .post(
            &format!("/api/v1/pipelines/{pipeline}/refresh"),
            serde_json::json!({}),
        )
        .await;
    converged(&source, &destination, "items", "id").await;
    eventually("the refresh to end", Duration::from_secs(30), || async {
        let pipeline = service.get(&format!("/api/v1/pipelines/{pipeline}")).await;
        (
            pipeline["status"] == "START" && pipeline["pipeline_metadata"]["phase"] == "streaming",
            pipeline,
        )
    })
    .await;
    source
        .execute("UPDATE items SET label = 'after refresh'")
        .await;
    converged(&source, &destination, "items", "id").await;
    service.stop().await;
}

#[tokio::test]
async fn a_table_added_to_the_publication_is_copied_then_streamed_without_a_refresh() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source.execute(SCHEMA).await;
    let service = Service::start(&[]).await;
    let pipeline = service
        .pipeline("growing", &source, "stock", &destination, "START")
        .await;
    service.streaming(pipeline).await;

    source
        .execute(
            "CREATE TABLE prices (id bigint PRIMARY KEY, price numeric);
             INSERT INTO prices SELECT g, g * 2 FROM generate_series(1, 30) g;
             ALTER PUBLICATION stock ADD TABLE prices;
             INSERT INTO prices VALUES (31, 62);
             INSERT INTO items VALUES (1000, 'with the new table');",
        )
        .await;
    eventually(
        "the new table to stream",
        Duration::from_secs(60),
        || async {
            let tables = service
                .get(&format!("/api/v1/pipelines/{pipeline}/tables"))
                .await;
            let streaming = tables
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "prices" && t["state"] == "streaming");
            (streaming, tables)
        },
    )
    .await;
    source
        .execute("UPDATE prices SET price = 0 WHERE id = 1")
        .await;
    converged(&source, &destination, "prices", "id").await;
    converged(&source, &destination, "items", "id").await;
    service.stop().await;
}

#[tokio::test]
async fn the_wal_monitor_names_a_slots_pipeline_and_deleting_the_pipeline_drops_the_slot() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source.execute(SCHEMA).await;
    let service = Service::start(&[
        ("WAL_MONITOR_ENABLED", "true"),
        ("WAL_MONITOR_INTERVAL_SECONDS", "1"),
    ])
    .await;
    let pipeline = service
        .pipeline("doomed", &source, "stock", &destination, "START")
        .await;
    service.streaming(pipeline).await;
    let replication_id = service.get(&format!("/api/v1/pipelines/{pipeline}")).await["source"]
        ["replication_id"]
        .as_i64()
        .unwrap();
    let slot = format!("rosetta_{replication_id}_{pipeline}");
    let slots = |name: String| {
        let source = &source;
        async move {
            source
                .count(&format!(
                    "SELECT count(*) AS value FROM pg_replication_slots WHERE slot_name = '{name}'"
                ))
                .await
        }
    };
    assert_eq!(slots(slot.clone()).await, 1);
    let source_id =
        service.get(&format!("/api/v1/pipelines/{pipeline}")).await["source_id"].clone();
    let listed = eventually(
        "the monitor to list the slot",
        Duration::from_secs(30),
        || async {
            let report = service
                .get(&format!("/api/v1/sources/{source_id}/wal"))
                .await;
            let owned = report["slots"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| s["name"] == slot.as_str() && s["pipeline_id"] == pipeline);
            (owned, report)
        },
    )
    .await;
    assert_eq!(
        listed["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == slot.as_str())
            .unwrap()["pipeline_name"],
        "doomed"
    );
    let (status, _) = service
        .call(
            Method::DELETE,
            &format!("/api/v1/pipelines/{pipeline}"),
            None,
        )
        .await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(slots(slot).await, 0, "the slot holds no WAL back any more");
    service.stop().await;
}
