//! Initial copies: rows in COPY text arrive as they were, the copy is recorded for `state()`,
//! and a copy that fails (or is abandoned) leaves the table as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::*;
use rosetta_domain::ports::{DestinationError, TableSync};
use rosetta_domain::replication::{Datum, Lsn, TableName, TableSchema};

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
