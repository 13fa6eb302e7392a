//! A pipeline copies its tables and then streams every kind of change, in order, exactly
//! once.

use crate::harness::{converged, Database, Service};

/// Two tables with keys, one with a large out-of-line column, and a third that gets emptied.
const SCHEMA: &str = "
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text, note text);
CREATE TABLE orders (
    id bigint PRIMARY KEY, customer_id bigint, amount numeric(12,2),
    placed_at timestamptz NOT NULL DEFAULT '2026-12-01 10:00:00+00', tags text[], payload jsonb,
    doc text);
-- Large values stay out of line, uncompressed: an update of another column leaves them
-- unchanged in the stream.
ALTER TABLE orders ALTER COLUMN doc SET STORAGE EXTERNAL;
CREATE TABLE events (id bigint PRIMARY KEY, kind text);
INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@example.com', NULL
    FROM generate_series(1, 1000) g;
INSERT INTO orders (id, customer_id, amount, tags, payload, doc)
    SELECT g, g % 1000 + 1, g * 1.25, ARRAY['a', 'b' || g], jsonb_build_object('n', g), NULL
    FROM generate_series(1, 2000) g;
INSERT INTO events SELECT g, 'boot' FROM generate_series(1, 10) g;
CREATE PUBLICATION shop FOR TABLE customers, orders, events;
";

const WORKLOAD: &str = "
INSERT INTO customers SELECT g, 'late ' || g, NULL, E'tab\\there, newline\\nthere, back\\\\slash, é'
    FROM generate_series(1001, 1500) g;
UPDATE customers SET email = 'changed-' || id || '@example.com' WHERE id % 7 = 0;
-- The key itself changes.
UPDATE customers SET id = id + 100000 WHERE id % 10 = 0;
DELETE FROM customers WHERE id % 13 = 0;
BEGIN;
INSERT INTO orders (id, customer_id, amount, doc)
    VALUES (5000, 1, 10, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 500) g));
UPDATE orders SET amount = amount + 1 WHERE id <= 100;
COMMIT;
-- A large value written once, then its row updated elsewhere: the stream says 'unchanged'.
UPDATE orders SET doc = (SELECT string_agg(md5((g * 7)::text), '') FROM generate_series(1, 500) g)
    WHERE id = 1;
UPDATE orders SET amount = 99.99 WHERE id = 1;
UPDATE orders SET tags = NULL, payload = '{\"deep\": {\"x\": [1, 2, 3]}}' WHERE id = 2;
TRUNCATE events;
INSERT INTO events SELECT g, 'after truncate' FROM generate_series(100, 120) g;
";

#[tokio::test]
async fn a_pipeline_copies_its_tables_then_applies_every_kind_of_change_once() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source.execute(SCHEMA).await;
    let service = Service::start(&[]).await;
    let pipeline = service
        .pipeline("shop", &source, "shop", &destination, "START")
        .await;
    service.streaming(pipeline).await;
    for table in ["customers", "orders", "events"] {
        converged(&source, &destination, table, "id").await;
    }
    let metadata = service.pipeline_metadata(pipeline).await;
    assert_eq!(metadata["rows_copied"], 3010, "{metadata}");
    assert_eq!(metadata["status"], "RUNNING", "{metadata}");

    source.execute(WORKLOAD).await;
    for table in ["customers", "orders", "events"] {
        converged(&source, &destination, table, "id").await;
    }
    // The unchanged large value kept its value on the destination.
    let doc = destination
        .count("SELECT length(doc)::bigint AS value FROM orders WHERE id = 1")
        .await;
    assert_eq!(doc, 16_000);
    let tables = service
        .get(&format!("/api/v1/pipelines/{pipeline}/tables"))
        .await;
    let states: Vec<_> = tables
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["state"].clone()))
        .collect();
    assert_eq!(states.len(), 3, "{tables}");
    assert!(states.iter().all(|(_, s)| s == "streaming"), "{tables}");
    // The figures reach /metrics too, per pipeline.
    let exposition = service
        .client
        .get(format!("{}/metrics", service.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = format!("pipeline_id=\"{pipeline}\"");
    for series in [
        "rosetta_pipeline_changes_applied_total",
        "rosetta_pipeline_rows_copied_total",
        "rosetta_pipeline_lag_bytes",
    ] {
        assert!(
            exposition
                .lines()
                .any(|line| line.starts_with(series) && line.contains(&label)),
            "{series} for pipeline {pipeline} missing from /metrics"
        );
    }
    service.stop().await;
}

#[tokio::test]
async fn a_column_added_on_the_source_is_added_on_the_destination_without_a_refresh() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source
        .execute(
            "CREATE TABLE notes (id bigint PRIMARY KEY, body text);
             INSERT INTO notes VALUES (1, 'first');
             CREATE PUBLICATION notes FOR TABLE notes;",
        )
        .await;
    let service = Service::start(&[]).await;
    let pipeline = service
        .pipeline("notes", &source, "notes", &destination, "START")
        .await;
    service.streaming(pipeline).await;
    converged(&source, &destination, "notes", "id").await;

    source
        .execute(
            "ALTER TABLE notes ADD COLUMN rating integer, ADD COLUMN tags text[];
             INSERT INTO notes VALUES (2, 'second', 5, ARRAY['x']);
             UPDATE notes SET rating = 1 WHERE id = 1;",
        )
        .await;
    converged(&source, &destination, "notes", "id").await;
    let types = destination
        .texts(
            "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) \
             AS value FROM information_schema.columns WHERE table_name = 'notes'",
        )
        .await;
    assert_eq!(types, ["id bigint, body text, rating integer, tags ARRAY"]);
    service.stop().await;
}

#[tokio::test]
async fn a_change_the_destination_refuses_stops_the_pipeline_with_its_reason_and_loses_nothing() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source
        .execute(
            "CREATE TABLE users (id bigint PRIMARY KEY, email text);
             INSERT INTO users VALUES (1, 'a@example.com');
             CREATE PUBLICATION users FOR TABLE users;",
        )
        .await;
    let service = Service::start(&[]).await;
    let pipeline = service
        .pipeline("users", &source, "users", &destination, "START")
        .await;
    service.streaming(pipeline).await;
    converged(&source, &destination, "users", "id").await;

    // Someone adds a rule on the destination that the source does not have.
    destination
        .execute("ALTER TABLE users ADD CONSTRAINT no_test CHECK (email NOT LIKE '%@test.invalid')")
        .await;
    source
        .execute(
            "INSERT INTO users VALUES (2, 'b@example.com');
             INSERT INTO users VALUES (3, 'c@test.invalid');",
        )
        .await;
    let error = service
        .failed(pipeline, "the pipeline to stop on the refused row")
        .await;
    let error = error.as_str();
    assert!(
        error.contains("users") && error.contains("no_test"),
        "{error}"
    );
    assert!(
        !error.contains("c@test.invalid"),
        "a row's values never reach an error: {error}"
    );
    assert_eq!(
        destination
            .count("SELECT count(*) AS value FROM users")
            .await,
        1,
        "the refused batch is rolled back whole: nothing is half applied"
    );

    // Fixed on the destination, START again: everything arrives.
    destination
        .execute("ALTER TABLE users DROP CONSTRAINT no_test")
        .await;
    service
        .post(
            &format!("/api/v1/pipelines/{pipeline}/start"),
            serde_json::json!({}),
        )
        .await;
    converged(&source, &destination, "users", "id").await;
    service.stop().await;
}
