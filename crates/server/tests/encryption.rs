//! Secrets at rest through the real service: what the API stores is not in clear in the
//! tables, the development key file is made private and reused, plaintext left by an older
//! version is encrypted by `rosetta migrate`, and `rotate-keys` moves everything to the newest
//! key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/helpers.rs"]
mod helpers;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use helpers::*;
use rosetta_domain::ports::{DestinationRepository, SourceRepository};
use rosetta_domain::PageRequest;
use rosetta_metadata_store::{PgDestinationRepository, PgSourceRepository};
use rosetta_server::config::{AppEnv, Config};
use rosetta_server::keys::{load_cipher, load_keys, KeySource};
use rosetta_test_support::TestDb;
use serde_json::json;

/// A fresh directory under the system's temporary one, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "rosetta-encryption-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(vars: &[(&str, &str)]) -> Config {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_vars(&vars).unwrap()
}

async fn texts(url: &str, sql: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
    rows.into_iter().map(|r| r.value).collect()
}

/// Every row of the tables holding secrets, as text.
async fn dump(url: &str) -> String {
    let mut rows = texts(url, "SELECT t::text AS value FROM sources t").await;
    rows.extend(texts(url, "SELECT t::text AS value FROM destinations t").await);
    rows.join("\n")
}

#[tokio::test]
async fn secrets_sent_to_the_api_are_not_in_clear_in_the_tables() {
    let app = spawn_app().await;
    let source = app.create_source("orders").await;
    app.create_destination("pg").await;
    app.post("/api/v1/destinations", &snowflake_destination_body("sf"))
        .await
        .expect(201);
    app.put(
        &format!("/api/v1/sources/{}", source["id"]),
        &json!({"pg_password": SOURCE_PASSWORD}),
    )
    .await
    .expect(200);

    let tables = dump(app.db.url()).await;
    assert_no_secrets(&tables);
    let passwords = texts(app.db.url(), "SELECT pg_password AS value FROM sources").await;
    assert!(passwords[0].starts_with("rosetta:v1:1:"), "{passwords:?}");
    let configs = texts(
        app.db.url(),
        "SELECT config::text AS value FROM destinations",
    )
    .await;
    assert!(
        configs.iter().all(|c| c.contains("rosetta:v1:1:")),
        "{configs:?}"
    );

    // The service itself still reads them: a pipeline between them is made and read.
    let body = json!({"name": "p", "source_id": source["id"], "destination_id": 1});
    app.post("/api/v1/pipelines", &body).await.expect(201);
    app.get("/api/v1/pipelines").await.expect(200);
}

#[tokio::test]
async fn an_undecryptable_secret_is_a_generic_500_never_garbage() {
    let app = spawn_app().await;
    let a = app.create_source("a").await;
    let b = app.create_source("b").await;
    execute_sql(
        &app,
        &format!(
            "UPDATE sources SET pg_password = (SELECT pg_password FROM sources WHERE id = {})
             WHERE id = {}",
            a["id"], b["id"]
        ),
    )
    .await;
    let body = app
        .get(&format!("/api/v1/sources/{}", b["id"]))
        .await
        .expect_error(500, "InternalServerError");
    assert!(!body.to_string().contains("rosetta:v1"), "{body}");
    app.get(&format!("/api/v1/sources/{}", a["id"]))
        .await
        .expect(200);
}

#[tokio::test]
async fn without_keys_a_private_key_file_is_created_then_reused() {
    let dir = TempDir::new();
    let data_dir = dir.path().join("nested").join("data");
    let config = config(&[("ROSETTA_DATA_DIR", data_dir.to_str().unwrap())]);
    let key_file = data_dir.join("encryption.key");

    let (first, source) = load_keys(&config).unwrap();
    assert_eq!(source, KeySource::CreatedKeyFile(key_file.clone()));
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let contents = std::fs::read_to_string(&key_file).unwrap();
    assert!(contents.starts_with("1:"), "the file holds key 1");

    let (second, source) = load_keys(&config).unwrap();
    assert_eq!(source, KeySource::KeyFile(key_file.clone()));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), contents);
    // The same key: what the first encrypted, the second decrypts.
    let at = rosetta_metadata_store::SecretField::source_password(1);
    let stored = first.encrypt("hunter2", &at).unwrap();
    assert_eq!(second.decrypt(&stored, &at).unwrap(), "hunter2");
    assert_eq!(load_cipher(&config).unwrap().newest_key_id(), 1);
}

#[tokio::test]
async fn a_key_file_others_may_read_is_refused() {
    let dir = TempDir::new();
    let config = config(&[("ROSETTA_DATA_DIR", dir.path().to_str().unwrap())]);
    load_keys(&config).unwrap();
    let key_file = dir.path().join("encryption.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = format!("{:#}", load_keys(&config).unwrap_err());
    assert!(
        error.contains("may be read by others (mode 644)"),
        "{error}"
    );
    assert!(error.contains("chmod 600"), "{error}");
    assert!(!error.contains(key.trim()), "{error}");
}

#[tokio::test]
async fn production_never_makes_a_key_file() {
    let dir = TempDir::new();
    let mut config = config(&[("ROSETTA_DATA_DIR", dir.path().to_str().unwrap())]);
    config.app_env = AppEnv::Production;
    let error = load_keys(&config).unwrap_err().to_string();
    assert!(error.contains("ROSETTA_ENCRYPTION_KEYS"), "{error}");
    assert!(!dir.path().exists());
}

#[tokio::test]
async fn migrate_encrypts_the_plaintext_an_older_version_left() {
    let db = TestDb::new().await;
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute(&format!(
        r#"INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password,
                                publication_name, replication_id)
           VALUES ('legacy', 'db.example.com', 'shop', 'replicator', '{SOURCE_PASSWORD}',
                   'shop_pub', 3);
           INSERT INTO destinations (name, type, config) VALUES ('legacy', 'POSTGRES',
             '{{"host": "w", "port": 5432, "database": "dw", "username": "loader",
               "schema": "public", "password": "{DESTINATION_PASSWORD}"}}');"#
    ))
    .await
    .unwrap();
    let dir = TempDir::new();
    let output = Command::new(env!("CARGO_BIN_EXE_rosetta"))
        .arg("migrate")
        .env("DATABASE_URL", db.url())
        .env("ROSETTA_DATA_DIR", dir.path())
        .env_remove("ROSETTA_ENCRYPTION_KEYS")
        .env_remove("APP_ENV")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("encrypted 2 secret(s) stored in plaintext"),
        "{stdout}"
    );
    assert_no_secrets(&dump(db.url()).await);

    // The key file it made reads them back.
    let config = config(&[
        ("DATABASE_URL", db.url()),
        ("ROSETTA_DATA_DIR", dir.path().to_str().unwrap()),
    ]);
    let (cipher, source) = load_keys(&config).unwrap();
    assert!(matches!(source, KeySource::KeyFile(_)), "{source:?}");
    let sources = PgSourceRepository::new(db.pool(), cipher.clone())
        .list(PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        sources[0].pg_password.as_ref().map(|p| p.expose()),
        Some(SOURCE_PASSWORD)
    );
}

#[tokio::test]
async fn rotate_keys_moves_every_secret_to_the_newest_key() {
    let app = spawn_app().await;
    app.create_pipeline("p").await;
    app.post("/api/v1/destinations", &snowflake_destination_body("sf"))
        .await
        .expect(201);
    let key_2 = "2:d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3c=";
    let keys = format!("{TEST_ENCRYPTION_KEYS},{key_2}");
    let both = config(&[
        ("DATABASE_URL", app.db.url()),
        ("ROSETTA_ENCRYPTION_KEYS", &keys),
    ]);

    rosetta_server::rotate_keys::run(&both, true).await.unwrap();
    assert!(!dump(app.db.url()).await.contains("rosetta:v1:2:"));
    rosetta_server::rotate_keys::run(&both, false)
        .await
        .unwrap();
    let tables = dump(app.db.url()).await;
    assert!(!tables.contains("rosetta:v1:1:"), "{tables}");
    assert_no_secrets(&tables);

    // Key 1 can go: key 2 alone reads everything.
    let only_2 = config(&[
        ("DATABASE_URL", app.db.url()),
        ("ROSETTA_ENCRYPTION_KEYS", key_2),
    ]);
    let cipher = load_cipher(&only_2).unwrap();
    let sources = PgSourceRepository::new(app.db.pool(), cipher.clone())
        .list(PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        sources[0].pg_password.as_ref().map(|p| p.expose()),
        Some(SOURCE_PASSWORD)
    );
    let destinations = PgDestinationRepository::new(app.db.pool(), cipher)
        .list(PageRequest::default())
        .await
        .unwrap();
    assert_eq!(destinations.len(), 2);
}
