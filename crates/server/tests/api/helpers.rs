#![allow(dead_code)]
//! Starting the service for one test and talking to it.

use std::collections::HashMap;

use actix_web::dev::ServerHandle;
use reqwest::{Method, Response, StatusCode};
use rosetta_server::config::Config;
use rosetta_server::startup::Application;
use rosetta_test_support::TestDb;
use serde_json::{json, Value};

/// The service, started on a database of its own.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    handle: ServerHandle,
}

/// The encryption key of every test app: id 1, 32 bytes of 0x2a.
pub const TEST_ENCRYPTION_KEYS: &str = "1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// A stored secret in clear, opened with the test key; it must be stored encrypted with it.
pub fn open_stored_secret(stored: &str, at: rosetta_metadata_store::SecretField) -> String {
    assert!(stored.starts_with("rosetta:v1:1:"), "stored in clear: {at}");
    let cipher = rosetta_metadata_store::SecretCipher::new([(1, [0x2a; 32])]).unwrap();
    cipher.decrypt(stored, &at).unwrap()
}

/// Settings of the service under test, on top of those every test needs.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new().await;
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".to_owned(), db.url().to_owned()),
        ("HOST".to_owned(), "127.0.0.1".to_owned()),
        ("PORT".to_owned(), "0".to_owned()),
        ("HTTP_WORKERS".to_owned(), "1".to_owned()),
        ("DB_POOL_SIZE".to_owned(), "4".to_owned()),
        ("DB_MAX_OVERFLOW".to_owned(), "4".to_owned()),
        // Tests that watch the WAL monitor turn it on; the others keep their sources unprobed.
        ("WAL_MONITOR_ENABLED".to_owned(), "false".to_owned()),
        // Likewise the data plane (tests/replication runs it): these pipelines lead to made-up
        // sources, and a run failing on one would race with what a test checks.
        ("REPLICATOR_ENABLED".to_owned(), "false".to_owned()),
        // A configured key, so that no test writes a key file in the working directory.
        (
            "ROSETTA_ENCRYPTION_KEYS".to_owned(),
            TEST_ENCRYPTION_KEYS.to_owned(),
        ),
    ]);
    for (name, value) in extra {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    let config = Config::from_vars(&vars).unwrap();
    let app = Application::build(&config).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        handle,
    }
}

/// The service with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the workers; the database is dropped right after.
        let stop = self.handle.stop(false);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(stop);
        }
    }
}

/// A response read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// Asserts the status, showing the body when it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        self
    }

    /// Asserts a contract error: its status, `error` code, and JSON shape.
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        let reply = self.expect(status);
        let content_type = reply
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            content_type.as_deref(),
            Some("application/json"),
            "{}",
            reply.text
        );
        let body = reply.json();
        assert_eq!(body["error"], code, "{body}");
        assert!(body["message"].is_string(), "{body}");
        assert!(
            body["details"].is_object() || body["details"].is_array(),
            "{body}"
        );
        body
    }
}

async fn read(response: Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Reply {
        status,
        headers,
        text,
    }
}

impl TestApp {
    /// Sends a request with `Authorization: Bearer <key>` when a key is given.
    pub async fn send_with_key(&self, method: Method, path: &str, key: Option<&str>) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        read(request.send().await.unwrap()).await
    }

    /// Sends a request with an optional JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.unwrap()).await
    }

    /// Sends a raw body with the given content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Reply {
        let request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header("content-type", content_type)
            .body(body.to_owned());
        read(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn post_empty(&self, path: &str) -> Reply {
        self.send(Method::POST, path, None).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a source and returns its response body.
    pub async fn create_source(&self, name: &str) -> Value {
        self.post("/api/v1/sources", &source_body(name))
            .await
            .expect(201)
            .json()
    }

    /// Creates a PostgreSQL destination and returns its response body.
    pub async fn create_destination(&self, name: &str) -> Value {
        self.post("/api/v1/destinations", &postgres_destination_body(name))
            .await
            .expect(201)
            .json()
    }

    /// Creates a pipeline between a new source and destination and returns its response body.
    pub async fn create_pipeline(&self, name: &str) -> Value {
        let source = self.create_source(&format!("{name}-src")).await;
        let destination = self.create_destination(&format!("{name}-dst")).await;
        let body =
            json!({"name": name, "source_id": source["id"], "destination_id": destination["id"]});
        self.post("/api/v1/pipelines", &body)
            .await
            .expect(201)
            .json()
    }
}

/// The password every source body sends: it must never come back.
pub const SOURCE_PASSWORD: &str = "src-pw-9f2c1e";
/// The password every PostgreSQL destination body sends.
pub const DESTINATION_PASSWORD: &str = "dst-pw-41ab77";
/// The passphrase every Snowflake destination body sends.
pub const SNOWFLAKE_PASSPHRASE: &str = "sf-pass-0c3d9a";

pub fn source_body(name: &str) -> Value {
    json!({
        "name": name,
        "pg_host": "db.example.com",
        "pg_port": 5433,
        "pg_database": "shop",
        "pg_username": "replicator",
        "pg_password": SOURCE_PASSWORD,
        "publication_name": "shop_pub",
        "replication_id": 3
    })
}

pub fn postgres_destination_body(name: &str) -> Value {
    json!({
        "name": name,
        "type": "POSTGRES",
        "config": {
            "host": "warehouse.example.com",
            "database": "dw",
            "username": "loader",
            "password": DESTINATION_PASSWORD
        }
    })
}

pub fn snowflake_destination_body(name: &str) -> Value {
    json!({
        "name": name,
        "type": "snowflake",
        "config": {
            "account": "acme-eu",
            "user": "LOADER",
            "database": "RAW",
            "schema": "CDC",
            "role": "LOADER_ROLE",
            "warehouse": "LOAD_WH",
            "host": "acme-eu.snowflakecomputing.com",
            "private_key_path": "/keys/loader.p8",
            "private_key_passphrase": SNOWFLAKE_PASSPHRASE
        }
    })
}

/// Asserts that no secret sent by these helpers appears anywhere in a response body.
pub fn assert_no_secrets(text: &str) {
    for secret in [SOURCE_PASSWORD, DESTINATION_PASSWORD, SNOWFLAKE_PASSPHRASE] {
        assert!(!text.contains(secret), "a secret leaked: {text}");
    }
}

/// The `loc` lists of a validation error, as `"body.pg_port"` strings.
pub fn failing_locations(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["loc"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

/// Runs SQL on the test's metadata database, as the WAL monitor or an operator would.
pub async fn execute_sql(app: &TestApp, sql: &str) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    conn.batch_execute(sql).await.unwrap();
}

/// The value of a setting of the test PostgreSQL server (`wal_level`, …).
pub async fn server_setting(app: &TestApp, name: &str) -> String {
    use diesel::sql_types::Text;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        value: String,
    }
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    let rows: Vec<Row> = diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<Text, _>(name)
        .load(&mut conn)
        .await
        .unwrap();
    rows.into_iter().next().unwrap().value
}

/// A source body on the test PostgreSQL server itself, in the test's own database, reached as
/// `DATABASE_URL` reaches it, without TLS.
pub fn local_source_body(app: &TestApp, name: &str) -> Value {
    let url = reqwest::Url::parse(app.db.url()).unwrap();
    json!({
        "name": name,
        "pg_host": url.host_str().unwrap(),
        "pg_port": url.port().unwrap_or(5432),
        "pg_database": app.db.name(),
        "pg_username": url.username(),
        "pg_password": url.password().unwrap_or(SOURCE_PASSWORD),
        "publication_name": "rosetta_no_such_pub",
        "replication_id": 3,
        "ssl_mode": "disable"
    })
}

/// The secret stored in `column` (`pg_password`, or `config.<field>` of a destination) of row
/// `id` of `table`, read from the raw table and opened.
pub async fn stored_secret(
    app: &TestApp,
    table: &'static str,
    column: &'static str,
    id: i64,
) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let select = match column {
        "pg_password" => "pg_password".to_owned(),
        field => format!("config->>'{}'", field.trim_start_matches("config.")),
    };
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.pool().get().await.unwrap();
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT {select} AS value FROM {table} WHERE id = {id}"
    ))
    .load(&mut conn)
    .await
    .unwrap();
    open_stored_secret(
        &rows[0].value,
        rosetta_metadata_store::SecretField::new(table, id, column),
    )
}
