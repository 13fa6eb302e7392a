//! The decoder against a real server: a workload's pgoutput messages, read from a slot with
//! `pg_logical_slot_get_binary_changes`, decode to exactly the events the workload made (the
//! old keys and rows of research brief table 4.7, unchanged TOASTed values, NULLs, text that
//! needs no escaping), transaction by transaction.
//!
//! Needs `LOGICAL_DATABASE_URL`: a superuser on a cluster with `wal_level = logical`
//! (`scripts/ensure-logical-postgres.sh` makes one on 127.0.0.1:5433).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod scratch;
mod slot;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rosetta_domain::replication::{
    Change, Datum, Lsn, Relation, RelationColumn, RelationId, ReplicaIdentity, Row, StreamEvent,
    TableName,
};
use rosetta_pgoutput::Message;
use scratch::{connect, Scratch};
use slot::transactions;
use tokio_postgres::Client;

/// Two published tables, one keyed by its primary key and one with `REPLICA IDENTITY FULL`, an
/// enum (whose Type message comes before the Relation that uses it), a schema and a table whose
/// names need quoting, and a table left out of the publication.
const SCHEMA: &str = r#"
    CREATE SCHEMA "Sales dept";
    CREATE TYPE "Sales dept".mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE items (
        id int PRIMARY KEY, label varchar(80), note text, amount numeric(10, 2), big text
    );
    CREATE TABLE "Sales dept"."Moods" (id int NOT NULL, how "Sales dept".mood, note text, big text);
    ALTER TABLE "Sales dept"."Moods" REPLICA IDENTITY FULL;
    -- Large values out of line and never compressed, whatever they hold.
    ALTER TABLE items ALTER COLUMN big SET STORAGE EXTERNAL;
    ALTER TABLE "Sales dept"."Moods" ALTER COLUMN big SET STORAGE EXTERNAL;
    CREATE TABLE unpublished (id int PRIMARY KEY);
"#;

/// 6,400 characters of hexadecimal: well over the 2 kB at which a row's values move out of line.
const BIG: &str = "(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) AS i)";

/// Text whose every character is sent as is: tabs, newlines, backslashes, quotes, non-ASCII.
const SPECIAL: &str = "tab\there\nnew line \\ back\\slash 'quoted' \"too\" é ü 日本 🐘";

fn text(value: &str) -> Datum {
    Datum::Text(Bytes::copy_from_slice(value.as_bytes()))
}

fn column(name: &str, type_oid: u32, type_modifier: i32, key: bool) -> RelationColumn {
    RelationColumn {
        name: name.to_owned(),
        type_oid,
        type_modifier,
        key,
    }
}

fn relation(relation: &Relation) -> Message {
    Message::Event(StreamEvent::Relation(relation.clone()))
}

fn change(change: Change) -> Message {
    Message::Event(StreamEvent::Change(change))
}

fn insert(relation: RelationId, new: Vec<Datum>) -> Message {
    change(Change::Insert {
        relation,
        new: Row(new),
    })
}

fn update(relation: RelationId, old: Option<Vec<Datum>>, new: Vec<Datum>) -> Message {
    change(Change::Update {
        relation,
        old: old.map(Row),
        new: Row(new),
    })
}

fn delete(relation: RelationId, old: Vec<Datum>) -> Message {
    change(Change::Delete {
        relation,
        old: Row(old),
    })
}

async fn oid(db: &Client, sql: &str) -> u32 {
    db.query_one(sql, &[]).await.unwrap().get(0)
}

async fn now(db: &Client) -> DateTime<Utc> {
    db.query_one("SELECT clock_timestamp()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_real_servers_messages_decode_to_the_workloads_changes() {
    let scratch = Scratch::create().await;
    let name = scratch.name.clone();
    let db = connect(&name).await;
    db.batch_execute(SCHEMA).await.unwrap();
    // One statement at a time: a slot cannot be made in a transaction that wrote.
    for statement in [
        format!(r#"CREATE PUBLICATION {name} FOR TABLE items, "Sales dept"."Moods""#),
        format!("SELECT pg_create_logical_replication_slot('{name}', 'pgoutput')"),
        format!("SELECT pg_replication_origin_create('{name}')"),
    ] {
        db.batch_execute(&statement).await.unwrap();
    }
    let items = RelationId::new(oid(&db, "SELECT 'items'::regclass::oid").await);
    let moods = RelationId::new(oid(&db, r#"SELECT '"Sales dept"."Moods"'::regclass::oid"#).await);
    let mood = oid(&db, r#"SELECT '"Sales dept".mood'::regtype::oid"#).await;
    let big: String = db
        .query_one(&format!("SELECT {BIG}"), &[])
        .await
        .unwrap()
        .get(0);
    let started = now(&db).await;

    // The workload: one source transaction per block, each checked below in this order.
    db.execute(
        &format!(
            "INSERT INTO items VALUES (1, 'one', NULL, 1.5, {BIG}), (2, $1, 'x', -3.25, NULL)"
        ),
        &[&SPECIAL],
    )
    .await
    .unwrap();
    db.batch_execute("UPDATE items SET label = 'uno' WHERE id = 1")
        .await
        .unwrap();
    db.batch_execute("UPDATE items SET id = 3 WHERE id = 2")
        .await
        .unwrap();
    db.batch_execute("DELETE FROM items WHERE id = 3")
        .await
        .unwrap();
    db.batch_execute("INSERT INTO unpublished VALUES (1)")
        .await
        .unwrap();
    // A transaction replicated from elsewhere: the origin is recorded at commit, so it is set
    // before and reset after, in transactions of their own.
    db.batch_execute(&format!(
        "SELECT pg_replication_origin_session_setup('{name}')"
    ))
    .await
    .unwrap();
    db.batch_execute(&format!(
        r#"INSERT INTO "Sales dept"."Moods" VALUES (1, 'ok', 'a', {BIG}), (2, 'sad', NULL, 'small')"#
    ))
    .await
    .unwrap();
    db.batch_execute("SELECT pg_replication_origin_session_reset()")
        .await
        .unwrap();
    db.batch_execute(r#"UPDATE "Sales dept"."Moods" SET note = 'b' WHERE id = 1"#)
        .await
        .unwrap();
    db.batch_execute(r#"DELETE FROM "Sales dept"."Moods" WHERE id = 2"#)
        .await
        .unwrap();
    db.batch_execute(
        "BEGIN;
         SELECT pg_logical_emit_message(true, 'rosetta', 'hello');
         INSERT INTO items (id) VALUES (4);
         COMMIT;",
    )
    .await
    .unwrap();
    db.batch_execute(r#"TRUNCATE items, "Sales dept"."Moods" RESTART IDENTITY"#)
        .await
        .unwrap();
    db.batch_execute("TRUNCATE items").await.unwrap();
    let finished = now(&db).await;

    let items_relation = Relation {
        id: items,
        name: TableName::new("public", "items"),
        replica_identity: ReplicaIdentity::Default,
        columns: vec![
            column("id", 23, -1, true),
            column("label", 1043, 80 + 4, false),
            column("note", 25, -1, false),
            column("amount", 1700, ((10 << 16) | 2) + 4, false),
            column("big", 25, -1, false),
        ],
    };
    let moods_relation = Relation {
        id: moods,
        name: TableName::new("Sales dept", "Moods"),
        replica_identity: ReplicaIdentity::Full,
        columns: vec![
            column("id", 23, -1, true),
            column("how", mood, -1, true),
            column("note", 25, -1, true),
            column("big", 25, -1, true),
        ],
    };
    let (null, unchanged) = (Datum::Null, Datum::Unchanged);
    let special = text(SPECIAL);
    let expected: Vec<Vec<Message>> = vec![
        vec![
            relation(&items_relation),
            insert(
                items,
                vec![
                    text("1"),
                    text("one"),
                    null.clone(),
                    text("1.50"),
                    text(&big),
                ],
            ),
            insert(
                items,
                vec![
                    text("2"),
                    special.clone(),
                    text("x"),
                    text("-3.25"),
                    null.clone(),
                ],
            ),
        ],
        // A column other than the key: no old tuple, and the untouched TOASTed value unchanged.
        vec![update(
            items,
            None,
            vec![
                text("1"),
                text("uno"),
                null.clone(),
                text("1.50"),
                unchanged.clone(),
            ],
        )],
        // The key changed: the old key, other columns NULL.
        vec![update(
            items,
            Some(vec![
                text("2"),
                null.clone(),
                null.clone(),
                null.clone(),
                null.clone(),
            ]),
            vec![text("3"), special, text("x"), text("-3.25"), null.clone()],
        )],
        vec![delete(
            items,
            vec![
                text("3"),
                null.clone(),
                null.clone(),
                null.clone(),
                null.clone(),
            ],
        )],
        // (The transaction on the unpublished table sends nothing.)
        vec![
            Message::Ignored("Origin"),
            Message::Ignored("Type"),
            relation(&moods_relation),
            insert(moods, vec![text("1"), text("ok"), text("a"), text(&big)]),
            insert(
                moods,
                vec![text("2"), text("sad"), null.clone(), text("small")],
            ),
        ],
        // FULL: the whole old row, its TOASTed value in full, and unchanged in the new row.
        vec![update(
            moods,
            Some(vec![text("1"), text("ok"), text("a"), text(&big)]),
            vec![text("1"), text("ok"), text("b"), unchanged],
        )],
        vec![delete(
            moods,
            vec![text("2"), text("sad"), null.clone(), text("small")],
        )],
        vec![
            Message::Ignored("Message"),
            insert(
                items,
                vec![text("4"), null.clone(), null.clone(), null.clone(), null],
            ),
        ],
        // A TRUNCATE changes the tables' files, so their Relations (and the enum's Type) come
        // again first.
        vec![
            relation(&items_relation),
            Message::Ignored("Type"),
            relation(&moods_relation),
            change(Change::Truncate {
                relations: vec![items, moods],
                restart_identity: true,
            }),
        ],
        vec![
            relation(&items_relation),
            change(Change::Truncate {
                relations: vec![items],
                restart_identity: false,
            }),
        ],
    ];

    let transactions = transactions(&db, &name).await;
    let bodies: Vec<&Vec<Message>> = transactions.iter().map(|t| &t.body).collect();
    assert_eq!(bodies.len(), expected.len(), "{bodies:#?}");
    for (i, (body, expected)) in bodies.into_iter().zip(&expected).enumerate() {
        assert_eq!(body, expected, "transaction {i}");
    }
    let mut previous_end = Lsn::ZERO;
    for transaction in &transactions {
        let (final_lsn, begin_time) = transaction.begin;
        let (commit_lsn, end_lsn, commit_time) = transaction.commit;
        assert_eq!(final_lsn, commit_lsn, "a Begin announces its Commit's LSN");
        assert_eq!(begin_time, commit_time);
        assert!(
            started <= commit_time && commit_time <= finished,
            "{commit_time}"
        );
        assert!(
            previous_end <= commit_lsn && commit_lsn < end_lsn,
            "commit order"
        );
        assert_eq!(
            end_lsn, transaction.commit_row_lsn,
            "the end is where the slot stands"
        );
        previous_end = end_lsn;
    }

    for statement in [
        format!("SELECT pg_drop_replication_slot('{name}')"),
        format!("DROP PUBLICATION {name}"),
        format!("SELECT pg_replication_origin_drop('{name}')"),
    ] {
        db.batch_execute(&statement).await.unwrap();
    }
    drop(scratch);
}
