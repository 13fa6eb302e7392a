//! Fencing: once a newer run of a pipeline has opened on the destination, an older one can
//! neither open nor write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::*;
use rosetta_domain::ports::{DestinationError, DestinationWriter};
use rosetta_domain::replication::Lsn;
use rosetta_domain::PipelineId;

fn assert_fenced(result: Result<impl std::fmt::Debug, DestinationError>, ours: u64, newer: u64) {
    match result {
        Err(DestinationError::Fenced {
            pipeline,
            ours: o,
            newer: n,
        }) => {
            assert_eq!((pipeline, o, n), (PipelineId::new(7), ours, newer));
        }
        other => panic!("expected Fenced, got {other:?}"),
    }
}

#[tokio::test]
async fn a_run_older_than_the_newest_cannot_open() {
    let db = TestDatabase::new().await;
    let _second = db.open(2).await;
    let result = writer()
        .open(&db.destination("mirror"), PipelineId::new(7), 1)
        .await
        .map(|_| ());
    assert_fenced(result, 1, 2);
    // The same run may open again (a reconnect), and a newer one takes over.
    let _again = db.open(2).await;
    let _third = db.open(3).await;
    let epoch: i64 = db
        .client()
        .await
        .query_one(
            "SELECT epoch FROM rosetta.checkpoints WHERE pipeline_id = 7",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(epoch, 3);
}

#[tokio::test]
async fn an_older_run_cannot_write_after_a_newer_one_opened() {
    let db = TestDatabase::new().await;
    let orders = table(
        16_400,
        "orders",
        vec![column("id", "bigint", true), column("note", "text", false)],
    );
    let items = table(
        16_401,
        "items",
        vec![column("id", "bigint", true), column("note", "text", false)],
    );
    let mut first = db.open(1).await;
    first.reset("slot_1").await.unwrap();
    first.prepare_table(&orders).await.unwrap();
    first.prepare_table(&items).await.unwrap();
    // A copy holds its table until it commits: the changes go to another table.
    let mut copy = first.copy_table(&orders).await.unwrap();
    copy.write(Bytes::from_static(b"1\tcopied\n"))
        .await
        .unwrap();
    first
        .apply(&[insert(&items, &[text("2"), text("streamed")])])
        .await
        .unwrap();

    let mut second = db.open(2).await;

    // The commit is sent ahead; its outcome comes from `committed`.
    first.commit(checkpoint(100)).await.unwrap();
    assert_fenced(first.committed().await, 1, 2);
    assert_fenced(copy.finish(Lsn::new(50)).await, 1, 2);
    assert_fenced(first.reset("slot_2").await, 1, 2);
    let client = db.client().await;
    let count: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM mirror.orders) + (SELECT count(*) FROM mirror.items)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0, "nothing of the older run is committed");
    let state = second.state().await.unwrap().unwrap();
    assert_eq!(state.slot, "slot_1");
    assert_eq!(state.checkpoint, None);
    assert!(state.tables.is_empty());
}
