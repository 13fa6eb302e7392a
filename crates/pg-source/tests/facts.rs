//! `facts` and `describe` against the logical cluster (and the replica-level one), for ready
//! and unready sources.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{unique, Scratch};
use rosetta_domain::ports::{ReplicationError, ReplicationSource};
use rosetta_domain::replication::{Lsn, RelationId, ReplicaIdentity};
use rosetta_pg_source::{PgReplicationSource, PgSourceSettings};

fn adapter() -> PgReplicationSource {
    PgReplicationSource::new(PgSourceSettings::new())
}

#[tokio::test]
async fn a_ready_source_shows_its_tables_published_columns_keys_and_slot() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute(
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text, gone int, \
                              total numeric(10,2) NOT NULL, \
                              doubled bigint GENERATED ALWAYS AS (id * 2) STORED, secret text); \
         ALTER TABLE orders DROP COLUMN gone; \
         CREATE TABLE lines (order_id bigint NOT NULL, n int NOT NULL, sku varchar(20), \
                             CONSTRAINT lines_key UNIQUE (order_id, n)); \
         ALTER TABLE lines REPLICA IDENTITY USING INDEX lines_key; \
         CREATE TABLE events (at timestamptz, payload jsonb); \
         ALTER TABLE events REPLICA IDENTITY FULL; \
         CREATE TABLE unpublished (id int PRIMARY KEY); \
         CREATE PUBLICATION pub FOR TABLE orders (id, note, total), lines, events;",
    )
    .await
    .unwrap();
    let source = scratch.source("pub");
    let slot = unique("facts");
    let adapter = adapter();

    let facts = adapter.facts(&source, &slot).await.unwrap();

    assert!(facts.server_version_num >= 150_000, "{facts:?}");
    assert_eq!(facts.wal_level, "logical");
    assert!(facts.can_replicate);
    assert!(facts.publication_exists);
    let publishes = facts.publishes;
    assert!(publishes.insert && publishes.update && publishes.delete && publishes.truncate);
    assert_eq!(facts.slot, None);
    assert!(facts.max_replication_slots >= facts.used_replication_slots);
    assert!(
        facts
            .problems("pub", &slot, source.pg_database.as_str())
            .is_empty(),
        "{:?}",
        facts.problems("pub", &slot, source.pg_database.as_str())
    );
    let names: Vec<_> = facts.tables.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["public.events", "public.lines", "public.orders"]);

    let shape = |i: usize| {
        facts.tables[i]
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.type_name.as_str(), c.nullable, c.key))
            .collect::<Vec<_>>()
    };
    // Column list, dropped and generated columns: only what the stream sends.
    assert_eq!(
        shape(2),
        [
            ("id", "bigint", false, true),
            ("note", "text", true, false),
            ("total", "numeric(10,2)", false, false),
        ]
    );
    assert_eq!(facts.tables[2].replica_identity, ReplicaIdentity::Default);
    assert_eq!(facts.tables[2].columns[0].type_oid, 20);
    assert_eq!(facts.tables[2].columns[2].type_modifier, (10 << 16) + 2 + 4);
    // No primary key: the replica identity index is the key.
    assert_eq!(
        shape(1),
        [
            ("order_id", "bigint", false, true),
            ("n", "integer", false, true),
            ("sku", "character varying(20)", true, false),
        ]
    );
    assert_eq!(facts.tables[1].replica_identity, ReplicaIdentity::Index);
    assert_eq!(
        shape(0),
        [
            ("at", "timestamp with time zone", true, false),
            ("payload", "jsonb", true, false),
        ]
    );
    assert_eq!(facts.tables[0].replica_identity, ReplicaIdentity::Full);

    // describe: the same table by its id, until it leaves the publication.
    let orders = facts.tables[2].clone();
    assert_eq!(
        adapter.describe(&source, orders.id).await.unwrap(),
        Some(orders.clone())
    );
    db.batch_execute("ALTER PUBLICATION pub DROP TABLE orders")
        .await
        .unwrap();
    assert_eq!(adapter.describe(&source, orders.id).await.unwrap(), None);
    assert_eq!(
        adapter.describe(&source, RelationId::new(1)).await.unwrap(),
        None
    );

    // The slot, once made, shows as the pipeline's.
    let snapshot = adapter.create_slot(&source, &slot, false).await.unwrap();
    let facts = adapter.facts(&source, &slot).await.unwrap();
    let state = facts.slot.clone().unwrap();
    assert_eq!(state.name, slot);
    assert_eq!(state.plugin.as_deref(), Some("pgoutput"));
    assert_eq!(state.database.as_deref(), Some(scratch.database.as_str()));
    assert_eq!(state.active_pid, None);
    assert_eq!(state.confirmed_flush, Some(snapshot.consistent_point()));
    assert_eq!(state.wal_status.as_deref(), Some("reserved"));
    assert!(snapshot.consistent_point() > Lsn::ZERO);
    snapshot.close().await;
}

#[tokio::test]
async fn a_source_without_its_publication_or_with_a_table_without_key_says_what_to_fix() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    let adapter = adapter();
    let missing = adapter.facts(&scratch.source("nopub"), "s1").await.unwrap();
    assert!(!missing.publication_exists);
    assert!(missing.tables.is_empty());
    assert!(missing.problems("nopub", "s1", "unused")[0].contains("CREATE PUBLICATION nopub"));

    db.batch_execute(
        "CREATE TABLE bare (a int, b text); CREATE PUBLICATION pub FOR TABLE bare; \
         CREATE PUBLICATION inserts FOR TABLE bare WITH (publish = 'insert');",
    )
    .await
    .unwrap();
    let facts = adapter.facts(&scratch.source("pub"), "s1").await.unwrap();
    assert!(!facts.tables[0].has_key());
    let problems = facts.problems("pub", "s1", "unused");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("public.bare has no primary key"),
        "{problems:?}"
    );
    // Publishing only inserts, it needs no key.
    let inserts = adapter
        .facts(&scratch.source("inserts"), "s1")
        .await
        .unwrap();
    assert!(inserts.publishes.insert && !inserts.publishes.update);
    assert!(inserts.problems("inserts", "s1", "unused").is_empty());
}

#[tokio::test]
async fn a_role_without_replication_cannot_replicate_nor_stream() {
    let mut scratch = Scratch::new().await;
    let role = unique("norepl");
    scratch.role(&role).await;
    let db = scratch.client().await;
    db.batch_execute(&format!(
        "CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE t; \
         GRANT SELECT ON t TO {role};"
    ))
    .await
    .unwrap();
    let mut source = scratch.source("pub");
    source.pg_username = rosetta_domain::Text::parse(&role).unwrap();
    let adapter = adapter();

    let facts = adapter.facts(&source, "s1").await.unwrap();
    assert!(!facts.can_replicate);
    assert!(facts.problems("pub", "s1", "unused")[0].contains("REPLICATION"));
    let error = adapter
        .stream(&source, "s1", Lsn::ZERO)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error, ReplicationError::Connect { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("replication"), "{message}");
    assert!(!message.contains(common::PASSWORD), "{message}");
}

#[tokio::test]
async fn a_source_at_wal_level_replica_says_so_and_cannot_make_a_slot() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL names the replica-level cluster");
    let config: tokio_postgres::Config = url.parse().unwrap();
    let scratch = Scratch::on(config).await;
    let adapter = adapter();
    let source = scratch.source("pub");
    let facts = adapter.facts(&source, "s1").await.unwrap();
    assert_eq!(facts.wal_level, "replica");
    assert!(facts
        .problems("pub", "s1", "unused")
        .iter()
        .any(|p| p.contains("wal_level = logical")));
    let error = adapter
        .create_slot(&source, &unique("replica"), false)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&error, ReplicationError::Refused { code, .. } if code == "55000"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unreachable_source_is_a_connect_error_naming_its_host() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let scratch_source = common::source_at("127.0.0.1", port, "postgres", "postgres", "pub");
    let error = adapter().facts(&scratch_source, "s1").await.unwrap_err();
    assert!(
        matches!(error, ReplicationError::Connect { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
    assert!(error.is_transient());
}
