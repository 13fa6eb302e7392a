//! Initial copies: rows in COPY text arrive as they were, the copy is recorded for `state()`,
//! and a copy that fails (or is abandoned) leaves the table as it was; a table whose columns
//! all have their source's built-in types takes COPY's binary format, one with a type of its
//! own (an enum) text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::*;
use futures_util::{pin_mut, StreamExt};
use rosetta_domain::ports::{CopyFormat, DestinationError, TableSync};
use rosetta_domain::replication::{Column, Datum, Lsn, TableName, TableSchema};

fn notes() -> TableSchema {
    table(
        16_400,
        "notes",
        vec![
            column("id", "integer", true),
            column("body", "text", false),
            column("data", "bytea", false),
        ],
    )
}

#[tokio::test]
async fn copied_rows_arrive_as_they_were_and_the_copy_is_recorded() {
    let db = TestDatabase::new().await;
    let mut session = db.open(1).await;
    session.reset("slot_a").await.unwrap();
    let notes = notes();
    session.prepare_table(&notes).await.unwrap();
    let mut copy = session.copy_table(&notes).await.unwrap();
    // As a source's COPY TO STDOUT writes them, one message a row, and a few rows at once.
    copy.write(Bytes::from_static(b"1\ttab\\there\\nnew line\t\\\\x00ff\n"))
        .await
        .unwrap();
    copy.write(Bytes::from_static(b"2\t\\N\t\\N\n"))
        .await
        .unwrap();
    copy.write(Bytes::from(
        "3\tback\\\\slash \u{e9}\u{1F600} \\r\t\\\\x\n4\t\t\\\\x6869\n",
    ))
    .await
    .unwrap();
    let big: String = (5..2_005).map(|i| format!("{i}\trow {i}\t\\N\n")).collect();
    copy.write(Bytes::from(big)).await.unwrap();
    assert_eq!(copy.finish(Lsn::new(0x1_0000_0010)).await.unwrap(), 2_004);

    let client = db.client().await;
    let got = rows(
        &client,
        "SELECT id::text, body, data::text FROM mirror.notes WHERE id <= 4",
    )
    .await;
    let some = |v: &str| Some(v.to_owned());
    assert_eq!(
        got,
        [
            vec![some("1"), some("tab\there\nnew line"), some("\\x00ff")],
            vec![some("2"), None, None],
            vec![some("3"), some("back\\slash é😀 \r"), some("\\x")],
            vec![some("4"), some(""), some("\\x6869")],
        ]
    );
    let state = session.state().await.unwrap().unwrap();
    assert_eq!(state.slot, "slot_a");
    assert_eq!(
        state.tables,
        [TableSync {
            table: TableName::new("shop", "notes"),
            synced_at: Lsn::new(0x1_0000_0010),
            rows: 2_004,
        }]
    );
}

#[tokio::test]
async fn a_copy_that_fails_or_is_abandoned_leaves_the_table_as_it_was() {
    let db = TestDatabase::new().await;
    let mut session = db.open(1).await;
    let notes = notes();
    session.prepare_table(&notes).await.unwrap();
    session
        .apply(&[insert(&notes, &[text("1"), text("before"), Datum::Null])])
        .await
        .unwrap();
    session.commit(checkpoint(100)).await.unwrap();
    session.committed().await.unwrap();

    let mut copy = session.copy_table(&notes).await.unwrap();
    copy.write(Bytes::from_static(b"7\tfine\t\\N\n"))
        .await
        .unwrap();
    copy.write(Bytes::from_static(b"s3cr3t-value\toops\t\\N\n"))
        .await
        .unwrap();
    match copy.finish(Lsn::new(200)).await {
        Err(DestinationError::Rejected { table, reason }) => {
            assert_eq!(table, "mirror.notes");
            assert!(
                reason.contains("invalid input syntax for type integer"),
                "{reason}"
            );
            assert!(!reason.contains("s3cr3t"), "{reason}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }

    let mut abandoned = session.copy_table(&notes).await.unwrap();
    abandoned
        .write(Bytes::from_static(b"8\tnever\t\\N\n"))
        .await
        .unwrap();
    drop(abandoned);

    let client = db.client().await;
    let got = rows(&client, "SELECT id::text, body FROM mirror.notes").await;
    assert_eq!(got, [[Some("1".to_owned()), Some("before".to_owned())]]);
    let state = session.state().await.unwrap();
    assert!(state.is_none() || state.unwrap().tables.is_empty());
}

/// A column of a built-in type, with its object id as a source reports it.
fn builtin(name: &str, type_name: &str, oid: u32, key: bool) -> Column {
    Column {
        type_oid: oid,
        ..column(name, type_name, key)
    }
}

#[tokio::test]
async fn built_in_types_are_copied_in_binary_and_a_type_of_its_own_in_text() {
    let db = TestDatabase::new().await;
    let client = db.client().await;
    // What a source's `COPY … TO STDOUT (FORMAT binary)` sends, from a table of this database.
    client
        .batch_execute(
            "CREATE TABLE public.origin (id bigint PRIMARY KEY, amount numeric(12,2), \
                 at timestamptz, tags text[], doc jsonb, raw bytea, uid uuid);
             INSERT INTO public.origin SELECT i, i / 7.0, '2026-01-01 12:00+02'::timestamptz + i * interval '1 h', \
                 ARRAY['a', NULL, 'c' || i], jsonb_build_object('i', i), '\\x00ff'::bytea, \
                 md5(i::text)::uuid FROM generate_series(1, 3000) AS i;
             INSERT INTO public.origin VALUES (0, NULL, NULL, NULL, NULL, NULL, NULL);
             CREATE TYPE public.mood AS ENUM ('ok', 'sad');",
        )
        .await
        .unwrap();
    let typed = table(
        16_401,
        "typed",
        vec![
            builtin("id", "bigint", 20, true),
            Column {
                type_modifier: (12 << 16) + 2 + 4,
                ..builtin("amount", "numeric", 1_700, false)
            },
            builtin("at", "timestamp with time zone", 1_184, false),
            builtin("tags", "text[]", 1_009, false),
            builtin("doc", "jsonb", 3_802, false),
            builtin("raw", "bytea", 17, false),
            builtin("uid", "uuid", 2_950, false),
        ],
    );
    let mut session = db.open(1).await;
    session.reset("slot_b").await.unwrap();
    session.prepare_table(&typed).await.unwrap();
    let mut copy = session.copy_table(&typed).await.unwrap();
    assert_eq!(copy.format(), CopyFormat::Binary);
    let out = client
        .copy_out("COPY (SELECT * FROM public.origin ORDER BY id) TO STDOUT (FORMAT binary)")
        .await
        .unwrap();
    pin_mut!(out);
    while let Some(message) = out.next().await {
        copy.write(message.unwrap()).await.unwrap();
    }
    assert_eq!(copy.finish(Lsn::new(0x10)).await.unwrap(), 3_001);
    let differ = rows(
        &client,
        "SELECT count(*)::text FROM (SELECT * FROM public.origin EXCEPT SELECT * FROM mirror.typed) AS d",
    )
    .await;
    assert_eq!(differ, [[Some("0".to_owned())]], "every row as it was");

    // An enum the destination does not have is text there, so the copy is text.
    let moods = table(
        16_402,
        "moods",
        vec![
            builtin("id", "integer", 23, true),
            column("mood", "shop.mood", false),
        ],
    );
    session.prepare_table(&moods).await.unwrap();
    let mut copy = session.copy_table(&moods).await.unwrap();
    assert_eq!(copy.format(), CopyFormat::Text);
    copy.write(Bytes::from_static(b"1\tsad\n")).await.unwrap();
    assert_eq!(copy.finish(Lsn::new(0x20)).await.unwrap(), 1);

    // A source type of its own is text too, even where the destination has a type of that name.
    let own = table(
        16_403,
        "own",
        vec![
            builtin("id", "integer", 23, true),
            Column {
                type_oid: 16_500,
                ..column("mood", "public.mood", false)
            },
        ],
    );
    session.prepare_table(&own).await.unwrap();
    let copy = session.copy_table(&own).await.unwrap();
    assert_eq!(copy.format(), CopyFormat::Text);
}
