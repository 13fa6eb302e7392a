//! What the source adapter's tests share: the `wal_level = logical` cluster named by
//! `LOGICAL_DATABASE_URL`, a scratch database per test (with its slots and roles) dropped when
//! the test ends, even by a panic, sources pointing at it, and a counting copy sink.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use rosetta_domain::ports::{ChangeStream, CopyFormat, CopySink, DestinationError};
use rosetta_domain::replication::StreamEvent;
use rosetta_domain::{
    Name, PortNumber, PublicationName, ReplicationId, Secret, Source, SourceId, SslMode, Text,
};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

/// A password the sources carry (the trust-auth cluster ignores it), so tests can check it
/// never shows in an error.
pub const PASSWORD: &str = "hunter2-secret";

const MISSING_URL: &str = "LOGICAL_DATABASE_URL is not set: these tests need a PostgreSQL \
cluster with wal_level = logical. Run scripts/ensure-logical-postgres.sh, then export \
LOGICAL_DATABASE_URL=postgres://postgres@127.0.0.1:5433 (a superuser, trusted on loopback)";

/// The logical cluster's configuration, from `LOGICAL_DATABASE_URL`.
pub fn logical_config() -> Config {
    let url = std::env::var("LOGICAL_DATABASE_URL").unwrap_or_else(|_| panic!("{MISSING_URL}"));
    Config::from_str(&url).unwrap_or_else(|e| panic!("LOGICAL_DATABASE_URL is not valid: {e}"))
}

/// `(host, port, user)` of a configuration.
pub fn address(config: &Config) -> (String, u16, String) {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres").to_owned();
    (host, port, user)
}

/// A connection to `database` on the server of `config`.
pub async fn connect(config: &Config, database: &str) -> Client {
    let mut config = config.clone();
    config.dbname(database);
    let (client, connection) = config
        .connect(NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {database}: {e}"));
    tokio::spawn(connection);
    client
}

/// A source as the catalogue would hold it, over plain TCP.
pub fn source_at(host: &str, port: u16, user: &str, database: &str, publication: &str) -> Source {
    Source {
        id: SourceId::new(11),
        name: Name::parse("scratch").unwrap(),
        pg_host: Text::parse(host).unwrap(),
        pg_port: PortNumber::new(port.into()).unwrap(),
        pg_database: Text::parse(database).unwrap(),
        pg_username: Text::parse(user).unwrap(),
        pg_password: Some(Secret::parse(PASSWORD).unwrap()),
        publication_name: PublicationName::parse(publication).unwrap(),
        replication_id: ReplicationId::new(1).unwrap(),
        ssl_mode: SslMode::Disable,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other test (or test process) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database of its own on the logical cluster, with what the test makes in it. Dropping it
/// ends the sessions in it, drops its slots, the database and the roles the test made.
pub struct Scratch {
    pub config: Config,
    pub database: String,
    pub roles: Vec<String>,
}

impl Scratch {
    pub async fn new() -> Self {
        Self::on(logical_config()).await
    }

    /// A scratch database on the server of `config`.
    pub async fn on(config: Config) -> Self {
        let database = unique("pgsrc");
        let admin = connect(&config, "postgres").await;
        admin
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await
            .unwrap();
        Self {
            config,
            database,
            roles: Vec::new(),
        }
    }

    /// A connection to the scratch database, as the cluster's superuser.
    pub async fn client(&self) -> Client {
        connect(&self.config, &self.database).await
    }

    /// A source for the scratch database with `publication`, over plain TCP.
    pub fn source(&self, publication: &str) -> Source {
        let (host, port, user) = address(&self.config);
        source_at(&host, port, &user, &self.database, publication)
    }

    /// A role that may log in (and nothing more), dropped with the scratch database.
    pub async fn role(&mut self, name: &str) {
        let admin = connect(&self.config, "postgres").await;
        admin
            .batch_execute(&format!("CREATE ROLE {name} LOGIN"))
            .await
            .unwrap();
        self.roles.push(name.to_owned());
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let config = self.config.clone();
        let database = self.database.clone();
        let roles = std::mem::take(&mut self.roles);
        // Drop may run inside the test's runtime, which cannot be blocked on: a thread of its
        // own with a runtime of its own does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let admin = connect(&config, "postgres").await;
                for _ in 0..50 {
                    let _ = admin
                        .query(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                             WHERE datname = $1 AND pid <> pg_backend_pid()",
                            &[&database],
                        )
                        .await;
                    let dropped = admin
                        .query(
                            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                             WHERE database = $1",
                            &[&database],
                        )
                        .await;
                    let left = admin
                        .query_one(
                            "SELECT count(*) FROM pg_replication_slots WHERE database = $1",
                            &[&database],
                        )
                        .await
                        .map(|row| row.get::<_, i64>(0))
                        .unwrap_or(1);
                    if dropped.is_ok() && left == 0 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                if let Err(e) = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                    .await
                {
                    eprintln!("could not drop the scratch database {database}: {e}");
                }
                for role in roles {
                    let _ = admin
                        .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// A copy sink that counts what it is given and keeps nothing.
#[derive(Debug, Default)]
pub struct CountingSink {
    pub chunks: u64,
    pub bytes: u64,
    pub rows: u64,
    pub largest_chunk: usize,
    /// The first rows, to look at.
    pub sample: Vec<Bytes>,
    /// The format it asks for.
    pub format: CopyFormat,
}

#[async_trait]
impl CopySink for CountingSink {
    fn format(&self) -> CopyFormat {
        self.format
    }

    async fn write(&mut self, rows: Bytes) -> Result<(), DestinationError> {
        self.chunks += 1;
        self.bytes += rows.len() as u64;
        self.rows += rows.iter().filter(|&&b| b == b'\n').count() as u64;
        self.largest_chunk = self.largest_chunk.max(rows.len());
        if self.sample.len() < 10 {
            self.sample.push(rows);
        }
        Ok(())
    }
}

/// The next event within `within`, panicking after it.
pub async fn next_within(stream: &mut dyn ChangeStream, within: Duration) -> StreamEvent {
    tokio::time::timeout(within, stream.next())
        .await
        .unwrap_or_else(|_| panic!("no event within {within:?}"))
        .unwrap()
}

/// Every event but keepalives up to and including the `commits`-th Commit.
pub async fn transactions(stream: &mut dyn ChangeStream, commits: usize) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    let mut seen = 0;
    while seen < commits {
        let event = next_within(stream, Duration::from_secs(30)).await;
        match event {
            StreamEvent::Keepalive { .. } => continue,
            StreamEvent::Commit { .. } => seen += 1,
            _ => {}
        }
        events.push(event);
    }
    events
}

/// Whether anything but keepalives arrives within `within`.
pub async fn quiet_for(stream: &mut dyn ChangeStream, within: Duration) -> Option<StreamEvent> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return None,
            Ok(Ok(StreamEvent::Keepalive { .. })) => continue,
            Ok(Ok(event)) => return Some(event),
            Ok(Err(e)) => panic!("the stream failed: {e}"),
        }
    }
}
