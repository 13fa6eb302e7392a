//! What the data plane's tests share: a source database with a publication on the logical
//! cluster, a destination database, the service with its replicator on a fast beat, and ways
//! to wait for a pipeline and to compare tables.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reqwest::StatusCode;
use rosetta_server::config::Config;
use rosetta_server::startup::Application;
use rosetta_test_support::TestDb;
use serde_json::{json, Value};
use url::Url;

/// The encryption key of every test service.
pub const KEYS: &str = "1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A replication id no other test of this process uses, since the tests share the logical
/// cluster, on which slot names are global.
pub fn replication_id() -> i64 {
    i64::from(std::process::id() % 100_000) * 1000
        + i64::try_from(COUNTER.fetch_add(1, Ordering::Relaxed)).unwrap()
}

/// The server `var` names, with `database` as its database.
fn url_of(var: &str, database: &str) -> Url {
    let server = std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: the data plane's tests need it (scripts/test.sh sets it; \
             scripts/ensure-logical-postgres.sh makes the logical cluster)"
        )
    });
    let mut url = Url::parse(&server).unwrap();
    url.set_path(&format!("/{database}"));
    url
}

/// A database of its own on the server `var` names, dropped (with the replication slots
/// that decode it) when dropped.
pub struct Database {
    pub name: String,
    pub url: Url,
    admin: Url,
}

impl Database {
    pub async fn new(var: &str, prefix: &str) -> Self {
        let name = unique(prefix);
        let admin = url_of(var, "postgres");
        let mut conn = AsyncPgConnection::establish(admin.as_str()).await.unwrap();
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        Self {
            url: url_of(var, &name),
            name,
            admin,
        }
    }

    /// A source database on the logical cluster.
    pub async fn source() -> Self {
        Self::new("LOGICAL_DATABASE_URL", "rosetta_src").await
    }

    /// A destination database on the test server.
    pub async fn destination() -> Self {
        Self::new("DATABASE_URL", "rosetta_dst").await
    }

    pub fn host(&self) -> String {
        self.url.host_str().unwrap().to_owned()
    }

    pub fn port(&self) -> u16 {
        self.url.port().unwrap_or(5432)
    }

    pub fn user(&self) -> String {
        let user = self.url.username();
        if user.is_empty() { "postgres" } else { user }.to_owned()
    }

    pub async fn execute(&self, sql: &str) {
        let mut conn = AsyncPgConnection::establish(self.url.as_str())
            .await
            .unwrap();
        conn.batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The text values of the first column `value` of `sql`'s rows.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            value: String,
        }
        let mut conn = AsyncPgConnection::establish(self.url.as_str())
            .await
            .unwrap();
        let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
        rows.into_iter().map(|r| r.value).collect()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            value: i64,
        }
        let mut conn = AsyncPgConnection::establish(self.url.as_str())
            .await
            .unwrap();
        let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
        rows.into_iter().next().map_or(0, |r| r.value)
    }

    /// Every row of `table`, as text, in key order: what two copies of a table must agree on,
    /// every column included.
    pub async fn digest(&self, table: &str, order_by: &str) -> (i64, String) {
        let count = self
            .count(&format!("SELECT count(*) AS value FROM {table}"))
            .await;
        let digest = self
            .texts(&format!(
                "SELECT coalesce(md5(string_agg(t::text, E'\\n' ORDER BY {order_by})), '') AS value \
                 FROM {table} t"
            ))
            .await;
        (count, digest.into_iter().next().unwrap_or_default())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.to_string(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let Ok(mut conn) = AsyncPgConnection::establish(&admin).await else {
                    return;
                };
                // Slots of this database first: a slot keeps its database from being dropped.
                let _ = conn
                    .batch_execute(&format!(
                        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots \
                         WHERE database = '{name}' AND active_pid IS NOT NULL; \
                         SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                         WHERE database = '{name}' AND NOT active"
                    ))
                    .await;
                let _ = conn
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            });
        })
        .join();
    }
}

/// The service under test, its replicator polling every second.
pub struct Service {
    pub address: String,
    pub client: reqwest::Client,
    /// The metadata database, kept for as long as the service runs.
    metadata_db: TestDb,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Settings of a fast data plane, on top of those every test needs.
pub const FAST: [(&str, &str); 4] = [
    ("REPLICATOR_POLL_SECONDS", "1"),
    ("REPLICATOR_LEASE_SECONDS", "5"),
    ("REPLICATOR_BATCH_DELAY_MS", "50"),
    ("REPLICATOR_MAX_BACKOFF_SECONDS", "2"),
];

pub fn vars(metadata: &TestDb, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".to_owned(), metadata.url().to_owned()),
        ("HOST".to_owned(), "127.0.0.1".to_owned()),
        ("PORT".to_owned(), "0".to_owned()),
        ("HTTP_WORKERS".to_owned(), "1".to_owned()),
        ("DB_POOL_SIZE".to_owned(), "4".to_owned()),
        ("WAL_MONITOR_ENABLED".to_owned(), "false".to_owned()),
        ("ROSETTA_ENCRYPTION_KEYS".to_owned(), KEYS.to_owned()),
    ]);
    for (name, value) in FAST.iter().chain(extra) {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    vars
}

impl Service {
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let metadata = TestDb::new().await;
        let config = Config::from_vars(&vars(&metadata, extra)).unwrap();
        let app = Application::build(&config).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let task = tokio::spawn(app.run_until_stopped());
        Self {
            address,
            client: reqwest::Client::new(),
            metadata_db: metadata,
            handle,
            task,
        }
    }

    /// Its metadata database.
    pub fn metadata(&self) -> &TestDb {
        &self.metadata_db
    }

    /// Stops it as SIGTERM would: its pipelines stop and their leases go.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.task.await.unwrap().unwrap();
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await;
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    /// A pipeline from `source`'s publication `publication` to `destination`, in `status`.
    /// Its source gets a replication id of its own, since the tests share the logical
    /// cluster, on which slot names are global.
    pub async fn pipeline(
        &self,
        name: &str,
        source: &Database,
        publication: &str,
        destination: &Database,
        status: &str,
    ) -> i64 {
        let replication_id = replication_id();
        self.pipeline_with_replication_id(
            name,
            source,
            publication,
            destination,
            status,
            replication_id,
        )
        .await
    }

    pub async fn pipeline_with_replication_id(
        &self,
        name: &str,
        source: &Database,
        publication: &str,
        destination: &Database,
        status: &str,
        replication_id: i64,
    ) -> i64 {
        let source = self
            .post(
                "/api/v1/sources",
                json!({
                    "name": format!("{name}-src"), "pg_host": source.host(),
                    "pg_port": source.port(), "pg_database": source.name,
                    "pg_username": source.user(), "pg_password": "unused-with-trust",
                    "publication_name": publication, "replication_id": replication_id,
                    "ssl_mode": "disable"
                }),
            )
            .await;
        let destination = self
            .post(
                "/api/v1/destinations",
                json!({
                    "name": format!("{name}-dst"), "type": "POSTGRES",
                    "config": {"host": destination.host(), "port": destination.port(),
                               "database": destination.name, "username": destination.user(),
                               "password": "unused-with-trust", "schema": "public"}
                }),
            )
            .await;
        let pipeline = self
            .post(
                "/api/v1/pipelines",
                json!({"name": name, "source_id": source["id"],
                       "destination_id": destination["id"], "status": status}),
            )
            .await;
        pipeline["id"].as_i64().unwrap()
    }

    /// The pipeline's `pipeline_metadata`.
    pub async fn pipeline_metadata(&self, pipeline: i64) -> Value {
        self.get(&format!("/api/v1/pipelines/{pipeline}")).await["pipeline_metadata"].clone()
    }

    /// Waits until the pipeline streams (its phase), failing with its metadata after `within`.
    pub async fn streaming(&self, pipeline: i64) {
        eventually(
            "the pipeline to stream",
            Duration::from_secs(60),
            || async {
                let metadata = self.pipeline_metadata(pipeline).await;
                (metadata["phase"] == "streaming", metadata)
            },
        )
        .await;
    }
}

impl Service {
    /// Waits until the pipeline's status is `ERROR` (`what` names the wait in a failure);
    /// returns its `last_error`.
    pub async fn failed(&self, pipeline: i64, what: &str) -> String {
        let failed = eventually(what, Duration::from_secs(60), || async {
            let metadata = self.pipeline_metadata(pipeline).await;
            (metadata["status"] == "ERROR", metadata)
        })
        .await;
        failed["last_error"]
            .as_str()
            .unwrap_or_else(|| panic!("an ERROR without last_error: {failed}"))
            .to_owned()
    }
}

/// Polls `check` every 200 ms until it holds, failing after `within` with the last value seen.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (bool, Value)>,
{
    let deadline = Instant::now() + within;
    loop {
        let (done, seen) = check().await;
        if done {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `table` has the same rows on the destination as on the source.
pub async fn converged(source: &Database, destination: &Database, table: &str, order_by: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let expected = source.digest(table, order_by).await;
        let got = destination.digest(table, order_by).await;
        if expected == got {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{table} differs: source has {} rows ({}), destination {} ({})",
            expected.0,
            expected.1,
            got.0,
            got.1
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
