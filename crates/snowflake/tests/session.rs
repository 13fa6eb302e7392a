//! The Snowflake destination's session against the Snowflake emulator (fakesnow) at
//! `$SNOWFLAKE_EMULATOR_URL`, through the domain's port as the replicator drives it: the
//! bookkeeping, a table's copy, batches of changes in both modes, the fence, and statements
//! Snowflake refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use rosetta_domain::ports::{Checkpoint, DestinationError, DestinationSession, DestinationWriter};
use rosetta_domain::replication::{
    Change, Column, Datum, Lsn, RelationId, ReplicaIdentity, Row, TableName, TableSchema,
};
use rosetta_domain::{
    Destination, DestinationConfig, DestinationId, Name, PipelineId, Secret, SnowflakeConfig,
    SnowflakeMode, Text,
};
use rosetta_snowflake::{
    base_url, http_client, Client, JwtIssuer, KeyPair, SnowflakeWriter, Target,
};
use rosetta_test_support::snowflake::{emulator, Keys, PASSPHRASE};

const ORDERS: RelationId = RelationId::new(16_384);

fn text(value: &str) -> Text {
    Text::parse(value).unwrap()
}

fn database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "session_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

struct Fixture {
    _keys: Keys,
    destination: Destination,
    key: std::path::PathBuf,
}

fn fixture(mode: SnowflakeMode) -> Fixture {
    let keys = Keys::new("snowflake-session");
    let (_, key) = keys.pkcs8();
    let now = Utc::now();
    let destination = Destination {
        id: DestinationId::new(1),
        name: Name::parse("warehouse").unwrap(),
        config: DestinationConfig::Snowflake(SnowflakeConfig {
            account: text("xy12345"),
            user: text("loader"),
            database: text(&database()),
            schema: text("raw"),
            role: None,
            warehouse: None,
            host: Some(text(&emulator())),
            private_key_path: Some(text(key.to_str().unwrap())),
            private_key_passphrase: Some(Secret::parse(PASSPHRASE).unwrap()),
            mode,
        }),
        created_at: now,
        updated_at: now,
    };
    Fixture {
        _keys: keys,
        destination,
        key,
    }
}

impl Fixture {
    fn config(&self) -> &SnowflakeConfig {
        let DestinationConfig::Snowflake(config) = &self.destination.config else {
            unreachable!()
        };
        config
    }

    async fn open(&self, epoch: u64) -> Box<dyn DestinationSession> {
        SnowflakeWriter::new()
            .open(&self.destination, PipelineId::new(7), epoch)
            .await
            .unwrap()
    }

    /// `sql`'s rows, each value as text.
    async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let config = self.config();
        let key = KeyPair::read(&self.key, Some(PASSPHRASE)).unwrap();
        let client = Client::new(
            http_client().unwrap(),
            Target {
                base: base_url(config.account.as_str(), Some(&emulator())).unwrap(),
                database: config.database.as_str().to_owned(),
                schema: "raw".to_owned(),
                role: None,
                warehouse: None,
            },
            JwtIssuer::new("xy12345", "loader", key),
        );
        let mut session = client.sign_in().await.unwrap();
        let rows = session.execute(sql, &[]).await.unwrap().rows;
        session.close().await;
        rows
    }

    /// How many rows `ORDERS` holds.
    async fn orders(&self) -> usize {
        let sql = format!("SELECT \"ID\"::VARCHAR FROM {}", self.table("ORDERS"));
        self.rows(&sql).await.len()
    }

    fn table(&self, name: &str) -> String {
        format!(
            "\"{}\".\"RAW\".\"{name}\"",
            self.config().database.as_str().to_ascii_uppercase()
        )
    }
}

fn column(name: &str, type_oid: u32, type_name: &str, modifier: i32, key: bool) -> Column {
    Column {
        name: name.to_owned(),
        type_oid,
        type_modifier: modifier,
        type_name: type_name.to_owned(),
        nullable: !key,
        key,
    }
}

fn orders() -> TableSchema {
    TableSchema {
        id: ORDERS,
        name: TableName::new("public", "orders"),
        replica_identity: ReplicaIdentity::Default,
        columns: vec![
            column("id", 20, "bigint", -1, true),
            column("note", 25, "text", -1, false),
            column("amount", 1700, "numeric(10,2)", (10 << 16 | 2) + 4, false),
            column("doc", 3802, "jsonb", -1, false),
            column("tags", 1009, "text[]", -1, false),
            column("at", 1184, "timestamp with time zone", -1, false),
            column("raw", 17, "bytea", -1, false),
        ],
    }
}

fn t(value: &str) -> Datum {
    Datum::Text(Bytes::copy_from_slice(value.as_bytes()))
}

fn row(values: &[Datum]) -> Row {
    Row(values.to_vec())
}

fn checkpoint(end: u64) -> Checkpoint {
    Checkpoint {
        commit_lsn: Lsn::new(end - 8),
        end_lsn: Lsn::new(end),
        commit_time: Utc.timestamp_micros(1_780_000_000_123_456).unwrap(),
    }
}

const COPIED: &[u8] =
    b"1\tfirst\t10.50\t{\"a\": 1}\t{x,\"y z\"}\t2026-12-01 10:00:00+00\t\\\\x00ff\n\
2\tsecond\t\\N\t\\N\t{}\t2026-12-01 10:00:00.5+01\t\\N\n\
3\tthird\t3.00\t[1, 2]\t\\N\t\\N\t\\N\n";

/// A copy of three rows, then a batch: an insert, an update that leaves a TOASTed value as
/// it was, a delete, and a key change.
fn batch() -> Vec<Change> {
    vec![
        Change::Insert {
            relation: ORDERS,
            new: row(&[
                t("4"),
                t("fourth"),
                t("4.40"),
                t("{}"),
                t("{a}"),
                Datum::Null,
                Datum::Null,
            ]),
        },
        Change::Update {
            relation: ORDERS,
            old: None,
            new: row(&[
                t("1"),
                t("first, again"),
                t("11.00"),
                Datum::Unchanged,
                t("{x}"),
                t("2026-12-01 11:00:00+00"),
                t("\\x0102"),
            ]),
        },
        Change::Delete {
            relation: ORDERS,
            old: row(&[
                t("2"),
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
            ]),
        },
        Change::Update {
            relation: ORDERS,
            old: Some(row(&[
                t("3"),
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
            ])),
            new: row(&[
                t("30"),
                t("third, moved"),
                t("3.00"),
                t("[1, 2]"),
                Datum::Null,
                Datum::Null,
                Datum::Null,
            ]),
        },
    ]
}

async fn copy(session: &mut Box<dyn DestinationSession>) {
    session.reset("rosetta_7_7").await.unwrap();
    session.prepare_table(&orders()).await.unwrap();
    let mut copy = session.copy_table(&orders()).await.unwrap();
    // Cut in the middle of a row, as the source's copy may cut it.
    copy.write(Bytes::from_static(&COPIED[..40])).await.unwrap();
    copy.write(Bytes::from_static(&COPIED[40..])).await.unwrap();
    assert_eq!(copy.finish(Lsn::new(1000)).await.unwrap(), 3);
}

#[tokio::test]
async fn a_mirror_holds_the_copy_then_each_batch_with_its_checkpoint() {
    let fixture = fixture(SnowflakeMode::Mirror);
    let mut session = fixture.open(1).await;
    assert_eq!(session.state().await.unwrap(), None);
    copy(&mut session).await;
    let state = session.state().await.unwrap().unwrap();
    assert_eq!(state.slot, "rosetta_7_7");
    assert_eq!(state.checkpoint, None);
    assert_eq!(state.tables.len(), 1);
    assert_eq!(state.tables[0].synced_at, Lsn::new(1000));
    assert_eq!(state.tables[0].rows, 3);

    let orders = fixture.table("ORDERS");
    let select = format!(
        "SELECT \"ID\"::VARCHAR, \"NOTE\", \"AMOUNT\"::VARCHAR, \"DOC\"::VARCHAR, \
         \"TAGS\"::VARCHAR, \"RAW\"::VARCHAR FROM {orders} ORDER BY \"ID\""
    );
    let copied = fixture.rows(&select).await;
    assert_eq!(copied.len(), 3, "{copied:?}");
    assert_eq!(copied[0][1].as_deref(), Some("first"));
    assert_eq!(copied[1][2], None);

    session.apply(&batch()).await.unwrap();
    session.commit(checkpoint(2000)).await.unwrap();
    session.committed().await.unwrap();
    let got = fixture.rows(&select).await;
    let ids: Vec<_> = got.iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(ids, ["1", "4", "30"], "{got:?}");
    assert_eq!(got[0][1].as_deref(), Some("first, again"));
    // The value the update did not carry is the copy's.
    assert!(got[0][3].as_deref().unwrap().contains('1'), "{got:?}");
    assert_eq!(got[2][1].as_deref(), Some("third, moved"));
    let raw = fixture
        .rows(&format!(
            "SELECT CAST(\"RAW\" = TO_BINARY('0102', 'HEX') AS VARCHAR) FROM {orders} WHERE \"ID\" = 1"
        ))
        .await;
    assert_eq!(raw, [[Some("true".to_owned())]]);
    let state = session.state().await.unwrap().unwrap();
    assert_eq!(state.checkpoint, Some(checkpoint(2000)));

    // TRUNCATE empties the table, in the batch's transaction.
    session
        .apply(&[Change::Truncate {
            relations: vec![ORDERS],
            restart_identity: false,
        }])
        .await
        .unwrap();
    session.commit(checkpoint(3000)).await.unwrap();
    assert!(fixture.rows(&select).await.is_empty());
}

#[tokio::test]
async fn a_changelog_appends_every_change_in_order() {
    let fixture = fixture(SnowflakeMode::Changelog);
    let mut session = fixture.open(1).await;
    copy(&mut session).await;
    session.apply(&batch()).await.unwrap();
    session.commit(checkpoint(2000)).await.unwrap();
    let landing = fixture.table("LANDING_ORDERS");
    let got = fixture
        .rows(&format!(
            "SELECT \"ID\"::VARCHAR, \"OPERATION\", \"CHANGE_SEQUENCE\"::VARCHAR, \
             (\"SYNC_TIMESTAMP\" IS NOT NULL)::VARCHAR FROM {landing} \
             ORDER BY \"CHANGE_SEQUENCE\", \"ID\" NULLS FIRST"
        ))
        .await;
    let seen: Vec<(Option<String>, String)> = got
        .iter()
        .map(|r| (r[0].clone(), r[1].clone().unwrap()))
        .collect();
    let s = |id: Option<&str>, op: &str| (id.map(str::to_owned), op.to_owned());
    assert_eq!(
        seen,
        [
            s(None, "TRUNCATE"),
            s(Some("1"), "INSERT"),
            s(Some("2"), "INSERT"),
            s(Some("3"), "INSERT"),
            s(Some("4"), "INSERT"),
            s(Some("1"), "UPDATE"),
            s(Some("2"), "DELETE"),
            s(Some("3"), "DELETE"),
            s(Some("30"), "UPDATE"),
        ],
        "{got:?}"
    );
    // The copy's rows carry the snapshot's place, the batch's the checkpoint's.
    assert_eq!(got[0][2].as_deref(), Some("1000000000000"));
    assert_eq!(got[1][2].as_deref(), Some("1000000000001"));
    assert_eq!(got[4][2].as_deref(), Some("2000000000000"));
    assert_eq!(got[8][2].as_deref(), Some("2000000000004"));
    assert!(
        got.iter().all(|r| r[3].as_deref() == Some("true")),
        "{got:?}"
    );
}

#[tokio::test]
async fn after_a_change_of_mode_every_table_is_copied_again() {
    let mut fixture = fixture(SnowflakeMode::Mirror);
    let mut mirror = fixture.open(1).await;
    copy(&mut mirror).await;
    assert_eq!(mirror.state().await.unwrap().unwrap().tables.len(), 1);
    let DestinationConfig::Snowflake(config) = &mut fixture.destination.config else {
        unreachable!()
    };
    config.mode = SnowflakeMode::Changelog;
    let mut changelog = fixture.open(2).await;
    let state = changelog.state().await.unwrap().unwrap();
    assert_eq!(state.slot, "rosetta_7_7");
    assert!(state.tables.is_empty(), "{state:?}");
}

#[tokio::test]
async fn a_replaced_run_can_no_longer_commit() {
    let fixture = fixture(SnowflakeMode::Mirror);
    let mut first = fixture.open(1).await;
    copy(&mut first).await;
    let mut second = fixture.open(2).await;
    first.apply(&batch()).await.unwrap();
    let error = first.commit(checkpoint(2000)).await.unwrap_err();
    assert!(
        matches!(
            error,
            DestinationError::Fenced {
                ours: 1,
                newer: 2,
                ..
            }
        ),
        "{error}"
    );
    // Nothing of the fenced batch is there.
    assert_eq!(fixture.orders().await, 3);
    assert_eq!(second.state().await.unwrap().unwrap().checkpoint, None);
    let Err(error) = SnowflakeWriter::new()
        .open(&fixture.destination, PipelineId::new(7), 1)
        .await
    else {
        panic!("run 1 opened after run 2");
    };
    assert!(matches!(error, DestinationError::Fenced { .. }), "{error}");
}

#[tokio::test]
async fn a_batch_snowflake_refuses_is_rolled_back_with_snowflakes_message() {
    let fixture = fixture(SnowflakeMode::Mirror);
    let mut session = fixture.open(1).await;
    copy(&mut session).await;
    session
        .apply(&[Change::Insert {
            relation: ORDERS,
            new: row(&[
                t("5"),
                t("ok"),
                t("not a number"),
                Datum::Null,
                Datum::Null,
                Datum::Null,
                Datum::Null,
            ]),
        }])
        .await
        .unwrap();
    let error = session.commit(checkpoint(2000)).await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, DestinationError::Rejected { .. }),
        "{message}"
    );
    assert!(message.contains("query id"), "{message}");
    // Neither the row nor the checkpoint: the batch is retried whole.
    let state = session.state().await.unwrap().unwrap();
    assert_eq!(state.checkpoint, None);
    assert_eq!(fixture.orders().await, 3);
}

#[tokio::test]
async fn an_existing_table_of_other_types_is_incompatible_and_a_new_column_is_added() {
    let fixture = fixture(SnowflakeMode::Mirror);
    let mut session = fixture.open(1).await;
    session.prepare_table(&orders()).await.unwrap();
    let mut wider = orders();
    wider
        .columns
        .push(column("extra", 23, "integer", -1, false));
    session.prepare_table(&wider).await.unwrap();
    let columns = fixture
        .rows(&format!(
            "SELECT \"EXTRA\"::VARCHAR FROM {}",
            fixture.table("ORDERS")
        ))
        .await;
    assert!(columns.is_empty());
    let mut other = orders();
    other.columns[1] = column("note", 23, "integer", -1, false);
    let error = session.prepare_table(&other).await.unwrap_err();
    assert!(
        matches!(error, DestinationError::Incompatible { .. }),
        "{error}"
    );
    let mut keyless = orders();
    keyless.columns[0].key = false;
    let error = session.prepare_table(&keyless).await.unwrap_err();
    assert!(error.to_string().contains("changelog"), "{error}");
}
