//! The change stream against the logical cluster: a mixed workload in commit order, confirmed
//! positions reaching the slot, keepalives of an idle stream, restarts that repeat nothing,
//! one stream per slot, missing and dropped slots, and next() abandoned again and again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{next_within, quiet_for, transactions, unique, Scratch};
use rosetta_domain::ports::{ReplicationError, ReplicationSource};
use rosetta_domain::replication::{Change, Datum, Lsn, Row, StreamEvent};
use rosetta_pg_source::{PgReplicationSource, PgSourceSettings};
use tokio_postgres::Client;

fn adapter() -> PgReplicationSource {
    PgReplicationSource::new(PgSourceSettings::new())
}

/// A scratch database with table `items` published by `pub`, and a slot (its snapshot closed).
async fn prepared() -> (Scratch, Client, PgReplicationSource, String) {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute(
        "CREATE TABLE items (id int PRIMARY KEY, name text); \
         CREATE TABLE other (id int PRIMARY KEY); \
         CREATE PUBLICATION pub FOR TABLE items;",
    )
    .await
    .unwrap();
    let adapter = adapter();
    let slot = unique("stream");
    let snapshot = adapter
        .create_slot(&scratch.source("pub"), &slot, false)
        .await
        .unwrap();
    snapshot.close().await;
    (scratch, db, adapter, slot)
}

fn text(value: &str) -> Datum {
    Datum::Text(value.to_owned().into())
}

fn changes(events: &[StreamEvent]) -> Vec<Change> {
    events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::Change(change) => Some(change.clone()),
            _ => None,
        })
        .collect()
}

fn last_commit_end(events: &[StreamEvent]) -> Lsn {
    events
        .iter()
        .rev()
        .find_map(|event| match event {
            StreamEvent::Commit { end_lsn, .. } => Some(*end_lsn),
            _ => None,
        })
        .expect("a commit")
}

async fn confirmed_flush(db: &Client, slot: &str) -> Lsn {
    let row = db
        .query_one(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap();
    row.get::<_, String>(0).parse().unwrap()
}

#[tokio::test]
async fn a_workload_arrives_in_commit_order_and_confirming_moves_the_slot() {
    let (scratch, db, adapter, slot) = prepared().await;
    let source = scratch.source("pub");
    let mut stream = adapter.stream(&source, &slot, Lsn::ZERO).await.unwrap();
    for sql in [
        "INSERT INTO items VALUES (1, 'a'), (2, 'b')",
        "UPDATE items SET name = 'a2' WHERE id = 1",
        "UPDATE items SET id = 20 WHERE id = 2",
        "DELETE FROM items WHERE id = 20",
        "TRUNCATE items",
        "INSERT INTO items SELECT i, 'bulk' FROM generate_series(1, 50000) i",
    ] {
        db.batch_execute(sql).await.unwrap();
    }

    let first = transactions(stream.as_mut(), 5).await;
    assert!(matches!(first[0], StreamEvent::Begin { .. }), "{first:?}");
    let StreamEvent::Relation(relation) = &first[1] else {
        panic!("the table's Relation comes before its first change: {first:?}");
    };
    assert_eq!(relation.name.name, "items");
    let id = relation.id;
    let row = |values: &[Datum]| Row(values.to_vec());
    assert_eq!(
        changes(&first),
        vec![
            Change::Insert {
                relation: id,
                new: row(&[text("1"), text("a")])
            },
            Change::Insert {
                relation: id,
                new: row(&[text("2"), text("b")])
            },
            Change::Update {
                relation: id,
                old: None,
                new: row(&[text("1"), text("a2")])
            },
            Change::Update {
                relation: id,
                old: Some(row(&[text("2"), Datum::Null])),
                new: row(&[text("20"), text("b")]),
            },
            Change::Delete {
                relation: id,
                old: row(&[text("20"), Datum::Null])
            },
            Change::Truncate {
                relations: vec![id],
                restart_identity: false
            },
        ]
    );
    let bulk = transactions(stream.as_mut(), 1).await;
    let inserts = changes(&bulk);
    assert_eq!(inserts.len(), 50_000);
    assert_eq!(
        inserts[49_999],
        Change::Insert {
            relation: id,
            new: row(&[text("50000"), text("bulk")])
        }
    );

    let end = last_commit_end(&bulk);
    let before = confirmed_flush(&db, &slot).await;
    assert!(before < end);
    stream.confirm(end);
    let asked = Instant::now();
    while confirmed_flush(&db, &slot).await < end {
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "confirmed_flush_lsn did not reach {end} within 3 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stream.close().await;
}

#[tokio::test]
async fn an_idle_stream_hears_keepalives_and_confirming_them_lets_the_slot_advance() {
    let (scratch, db, adapter, slot) = prepared().await;
    let mut stream = adapter
        .stream(&scratch.source("pub"), &slot, Lsn::ZERO)
        .await
        .unwrap();
    // Only an unpublished table is written: the log moves, the stream has nothing to send.
    db.batch_execute("INSERT INTO other SELECT generate_series(1, 1000)")
        .await
        .unwrap();
    let written: String = db
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    let written: Lsn = written.parse().unwrap();
    let wal_end = loop {
        match next_within(stream.as_mut(), Duration::from_secs(20)).await {
            StreamEvent::Keepalive { wal_end } if wal_end >= written => break wal_end,
            StreamEvent::Keepalive { .. } => continue,
            other => panic!("only keepalives on an idle stream, got {other:?}"),
        }
    };
    stream.confirm(wal_end);
    let asked = Instant::now();
    while confirmed_flush(&db, &slot).await < wal_end {
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "the idle slot did not advance"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stream.close().await;
}

#[tokio::test]
async fn a_restart_from_the_confirmed_position_repeats_nothing() {
    let (scratch, db, adapter, slot) = prepared().await;
    let source = scratch.source("pub");
    let mut stream = adapter.stream(&source, &slot, Lsn::ZERO).await.unwrap();
    db.batch_execute("INSERT INTO items VALUES (1, 'one')")
        .await
        .unwrap();
    db.batch_execute("INSERT INTO items VALUES (2, 'two')")
        .await
        .unwrap();
    let first = transactions(stream.as_mut(), 1).await;
    let _second = transactions(stream.as_mut(), 1).await;
    // Only the first is durable "on the destination".
    stream.confirm(last_commit_end(&first));
    stream.close().await;
    db.batch_execute("INSERT INTO items VALUES (3, 'three')")
        .await
        .unwrap();

    for start in [Lsn::ZERO, last_commit_end(&first)] {
        let mut again = adapter.stream(&source, &slot, start).await.unwrap();
        let events = transactions(again.as_mut(), 2).await;
        let ids: Vec<_> = changes(&events)
            .into_iter()
            .map(|change| match change {
                Change::Insert { new, .. } => new.0[0].clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids, [text("2"), text("3")], "from {start}");
        assert_eq!(
            quiet_for(again.as_mut(), Duration::from_millis(500)).await,
            None
        );
        again.close().await;
    }
}

#[tokio::test]
async fn one_slot_serves_one_stream_and_dropping_it_ends_that_stream() {
    let (scratch, db, adapter, slot) = prepared().await;
    let source = scratch.source("pub");
    let mut stream = adapter.stream(&source, &slot, Lsn::ZERO).await.unwrap();
    let second = adapter
        .stream(&source, &slot, Lsn::ZERO)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&second, ReplicationError::SlotInUse { slot: s } if *s == slot),
        "{second:?}"
    );
    assert!(second.is_transient());

    assert!(adapter.drop_slot(&source, &slot).await.unwrap());
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
            Ok(Ok(StreamEvent::Keepalive { .. })) => continue,
            Ok(outcome) => break outcome,
            Err(_) => panic!("the stream outlived its slot"),
        }
    };
    assert!(ended.is_err(), "{ended:?}");
    assert!(!adapter.drop_slot(&source, &slot).await.unwrap());
    let missing = adapter
        .stream(&source, &slot, Lsn::ZERO)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(missing, ReplicationError::SlotMissing { .. }),
        "{missing:?}"
    );
    assert!(!missing.is_transient());
    let left: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

#[tokio::test]
async fn next_abandoned_again_and_again_loses_no_event() {
    let (scratch, db, adapter, slot) = prepared().await;
    let mut stream = adapter
        .stream(&scratch.source("pub"), &slot, Lsn::ZERO)
        .await
        .unwrap();
    let writer = tokio::spawn(async move {
        for i in 1..=200 {
            db.batch_execute(&format!("INSERT INTO items VALUES ({i}, 'x')"))
                .await
                .unwrap();
        }
        db
    });
    let mut ids = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while ids.len() < 200 {
        assert!(
            Instant::now() < deadline,
            "only {} of 200 inserts arrived",
            ids.len()
        );
        // Far shorter than the writer's pace: most waits are abandoned.
        let Ok(event) = tokio::time::timeout(Duration::from_micros(200), stream.next()).await
        else {
            continue;
        };
        if let StreamEvent::Change(Change::Insert { new, .. }) = event.unwrap() {
            ids.push(new.0[0].clone());
        }
    }
    let expected: Vec<_> = (1..=200).map(|i: i32| text(&i.to_string())).collect();
    assert_eq!(ids, expected);
    let _db = writer.await.unwrap();
    stream.close().await;
}
