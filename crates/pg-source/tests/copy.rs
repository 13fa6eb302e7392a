//! Slots with their snapshots, and copies from them, against the logical cluster: streaming
//! (many small chunks), consistent with the stream that follows, parallel, limited to what
//! the publication publishes, and in the format the sink asks for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{quiet_for, transactions, unique, CountingSink, Scratch};
use rosetta_domain::ports::{CopyError, CopyFormat, ReplicationError, ReplicationSource};
use rosetta_domain::replication::{Change, Datum, Lsn, StreamEvent, TableSchema};
use rosetta_pg_source::{PgReplicationSource, PgSourceSettings};

fn adapter() -> PgReplicationSource {
    PgReplicationSource::new(PgSourceSettings::new())
}

async fn table(adapter: &PgReplicationSource, scratch: &Scratch, name: &str) -> TableSchema {
    let facts = adapter
        .facts(&scratch.source("pub"), "unused")
        .await
        .unwrap();
    facts
        .tables
        .into_iter()
        .find(|t| t.name.name == name)
        .unwrap_or_else(|| panic!("{name} is not published"))
}

#[tokio::test]
async fn a_copy_streams_the_snapshot_and_the_stream_brings_exactly_what_came_after() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute(
        "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL); \
         INSERT INTO big SELECT i, repeat('x', 100) || i FROM generate_series(1, 100000) i; \
         CREATE PUBLICATION pub FOR TABLE big;",
    )
    .await
    .unwrap();
    let adapter = adapter();
    let source = scratch.source("pub");
    let schema = table(&adapter, &scratch, "big").await;
    let slot = unique("copy");

    let snapshot = adapter.create_slot(&source, &slot, false).await.unwrap();
    // After the slot: in the stream, not in the copy (one transaction: a simple query's
    // statements run in one).
    db.batch_execute(
        "INSERT INTO big SELECT i, 'late' FROM generate_series(100001, 100010) i; \
         UPDATE big SET payload = 'changed' WHERE id = 1;",
    )
    .await
    .unwrap();
    let mut sink = CountingSink::default();
    let rows = snapshot.copy_table(&schema, &mut sink).await.unwrap();
    snapshot.close().await;

    assert_eq!(rows, 100_000);
    assert_eq!(sink.rows, 100_000);
    // One chunk a row, none large: the table is never held whole.
    assert_eq!(sink.chunks, 100_000);
    assert!(
        sink.largest_chunk < 200,
        "a chunk of {} bytes",
        sink.largest_chunk
    );
    assert!(sink.bytes > 10_000_000, "{} bytes", sink.bytes);
    assert!(
        sink.sample.iter().any(|row| row.starts_with(b"1\txxxx")),
        "{:?}",
        sink.sample
    );

    let mut stream = adapter.stream(&source, &slot, Lsn::ZERO).await.unwrap();
    let events = transactions(stream.as_mut(), 1).await;
    let inserted: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Change(Change::Insert { new, .. }) => Some(new.0[0].clone()),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = (100_001..=100_010)
        .map(|i: i64| Datum::Text(i.to_string().into()))
        .collect();
    assert_eq!(inserted, expected);
    assert!(
        events.iter().any(|e| matches!(
            e,
            StreamEvent::Change(Change::Update { new, .. })
                if new.0[1] == Datum::Text("changed".into())
        )),
        "{events:?}"
    );
    // Exactly once: nothing else follows.
    assert_eq!(
        quiet_for(stream.as_mut(), Duration::from_secs(2)).await,
        None
    );
    stream.close().await;
    assert!(adapter.drop_slot(&source, &slot).await.unwrap());
}

#[tokio::test]
async fn copies_run_in_parallel_and_take_only_the_published_columns_and_rows() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute(
        "CREATE TABLE a (id int PRIMARY KEY, v text); \
         CREATE TABLE b (id int PRIMARY KEY, kept text, hidden text); \
         INSERT INTO a SELECT i, 'a' FROM generate_series(1, 5000) i; \
         INSERT INTO b SELECT i, 'k', 'secret' FROM generate_series(1, 6000) i; \
         CREATE PUBLICATION pub FOR TABLE a, b (id, kept) WHERE (id % 3 = 0);",
    )
    .await
    .unwrap();
    let adapter = adapter();
    let source = scratch.source("pub");
    let (a, b) = (
        table(&adapter, &scratch, "a").await,
        table(&adapter, &scratch, "b").await,
    );
    assert_eq!(b.columns.len(), 2);
    let slot = unique("parallel");
    let snapshot = adapter.create_slot(&source, &slot, true).await.unwrap();
    let (mut into_a, mut into_b) = (CountingSink::default(), CountingSink::default());
    let (copied_a, copied_b) = tokio::join!(
        snapshot.copy_table(&a, &mut into_a),
        snapshot.copy_table(&b, &mut into_b)
    );
    assert_eq!(copied_a.unwrap(), 5000);
    assert_eq!(copied_b.unwrap(), 2000);
    assert!(
        into_b.sample.iter().all(|row| row.ends_with(b"\tk\n")),
        "{:?}",
        into_b.sample
    );
    snapshot.close().await;
}

#[tokio::test]
async fn a_temporary_slot_lives_as_long_as_its_snapshot() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE t;")
        .await
        .unwrap();
    let adapter = adapter();
    let source = scratch.source("pub");
    let slot = unique("temp");
    let exists = || async {
        db.query(
            "SELECT temporary FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap()
        .first()
        .map(|row| row.get::<_, bool>(0))
    };

    let snapshot = adapter.create_slot(&source, &slot, true).await.unwrap();
    assert_eq!(exists().await, Some(true));
    let anchors = db
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&format!("rosetta:snapshot:{slot}")],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(anchors, 1);
    snapshot.close().await;
    let mut gone = false;
    for _ in 0..50 {
        if exists().await.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the temporary slot outlived its snapshot");
}

#[tokio::test]
async fn a_slot_that_exists_already_is_refused_and_left_alone() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE t;")
        .await
        .unwrap();
    let adapter = adapter();
    let source = scratch.source("pub");
    let slot = unique("twice");
    let first = adapter.create_slot(&source, &slot, false).await.unwrap();
    first.close().await;
    let error = adapter
        .create_slot(&source, &slot, false)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&error, ReplicationError::Refused { code, .. } if code == "42710"),
        "{error:?}"
    );
    assert!(adapter.drop_slot(&source, &slot).await.unwrap());
    assert!(!adapter.drop_slot(&source, &slot).await.unwrap());
    let invalid = adapter
        .create_slot(&source, "No Such;Slot", false)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&invalid, ReplicationError::Refused { code, .. } if code == "42602"),
        "{invalid:?}"
    );
}

#[tokio::test]
async fn copying_a_table_missing_from_the_snapshot_is_a_source_error() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE t;")
        .await
        .unwrap();
    let adapter = adapter();
    let source = scratch.source("pub");
    let mut schema = table(&adapter, &scratch, "t").await;
    schema.id = rosetta_domain::replication::RelationId::new(1);
    let snapshot = adapter
        .create_slot(&source, &unique("missing"), true)
        .await
        .unwrap();
    let error = snapshot
        .copy_table(&schema, &mut CountingSink::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CopyError::Source(ReplicationError::Refused { code, .. }) if code == "42P01"),
        "{error:?}"
    );
    snapshot.close().await;
}

#[tokio::test]
async fn a_sink_that_takes_binary_gets_copy_binary_with_its_rows_counted() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute(
        "CREATE TABLE typed (id bigint PRIMARY KEY, amount numeric(12,2), at timestamptz); \
         INSERT INTO typed SELECT i, i / 3.0, now() FROM generate_series(1, 1000) i; \
         CREATE PUBLICATION pub FOR TABLE typed;",
    )
    .await
    .unwrap();
    let adapter = adapter();
    let source = scratch.source("pub");
    let schema = table(&adapter, &scratch, "typed").await;
    let snapshot = adapter
        .create_slot(&source, &unique("binary"), true)
        .await
        .unwrap();
    let mut sink = CountingSink {
        format: CopyFormat::Binary,
        ..CountingSink::default()
    };
    let rows = snapshot.copy_table(&schema, &mut sink).await.unwrap();
    snapshot.close().await;

    assert_eq!(rows, 1_000);
    // A message a row, the first after the 19-byte header; then the trailer's.
    assert_eq!(sink.chunks, 1_001);
    let first = &sink.sample[0];
    assert!(first.starts_with(b"PGCOPY\n\xff\r\n\0"), "{first:?}");
    assert_eq!(first[19..21], [0, 3], "three fields: {first:?}");
    assert!(sink.sample[1].starts_with(&[0, 3]), "{:?}", sink.sample[1]);
}
