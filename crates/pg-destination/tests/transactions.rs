//! What commits and what does not: a commit writes the changes with the checkpoint `state()`
//! reads; a failed batch, or a session dropped before its commit, leaves the destination as
//! the last commit left it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rosetta_domain::ports::DestinationError;
use rosetta_domain::replication::{Change, Datum, TableSchema};

fn orders() -> TableSchema {
    table(
        16_400,
        "orders",
        vec![
            column("id", "bigint", true),
            column("status", "text", false),
            column("doc", "text", false),
        ],
    )
}

fn order(id: &str, status: &str) -> [Datum; 3] {
    [text(id), text(status), Datum::Null]
}

async fn contents(db: &TestDatabase) -> Vec<Vec<Option<String>>> {
    rows(
        &db.client().await,
        "SELECT id::text, status, left(doc, 10) FROM mirror.orders",
    )
    .await
}

#[tokio::test]
async fn a_commit_writes_the_changes_with_the_checkpoint_state_reads() {
    let db = TestDatabase::new().await;
    let mut session = db.open(1).await;
    assert_eq!(session.state().await.unwrap(), None, "no slot chosen yet");
    session.reset("rosetta_1_7").await.unwrap();
    let orders = orders();
    session.prepare_table(&orders).await.unwrap();
    let state = session.state().await.unwrap().unwrap();
    assert_eq!(
        (state.slot.as_str(), state.checkpoint),
        ("rosetta_1_7", None)
    );

    session
        .apply(&[
            insert(&orders, &order("1", "new")),
            insert(&orders, &order("2", "new")),
        ])
        .await
        .unwrap();
    session
        .apply(&[update(&orders, None, &order("2", "paid"))])
        .await
        .unwrap();
    session.commit(checkpoint(0x1_0000_0100)).await.unwrap();
    session.committed().await.unwrap();
    assert_eq!(
        session.state().await.unwrap().unwrap().checkpoint,
        Some(checkpoint(0x1_0000_0100))
    );
    // A checkpoint alone, with no change pending (an idle stream moving on).
    session.commit(checkpoint(0x1_0000_0200)).await.unwrap();
    session.committed().await.unwrap();
    let reopened = db.open(2).await.state().await.unwrap().unwrap();
    assert_eq!(reopened.checkpoint, Some(checkpoint(0x1_0000_0200)));
    assert_eq!(
        contents(&db).await,
        [
            vec![Some("1".into()), Some("new".into()), None],
            vec![Some("2".into()), Some("paid".into()), None]
        ]
    );
    // A reset forgets the checkpoint for a new slot.
    let mut newest = db.open(3).await;
    newest.reset("rosetta_1_7_b").await.unwrap();
    let state = newest.state().await.unwrap().unwrap();
    assert_eq!(
        (state.slot.as_str(), state.checkpoint),
        ("rosetta_1_7_b", None)
    );
}

#[tokio::test]
async fn a_failing_batch_rolls_back_everything_since_the_last_commit() {
    let db = TestDatabase::new().await;
    db.client()
        .await
        .batch_execute(
            "CREATE SCHEMA mirror; CREATE TABLE mirror.orders (id bigint PRIMARY KEY, \
             status text CHECK (status <> 's3cr3t'), doc text)",
        )
        .await
        .unwrap();
    let mut session = db.open(1).await;
    let orders = orders();
    session.prepare_table(&orders).await.unwrap();
    session
        .apply(&[insert(&orders, &order("1", "new"))])
        .await
        .unwrap();
    session.commit(checkpoint(100)).await.unwrap();
    session.committed().await.unwrap();

    session
        .apply(&[
            insert(&orders, &order("2", "new")),
            update(&orders, None, &order("1", "paid")),
        ])
        .await
        .unwrap();
    // The statements are sent ahead: the refusal comes from the next call at the latest,
    // here the commit's.
    let refused = async {
        session
            .apply(&[insert(&orders, &order("3", "s3cr3t"))])
            .await?;
        session.commit(checkpoint(200)).await?;
        session.committed().await
    }
    .await;
    match refused {
        Err(DestinationError::Rejected { table, reason }) => {
            assert_eq!(table, "mirror.orders");
            assert!(reason.contains("orders_status_check"), "{reason}");
            assert!(!reason.contains("s3cr3t"), "{reason}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_eq!(
        contents(&db).await,
        [vec![Some("1".into()), Some("new".into()), None]]
    );
    assert_eq!(
        session.state().await.unwrap().map(|s| s.checkpoint),
        None,
        "never reset: no state"
    );
    let checkpoint_row: Option<String> = db
        .client()
        .await
        .query_one("SELECT end_lsn::text FROM rosetta.checkpoints", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(checkpoint_row.as_deref(), Some("0/64"));

    // The session goes on from the last commit.
    session
        .apply(&[insert(&orders, &order("4", "new"))])
        .await
        .unwrap();
    session.commit(checkpoint(300)).await.unwrap();
    session.committed().await.unwrap();
    assert_eq!(contents(&db).await.len(), 2);
}

#[tokio::test]
async fn a_session_dropped_before_its_commit_leaves_the_last_commit() {
    let db = TestDatabase::new().await;
    let orders = orders();
    let mut session = db.open(1).await;
    session.reset("slot").await.unwrap();
    session.prepare_table(&orders).await.unwrap();
    session
        .apply(&[insert(&orders, &order("1", "new"))])
        .await
        .unwrap();
    session.commit(checkpoint(100)).await.unwrap();
    session.committed().await.unwrap();
    session
        .apply(&[
            insert(&orders, &order("2", "lost")),
            Change::Truncate {
                relations: vec![orders.id],
                restart_identity: false,
            },
            insert(&orders, &order("3", "lost")),
        ])
        .await
        .unwrap();
    drop(session);

    // The next run (after a crash, a new process) finds the last commit and only its rows.
    let mut next = db.open(2).await;
    let state = next.state().await.unwrap().unwrap();
    assert_eq!(state.checkpoint, Some(checkpoint(100)));
    assert_eq!(
        contents(&db).await,
        [vec![Some("1".into()), Some("new".into()), None]]
    );
}

#[tokio::test]
async fn unchanged_toasted_values_keep_the_destinations_value_even_when_the_key_moves() {
    let db = TestDatabase::new().await;
    let orders = orders();
    let mut session = db.open(1).await;
    session.prepare_table(&orders).await.unwrap();
    let big = "x".repeat(100_000);
    session
        .apply(&[
            insert(
                &orders,
                &[text("1"), text("new"), text(&format!("one{big}"))],
            ),
            insert(
                &orders,
                &[text("2"), text("new"), text(&format!("two{big}"))],
            ),
        ])
        .await
        .unwrap();
    session.commit(checkpoint(100)).await.unwrap();
    session.committed().await.unwrap();
    let key = |id: &str| [text(id), Datum::Null, Datum::Null];
    session
        .apply(&[
            // Another column changes; the big value is not sent.
            update(&orders, None, &[text("1"), text("paid"), Datum::Unchanged]),
            // The key changes, and only the destination's row holds the big value.
            update(
                &orders,
                Some(&key("2")),
                &[text("20"), text("moved"), Datum::Unchanged],
            ),
            update(
                &orders,
                None,
                &[text("20"), text("moved again"), Datum::Unchanged],
            ),
        ])
        .await
        .unwrap();
    session.commit(checkpoint(200)).await.unwrap();
    session.committed().await.unwrap();
    assert_eq!(
        contents(&db).await,
        [
            vec![
                Some("1".into()),
                Some("paid".into()),
                Some("onexxxxxxx".into())
            ],
            vec![
                Some("20".into()),
                Some("moved again".into()),
                Some("twoxxxxxxx".into())
            ],
        ]
    );
    let length: i32 = db
        .client()
        .await
        .query_one("SELECT length(doc) FROM mirror.orders WHERE id = 20", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(length, 100_003);
}

#[tokio::test]
async fn a_column_added_mid_stream_is_added_and_undone_with_its_transaction() {
    let db = TestDatabase::new().await;
    let orders = orders();
    let mut session = db.open(1).await;
    session.prepare_table(&orders).await.unwrap();
    session
        .apply(&[insert(&orders, &order("1", "new"))])
        .await
        .unwrap();
    // The stream's next Relation message has one more column; the transaction is still open.
    let mut wider = orders.clone();
    wider.columns.push(column("note", "text", false));
    session.prepare_table(&wider).await.unwrap();
    session
        .apply(&[
            insert(
                &wider,
                &[text("2"), text("new"), Datum::Null, text("hello")],
            ),
            update(
                &wider,
                None,
                &[text("1"), text("paid"), Datum::Null, text("later")],
            ),
        ])
        .await
        .unwrap();
    session.commit(checkpoint(100)).await.unwrap();
    session.committed().await.unwrap();
    assert_eq!(
        rows(
            &db.client().await,
            "SELECT id::text, status, note FROM mirror.orders"
        )
        .await,
        [
            vec![Some("1".into()), Some("paid".into()), Some("later".into())],
            vec![Some("2".into()), Some("new".into()), Some("hello".into())],
        ]
    );

    // Added in a transaction that rolls back, the column goes, and the session writes with
    // the layout it had before.
    session
        .apply(&[insert(
            &wider,
            &[text("4"), text("lost"), Datum::Null, Datum::Null],
        )])
        .await
        .unwrap();
    let mut widest = wider.clone();
    widest.columns.push(column("extra", "integer", false));
    session.prepare_table(&widest).await.unwrap();
    // The refusal comes from `apply`, or from the next call when the statement was sent
    // ahead; either way nothing of the transaction commits.
    let refused = async {
        session
            .apply(&[insert(
                &widest,
                &[
                    text("3"),
                    text("new"),
                    Datum::Null,
                    Datum::Null,
                    text("not a number"),
                ],
            )])
            .await?;
        session.commit(checkpoint(150)).await?;
        session.committed().await
    }
    .await;
    assert!(
        matches!(refused, Err(DestinationError::Rejected { .. })),
        "{refused:?}"
    );
    session
        .apply(&[insert(
            &wider,
            &[text("5"), text("new"), Datum::Null, Datum::Null],
        )])
        .await
        .unwrap();
    session.commit(checkpoint(200)).await.unwrap();
    session.committed().await.unwrap();
    assert_eq!(
        rows(&db.client().await, "SELECT id::text FROM mirror.orders").await,
        [
            [Some("1".to_owned())],
            [Some("2".to_owned())],
            [Some("5".to_owned())]
        ]
    );
    let columns: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' \
             AND table_schema = 'mirror'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(columns, 4);
}

#[tokio::test]
async fn values_of_every_common_type_arrive_as_the_source_wrote_them() {
    let db = TestDatabase::new().await;
    // A composite key of two types, and one column of each type a pipeline commonly carries.
    let types = [
        ("region", "text", true),
        ("id", "uuid", true),
        ("amount", "numeric(12,2)", false),
        ("placed_at", "timestamp with time zone", false),
        ("local_at", "timestamp without time zone", false),
        ("day", "date", false),
        ("took", "interval", false),
        ("ratio", "double precision", false),
        ("paid", "boolean", false),
        ("blob", "bytea", false),
        ("tags", "integer[]", false),
        ("payload", "jsonb", false),
        ("code", "character varying(5)", false),
    ];
    let typed = table(
        16_410,
        "typed",
        types
            .iter()
            .map(|(name, ty, key)| column(name, ty, *key))
            .collect(),
    );
    let values = |region: &str, id: &str, amount: &str, payload: &str| {
        [
            text(region),
            text(id),
            text(amount),
            text("2026-12-01 10:00:00.123456+00"),
            text("2026-12-01 10:00:00"),
            text("2026-12-01"),
            text("1 day 02:03:04"),
            text("0.1"),
            text("t"),
            text("\\x00ff5c"),
            text("{1,NULL,3}"),
            text(payload),
            text("ab\tc"),
        ]
    };
    let first = "00000000-0000-0000-0000-000000000001";
    let second = "00000000-0000-0000-0000-000000000002";
    let third = "00000000-0000-0000-0000-000000000003";
    let mut session = db.open(1).await;
    session.prepare_table(&typed).await.unwrap();
    session
        .apply(&[
            insert(&typed, &values("eu", first, "1.50", r#"{"a": [1, "x"]}"#)),
            insert(&typed, &values("eu", second, "2.00", "null")),
            insert(&typed, &values("us", first, "3.25", "[]")),
        ])
        .await
        .unwrap();
    session.commit(checkpoint(100)).await.unwrap();
    session.committed().await.unwrap();
    // The key and nothing else: an update setting every other column to NULL, or a delete.
    let key_only = |region: &str, id: &str| {
        let mut row = values(region, id, "0", "{}");
        row[2..].fill(Datum::Null);
        row
    };
    session
        .apply(&[
            update(&typed, None, &values("eu", first, "-7.10", r#"{"b": {}}"#)),
            update(&typed, None, &key_only("eu", second)),
            delete(&typed, &key_only("us", first)),
            insert(&typed, &values("us", third, "0.00", r#""s""#)),
        ])
        .await
        .unwrap();
    session.commit(checkpoint(200)).await.unwrap();
    session.committed().await.unwrap();
    let columns = types
        .iter()
        .map(|(name, _, _)| format!("{name}::text"))
        .collect::<Vec<_>>()
        .join(", ");
    let got = rows(
        &db.client().await,
        &format!("SET TimeZone = 'UTC'; SELECT {columns} FROM mirror.typed"),
    )
    .await;
    let row = |region: &str, id: &str, amount: &str, payload: &str| {
        [
            region,
            id,
            amount,
            "2026-12-01 10:00:00.123456+00",
            "2026-12-01 10:00:00",
            "2026-12-01",
            "1 day 02:03:04",
            "0.1",
            "true",
            "\\x00ff5c",
            "{1,NULL,3}",
            payload,
            "ab\tc",
        ]
        .map(|v| Some(v.to_owned()))
        .to_vec()
    };
    let mut second_row = vec![Some("eu".to_owned()), Some(second.to_owned())];
    second_row.extend(std::iter::repeat_n(None, 11));
    assert_eq!(
        got,
        [
            row("eu", first, "-7.10", r#"{"b": {}}"#),
            second_row,
            row("us", third, "0.00", r#""s""#),
        ]
    );
}
