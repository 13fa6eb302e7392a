//! Pipelines to Snowflake end to end, against the Snowflake emulator (fakesnow) at
//! `$SNOWFLAKE_EMULATOR_URL`: the real service copies and streams a source database into it in
//! both modes, and every table is compared with the source (a changelog by replaying it); a
//! replicator killed mid-batch loses nothing and writes nothing twice; a wrong key and a wrong
//! passphrase are clear errors on the pipeline.

use std::time::{Duration, Instant};

use rosetta_snowflake::{base_url, http_client, Client, JwtIssuer, KeyPair, Target};
use rosetta_test_support::snowflake::{emulator, Keys, PASSPHRASE};
use serde_json::{json, Value};

use crate::faults::proxy::Proxy;
use crate::faults::{api_only, kill, replicator, workload, SCHEMA as BANK};
use crate::harness::{eventually, replication_id, Database, Service};

/// A table of the types a warehouse most often gets, and one with a key of two columns.
const SCHEMA: &str = "
CREATE TABLE orders (id bigint PRIMARY KEY, note text, amount numeric(12,2), paid boolean);
CREATE TABLE lines (order_id bigint, n int, qty int NOT NULL, PRIMARY KEY (order_id, n));
INSERT INTO orders SELECT g, 'order ' || g, g * 1.25, g % 2 = 0 FROM generate_series(1, 500) g;
INSERT INTO lines SELECT g % 100, g, g FROM generate_series(1, 300) g;
CREATE PUBLICATION shop FOR TABLE orders, lines;
";

/// Inserts, updates (a key change among them), deletes and a TRUNCATE, in several transactions.
const CHANGES: &str = "
INSERT INTO orders SELECT g, 'late ' || g, g, true FROM generate_series(501, 700) g;
UPDATE orders SET note = note || ' (paid)', paid = true WHERE id % 3 = 0;
DELETE FROM orders WHERE id % 10 = 7;
UPDATE orders SET id = id + 10000 WHERE id BETWEEN 20 AND 25;
BEGIN; UPDATE lines SET qty = qty * 2 WHERE n % 4 = 0; DELETE FROM lines WHERE order_id = 5; COMMIT;
TRUNCATE lines;
INSERT INTO lines SELECT g % 10, g, -g FROM generate_series(1, 50) g;
";

/// A Snowflake database of the emulator's, and the key that signs in to it.
struct Warehouse {
    keys: Keys,
    key: String,
    database: String,
}

impl Warehouse {
    fn new(test: &str) -> Self {
        let keys = Keys::new(&format!("e2e-{test}"));
        let (_, key) = keys.pkcs8();
        Self {
            key: key.to_str().unwrap().to_owned(),
            keys,
            database: format!("e2e_{test}_{}", std::process::id()),
        }
    }

    fn destination(&self, name: &str, mode: &str, passphrase: &str) -> Value {
        self.destination_at(name, mode, passphrase, &emulator())
    }

    /// A destination reaching the emulator at `host` (a proxy in front of it, say).
    fn destination_at(&self, name: &str, mode: &str, passphrase: &str, host: &str) -> Value {
        json!({
            "name": name, "type": "SNOWFLAKE",
            "config": {
                "account": "xy12345", "user": "loader", "database": self.database,
                "schema": "raw", "host": host, "private_key_path": self.key,
                "private_key_passphrase": passphrase, "mode": mode
            }
        })
    }

    /// `sql`'s rows, each value as text.
    async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let key = KeyPair::read(std::path::Path::new(&self.key), Some(PASSPHRASE)).unwrap();
        let client = Client::new(
            http_client().unwrap(),
            Target {
                base: base_url("xy12345", Some(&emulator())).unwrap(),
                database: self.database.clone(),
                schema: "raw".to_owned(),
                role: None,
                warehouse: None,
            },
            JwtIssuer::new("xy12345", "loader", key),
        );
        let mut session = client.sign_in().await.unwrap();
        let rows = session.execute(sql, &[]).await.map(|o| o.rows);
        session.close().await;
        // Before the first copy the table may not exist yet.
        rows.unwrap_or_default()
    }

    fn table(&self, name: &str) -> String {
        format!(
            "\"{}\".\"RAW\".\"{name}\"",
            self.database.to_ascii_uppercase()
        )
    }

    /// The rows a table holds now: a mirror's as they are; a changelog's replayed (each
    /// key's last change after the last TRUNCATE, unless it is a delete).
    async fn current(
        &self,
        table: &str,
        columns: &[&str],
        key: &[&str],
        changelog: bool,
    ) -> Vec<Vec<Option<String>>> {
        let list = |prefix: &str| {
            columns
                .iter()
                .map(|c| format!("{prefix}\"{}\"::VARCHAR", c.to_ascii_uppercase()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let order = key
            .iter()
            .map(|c| format!("\"{}\"", c.to_ascii_uppercase()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = if changelog {
            let landing = self.table(&format!("LANDING_{}", table.to_ascii_uppercase()));
            format!(
                "SELECT {} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY {order} \
                 ORDER BY \"CHANGE_SEQUENCE\" DESC) AS RN FROM {landing} \
                 WHERE \"OPERATION\" <> 'TRUNCATE' AND \"CHANGE_SEQUENCE\" > \
                 (SELECT COALESCE(MAX(\"CHANGE_SEQUENCE\"), -1) FROM {landing} \
                 WHERE \"OPERATION\" = 'TRUNCATE')) AS L \
                 WHERE RN = 1 AND \"OPERATION\" <> 'DELETE' ORDER BY {order}",
                list("L.")
            )
        } else {
            format!(
                "SELECT {} FROM {} ORDER BY {order}",
                list(""),
                self.table(&table.to_ascii_uppercase())
            )
        };
        self.rows(&sql).await
    }
}

/// The source's rows of `table`, as text (booleans as `true`/`false`, like Snowflake's).
async fn source_rows(
    source: &Database,
    table: &str,
    columns: &[&str],
    key: &[&str],
) -> Vec<Vec<Option<String>>> {
    let list = columns
        .iter()
        .map(|c| format!("coalesce({c}::text, '\\N')"))
        .collect::<Vec<_>>()
        .join(" || E'\\t' || ");
    source
        .texts(&format!(
            "SELECT {list} AS value FROM {table} ORDER BY {}",
            key.join(", ")
        ))
        .await
        .into_iter()
        .map(|line| {
            line.split('\t')
                .map(|v| (v != "\\N").then(|| v.to_owned()))
                .collect()
        })
        .collect()
}

/// Waits until the warehouse's `table` holds what the source's does.
async fn converged(
    source: &Database,
    warehouse: &Warehouse,
    table: &str,
    columns: &[&str],
    key: &[&str],
    changelog: bool,
) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let expected = source_rows(source, table, columns, key).await;
        let got = warehouse.current(table, columns, key, changelog).await;
        if expected == got {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{table} differs: the source has {} rows, Snowflake {}; first differences: {:?}",
            expected.len(),
            got.len(),
            expected
                .iter()
                .zip(&got)
                .filter(|(a, b)| a != b)
                .take(3)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn pipeline(
    service: &Service,
    source: &Database,
    publication: &str,
    destination: Value,
) -> i64 {
    let replication_id = replication_id();
    let source = service
        .post(
            "/api/v1/sources",
            json!({
                "name": format!("{}-src", destination["name"].as_str().unwrap()),
                "pg_host": source.host(), "pg_port": source.port(), "pg_database": source.name,
                "pg_username": source.user(), "pg_password": "unused-with-trust",
                "publication_name": publication, "replication_id": replication_id,
                "ssl_mode": "disable"
            }),
        )
        .await;
    let name = destination["name"].clone();
    let destination = service.post("/api/v1/destinations", destination).await;
    let pipeline = service
        .post(
            "/api/v1/pipelines",
            json!({"name": name, "source_id": source["id"],
                   "destination_id": destination["id"], "status": "START"}),
        )
        .await;
    pipeline["id"].as_i64().unwrap()
}

const ORDERS: [&str; 4] = ["id", "note", "amount", "paid"];
const LINES: [&str; 3] = ["order_id", "n", "qty"];

async fn copies_and_streams(mode: &str) {
    let changelog = mode == "changelog";
    let source = Database::source().await;
    source.execute(SCHEMA).await;
    let warehouse = Warehouse::new(mode);
    let service = Service::start(&[]).await;
    let id = pipeline(
        &service,
        &source,
        "shop",
        warehouse.destination(&format!("sf-{mode}"), mode, PASSPHRASE),
    )
    .await;
    service.streaming(id).await;
    for changes in ["", CHANGES] {
        source.execute(changes).await;
        converged(&source, &warehouse, "orders", &ORDERS, &["id"], changelog).await;
        let key = ["order_id", "n"];
        converged(&source, &warehouse, "lines", &LINES, &key, changelog).await;
    }
    let metadata = service.pipeline_metadata(id).await;
    assert_eq!(metadata["phase"], "streaming", "{metadata}");
    service.stop().await;
}

#[tokio::test]
async fn a_mirror_copies_and_streams_every_table_equal_to_the_source() {
    copies_and_streams("mirror").await;
}

#[tokio::test]
async fn a_changelog_copies_and_streams_every_change_and_replays_to_the_source() {
    copies_and_streams("changelog").await;
}

#[tokio::test]
async fn a_replicator_killed_mid_batch_writes_every_change_to_snowflake_once() {
    let source = Database::source().await;
    source.execute(BANK).await;
    let warehouse = Warehouse::new("killed");
    let service = api_only().await;
    let small_batches = [("REPLICATOR_BATCH_ROWS", "500")];
    let mut first = replicator(service.metadata(), &small_batches);
    let id = pipeline(
        &service,
        &source,
        "bank",
        warehouse.destination("sf-killed", "changelog", PASSPHRASE),
    )
    .await;
    service.streaming(id).await;
    source.execute(&workload(20, 0)).await;
    eventually(
        "a part of the workload to reach Snowflake",
        Duration::from_secs(90),
        || async {
            let n = journal_rows(&warehouse).await;
            (n > 0, json!(n))
        },
    )
    .await;
    kill(&mut first);
    let arrived = journal_rows(&warehouse).await;
    let total = source.count("SELECT count(*) AS value FROM journal").await;
    assert!(
        arrived < total,
        "killed too late to prove anything ({arrived} of {total})"
    );
    let mut second = replicator(service.metadata(), &small_batches);
    source.execute(&workload(3, 20)).await;
    // Every journal row once (the table has no key: a change written twice would show as a
    // row twice), and every balance right.
    bank_converged(&source, &warehouse).await;
    kill(&mut second);
    service.stop().await;
}

#[tokio::test]
async fn a_wrong_key_or_passphrase_is_a_clear_error_on_the_pipeline() {
    let source = Database::source().await;
    source.execute(SCHEMA).await;
    let warehouse = Warehouse::new("wrongkey");
    let service = Service::start(&[]).await;
    let wrong = "not-the-passphrase-5b7";
    let mut missing = warehouse.destination("sf-no-key", "mirror", PASSPHRASE);
    let nowhere = warehouse.keys.dir().join("nowhere.p8");
    missing["config"]["private_key_path"] = json!(nowhere.to_str().unwrap());
    let cases = [
        (
            warehouse.destination("sf-wrong-pass", "mirror", wrong),
            "passphrase",
        ),
        (missing, "nowhere.p8"),
    ];
    for (destination, says) in cases {
        let id = pipeline(&service, &source, "shop", destination).await;
        let failed = eventually("the pipeline's error", Duration::from_secs(60), || async {
            let metadata = service.pipeline_metadata(id).await;
            (metadata["last_error"].is_string(), metadata)
        })
        .await;
        let error = failed["last_error"].as_str().unwrap();
        assert!(error.contains(says), "{failed}");
        assert!(
            !error.contains(wrong) && !error.contains(PASSPHRASE),
            "{failed}"
        );
    }
    service.stop().await;
}

/// The journal's rows in Snowflake's changelog.
async fn journal_rows(warehouse: &Warehouse) -> i64 {
    let rows = warehouse
        .rows(&format!(
            "SELECT COUNT(*)::VARCHAR FROM {} WHERE \"OPERATION\" = 'INSERT'",
            warehouse.table("LANDING_JOURNAL")
        ))
        .await;
    rows.first()
        .and_then(|r| r[0].as_deref())
        .map_or(0, |v| v.parse().unwrap())
}

/// Waits until the bank's changelog replays to the source's accounts, and holds every journal
/// row once.
async fn bank_converged(source: &Database, warehouse: &Warehouse) {
    let (columns, key) = (["id", "balance"], ["id"]);
    converged(source, warehouse, "accounts", &columns, &key, true).await;
    journal_once(source, warehouse).await;
}

/// Waits until every journal row of the source is in Snowflake's changelog, and checks none is
/// there twice (the journal has no key: a change written twice would be a row twice).
async fn journal_once(source: &Database, warehouse: &Warehouse) {
    let expected = source.count("SELECT count(*) AS value FROM journal").await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got = journal_rows(warehouse).await;
        if got == expected {
            return;
        }
        assert!(
            got < expected,
            "{got} journal rows in Snowflake, {expected} at the source"
        );
        assert!(
            Instant::now() < deadline,
            "{got} of {expected} journal rows arrived"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn snowflake_out_of_reach_is_an_error_on_the_pipeline_and_nothing_is_lost_or_doubled() {
    let source = Database::source().await;
    source.execute(BANK).await;
    let warehouse = Warehouse::new("unreachable");
    let upstream = emulator();
    let proxy = Proxy::start(upstream.trim_start_matches("http://")).await;
    let service = Service::start(&[]).await;
    let host = format!("http://127.0.0.1:{}", proxy.port);
    let id = pipeline(
        &service,
        &source,
        "bank",
        warehouse.destination_at("sf-unreachable", "changelog", PASSPHRASE, &host),
    )
    .await;
    service.streaming(id).await;
    source.execute(&workload(5, 0)).await;
    proxy.cut();
    source.execute(&workload(5, 5)).await;
    let error = service
        .failed(id, "the pipeline to report Snowflake out of reach")
        .await;
    let error = error.as_str();
    assert!(
        error.contains(&format!("127.0.0.1:{}", proxy.port)),
        "{error}"
    );
    proxy.restore();
    service.streaming(id).await;
    bank_converged(&source, &warehouse).await;
    let metadata = service.pipeline_metadata(id).await;
    assert_eq!(metadata["status"], "RUNNING", "{metadata}");
    service.stop().await;
}
