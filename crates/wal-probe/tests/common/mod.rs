//! What the probe's test binaries share: the local server's address, sources pointing at it, an
//! admin connection, and guards that undo what a test set up on the shared cluster.
//!
//! The local server is found through `PROBE_TEST_HOST`, `PROBE_TEST_PORT`, `PROBE_TEST_USER` and
//! `PROBE_TEST_DATABASE` (defaults: `127.0.0.1`, `5432`, `postgres`, `postgres`); it must let
//! that user in without a password, as a trust-auth development cluster does.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use chrono::Utc;
use rosetta_domain::{
    Name, PortNumber, PublicationName, ReplicationId, Secret, Source, SourceId, SslMode, Text,
};
use tokio_postgres::{Client, NoTls};

pub const PASSWORD: &str = "hunter2-secret";

/// The deadline of the probes the tests make: the service's default.
pub const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

pub fn local_host() -> String {
    env_or("PROBE_TEST_HOST", "127.0.0.1")
}

pub fn local_port() -> u16 {
    env_or("PROBE_TEST_PORT", "5432").parse().unwrap()
}

pub fn local_user() -> String {
    env_or("PROBE_TEST_USER", "postgres")
}

pub fn local_database() -> String {
    env_or("PROBE_TEST_DATABASE", "postgres")
}

/// A source as the catalogue would hold it. It carries a password even though the local
/// server does not ask for one, so the tests can check it never shows in an error. It uses
/// plain TCP; the TLS tests set their mode themselves.
pub fn source(host: &str, port: u16, database: &str) -> Source {
    Source {
        id: SourceId::new(7),
        name: Name::parse("local").unwrap(),
        pg_host: Text::parse(host).unwrap(),
        pg_port: PortNumber::new(port.into()).unwrap(),
        pg_database: Text::parse(database).unwrap(),
        pg_username: Text::parse(&local_user()).unwrap(),
        pg_password: Some(Secret::parse(PASSWORD).unwrap()),
        publication_name: PublicationName::parse("rosetta_pub").unwrap(),
        replication_id: ReplicationId::new(1).unwrap(),
        ssl_mode: SslMode::Disable,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

pub fn local_source() -> Source {
    source(&local_host(), local_port(), &local_database())
}

/// A name no other test process uses on the shared cluster: tests of one binary share a
/// process id, so each passes its own `tag`.
pub fn unique_name(tag: &str) -> String {
    format!("rosetta_probe_test_{}_{tag}", std::process::id())
}

/// A replication id no other test process uses, so that its slot name is unique too.
pub fn unique_replication_id(tag: u8) -> ReplicationId {
    ReplicationId::new(9_000_000_000_000 + i64::from(std::process::id()) * 100 + i64::from(tag))
        .unwrap()
}

/// An administrator's connection to the local server, over plain TCP.
pub async fn admin() -> Client {
    let mut config = tokio_postgres::Config::new();
    config
        .host(local_host())
        .port(local_port())
        .user(local_user())
        .dbname(local_database())
        .application_name("rosetta-probe-tests");
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("admin connection failed: {e}");
        }
    });
    client
}

/// Runs `sql` as the administrator on a connection of its own.
pub async fn admin_execute(sql: &str) {
    admin().await.batch_execute(sql).await.unwrap();
}

/// Writes WAL on the local server and waits for it to be flushed: a transactional message
/// gets an xid, so its commit record is written and flushed, moving `pg_current_wal_lsn()`.
pub async fn generate_wal() {
    admin_execute("SELECT pg_logical_emit_message(true, 'rosetta-test', repeat('x', 10000))").await;
}

/// Runs its SQL when dropped, so that what a test created on the shared cluster (a slot that
/// would hold WAL back for ever, a role, a publication) goes away even when the test fails.
///
/// Drop cannot await, and the test's runtime may be single-threaded or unwinding: the SQL runs
/// on a thread with a runtime of its own, which the drop waits for.
pub struct Cleanup(String);

impl Cleanup {
    /// Runs `sql` as the administrator on drop.
    pub fn new(sql: impl Into<String>) -> Self {
        Self(sql.into())
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let sql = std::mem::take(&mut self.0);
        let outcome = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(admin_execute(&sql));
        })
        .join();
        if outcome.is_err() && !std::thread::panicking() {
            panic!("cleaning up after the test failed");
        }
    }
}
