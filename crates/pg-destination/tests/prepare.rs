//! Preparing tables: a missing table is created as the source's, an existing one is checked
//! and extended, and one that cannot take the rows is refused with what to change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rosetta_domain::ports::DestinationError;
use rosetta_domain::replication::TableName;

/// `schema.table`'s columns as `name type`, and its primary key's columns, from the catalogue.
async fn describe(client: &tokio_postgres::Client, table: &str) -> (Vec<String>, Vec<String>) {
    let columns = client
        .query(
            "SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let key = client
        .query(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a \
             ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) \
             WHERE i.indrelid = $1::text::regclass AND i.indisprimary ORDER BY a.attname",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (columns, key)
}

fn incompatible(result: Result<(), DestinationError>) -> (String, String) {
    match result {
        Err(DestinationError::Incompatible { table, reason }) => (table, reason),
        other => panic!("expected Incompatible, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_table_is_created_with_the_sources_columns_types_and_key() {
    let db = TestDatabase::new().await;
    let mut session = db.open(1).await;
    let lines = table(
        16_400,
        "Order lines",
        vec![
            column("order_id", "bigint", true),
            column("Line", "integer", true),
            modified("sku", "character varying(20)", 24, false),
            modified("price", "numeric(10,2)", (10 << 16 | 2) + 4, false),
            column("tags", "text[]", false),
            modified("at", "timestamp(3) with time zone", 3, false),
            column("mood", "shop.mood", false),
        ],
    );
    session.prepare_table(&lines).await.unwrap();
    // Preparing again changes nothing.
    session.prepare_table(&lines).await.unwrap();
    let (columns, key) = describe(&db.client().await, "mirror.\"Order lines\"").await;
    assert_eq!(
        columns,
        [
            "order_id bigint",
            "Line integer",
            "sku character varying(20)",
            "price numeric(10,2)",
            "tags text[]",
            "at timestamp(3) with time zone",
            // The destination has no type shop.mood.
            "mood text",
        ]
    );
    assert_eq!(key, ["Line", "order_id"]);
}

#[tokio::test]
async fn a_type_the_destination_has_is_kept_and_a_keyless_table_gets_no_key() {
    let db = TestDatabase::new().await;
    let client = db.client().await;
    client
        .batch_execute("CREATE TYPE public.mood AS ENUM ('ok', 'sad')")
        .await
        .unwrap();
    let mut session = db.open(1).await;
    let log = table(
        16_400,
        "log",
        vec![column("line", "text", false), column("mood", "mood", false)],
    );
    session.prepare_table(&log).await.unwrap();
    let (columns, key) = describe(&client, "mirror.log").await;
    assert_eq!(columns, ["line text", "mood mood"]);
    assert!(key.is_empty());
}

#[tokio::test]
async fn an_existing_table_gets_the_columns_it_lacks() {
    let db = TestDatabase::new().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE SCHEMA mirror; \
             CREATE TABLE mirror.orders (id bigint PRIMARY KEY, note text, \
                 loaded_at timestamptz NOT NULL DEFAULT now(), serial bigint GENERATED ALWAYS AS IDENTITY); \
             INSERT INTO mirror.orders (id, note) VALUES (1, 'kept')",
        )
        .await
        .unwrap();
    let mut session = db.open(1).await;
    let orders = table(
        16_400,
        "orders",
        vec![
            column("id", "bigint", true),
            column("note", "text", false),
            modified("total", "numeric(12,2)", (12 << 16 | 2) + 4, false),
        ],
    );
    session.prepare_table(&orders).await.unwrap();
    let (columns, key) = describe(&client, "mirror.orders").await;
    assert_eq!(
        columns,
        [
            "id bigint",
            "note text",
            "loaded_at timestamp with time zone",
            "serial bigint",
            "total numeric(12,2)"
        ]
    );
    assert_eq!(key, ["id"]);
    assert_eq!(
        rows(&client, "SELECT id, note, total FROM mirror.orders").await,
        [[Some("1".to_owned()), Some("kept".to_owned()), None]]
    );
}

#[tokio::test]
async fn a_table_that_cannot_take_the_rows_is_refused_with_what_to_change() {
    let db = TestDatabase::new().await;
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE SCHEMA mirror; \
             CREATE TABLE mirror.orders (id integer, code text PRIMARY KEY, note varchar(5), \
                 required text NOT NULL); \
             CREATE VIEW mirror.totals AS SELECT 1 AS id",
        )
        .await
        .unwrap();
    let mut session = db.open(1).await;
    let orders = table(
        16_400,
        "orders",
        vec![
            column("id", "bigint", true),
            column("code", "text", false),
            column("note", "text", false),
        ],
    );
    let (name, reason) = incompatible(session.prepare_table(&orders).await);
    assert_eq!(name, "mirror.orders");
    for expected in [
        "column id is integer on the destination and bigint on the source: \
         ALTER TABLE \"mirror\".\"orders\" ALTER COLUMN \"id\" TYPE bigint",
        "column note is character varying(5) on the destination and text on the source",
        "column required is NOT NULL without a default, and the source has no such column",
        "its primary key is (code) but the source's key is (id): ALTER TABLE \"mirror\".\"orders\" \
         DROP CONSTRAINT \"orders_pkey\", ADD PRIMARY KEY (\"id\")",
    ] {
        assert!(reason.contains(expected), "{expected}\nnot in\n{reason}");
    }
    assert!(!reason.contains(PASSWORD));
    // Nothing was changed.
    let (columns, _) = describe(&client, "mirror.orders").await;
    assert_eq!(columns.len(), 4);

    let keyless = table(16_401, "orders", vec![column("code", "text", false)]);
    let (_, reason) = incompatible(session.prepare_table(&keyless).await);
    assert!(reason.contains("the source table has no key"), "{reason}");
    assert!(
        reason.contains("DROP CONSTRAINT \"orders_pkey\""),
        "{reason}"
    );

    let totals = table(16_402, "totals", vec![column("id", "integer", true)]);
    let (_, reason) = incompatible(session.prepare_table(&totals).await);
    assert!(reason.contains("it is not a table"), "{reason}");
}

#[tokio::test]
async fn two_source_tables_of_one_name_are_refused() {
    let db = TestDatabase::new().await;
    let mut session = db.open(1).await;
    let first = table(16_400, "orders", vec![column("id", "bigint", true)]);
    let mut second = table(16_500, "orders", vec![column("id", "bigint", true)]);
    second.name = TableName::new("archive", "orders");
    session.prepare_table(&first).await.unwrap();
    let (name, reason) = incompatible(session.prepare_table(&second).await);
    assert_eq!(name, "mirror.orders");
    assert!(reason.contains("shop.orders"), "{reason}");
    assert!(reason.contains("archive.orders"), "{reason}");
}
