//! What the destination writer's test binaries share: a database of their own per test on the
//! server `DATABASE_URL` names (dropped when the guard is), destinations pointing at it, and
//! builders of tables and changes.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use rosetta_domain::ports::{Checkpoint, DestinationSession, DestinationWriter};
use rosetta_domain::replication::{
    Change, Column, Datum, Lsn, RelationId, ReplicaIdentity, Row, TableName, TableSchema,
};
use rosetta_domain::{
    Destination, DestinationConfig, DestinationId, Name, PipelineId, PortNumber, PostgresConfig,
    Secret, Text,
};
use rosetta_pg_destination::{PgDestinationSettings, PgDestinationWriter};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

/// What to do when `DATABASE_URL` is missing.
const MISSING_URL: &str = "DATABASE_URL is not set: these tests make their databases on a \
PostgreSQL server. export DATABASE_URL=postgres://postgres@127.0.0.1:5432 (a role that may \
create databases), or run scripts/test.sh";

/// The password the destinations carry (the trust-auth test server does not ask for it), so
/// that tests can check it never shows.
pub const PASSWORD: &str = "hunter2-secret";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The test server's login.
pub fn server() -> Config {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| panic!("{MISSING_URL}"));
    Config::from_str(&url).unwrap_or_else(|e| panic!("DATABASE_URL is not a URL: {e}"))
}

fn host_and_port() -> (String, u16) {
    let config = server();
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "127.0.0.1".to_owned(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
}

/// A connection to `database` on the test server.
pub async fn connect(database: &str) -> Client {
    let mut config = server();
    config.dbname(database);
    let (client, connection) = config
        .connect(NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test server (DATABASE_URL): {e}"));
    tokio::spawn(connection);
    client
}

/// A database of one test's own, dropped (`WITH (FORCE)`) when this is dropped, even when the
/// test panics.
pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    pub async fn new() -> Self {
        let name = format!(
            "rosetta_pgdest_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            Utc::now().timestamp_micros() % 1_000_000
        );
        connect("postgres")
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        Self { name }
    }

    /// A connection to the database, to look at what the writer did.
    pub async fn client(&self) -> Client {
        connect(&self.name).await
    }

    /// A destination writing to schema `schema` of the database.
    pub fn destination(&self, schema: &str) -> Destination {
        let (host, port) = host_and_port();
        let user = server().get_user().unwrap_or("postgres").to_owned();
        Destination {
            id: DestinationId::new(3),
            name: Name::parse("mirror").unwrap(),
            config: DestinationConfig::Postgres(PostgresConfig {
                host: Text::parse(&host).unwrap(),
                port: PortNumber::new(port.into()).unwrap(),
                database: Text::parse(&self.name).unwrap(),
                username: Text::parse(&user).unwrap(),
                schema: Text::parse(schema).unwrap(),
                password: Some(Secret::parse(PASSWORD).unwrap()),
            }),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    /// Opens run `epoch` of pipeline 7 on schema `mirror`.
    pub async fn open(&self, epoch: u64) -> Box<dyn DestinationSession> {
        writer()
            .open(&self.destination("mirror"), PipelineId::new(7), epoch)
            .await
            .unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if !execute_from_drop(sql) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

/// Runs `sql` on the server's `postgres` database from a `Drop`, which cannot await: on a
/// thread of its own with a runtime of its own. Says whether it succeeded.
pub fn execute_from_drop(sql: String) -> bool {
    let done = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { connect("postgres").await.batch_execute(&sql).await })
    })
    .join();
    matches!(done, Ok(Ok(())))
}

pub fn writer() -> PgDestinationWriter {
    PgDestinationWriter::new(PgDestinationSettings::new(
        Duration::from_secs(10),
        Duration::from_secs(60),
    ))
}

/// A column of type `type_name` (as format_type writes it) without a type modifier.
pub fn column(name: &str, type_name: &str, key: bool) -> Column {
    modified(name, type_name, -1, key)
}

/// A column of type `type_name` whose `atttypmod` is `modifier` (`varchar(20)` is 24).
pub fn modified(name: &str, type_name: &str, modifier: i32, key: bool) -> Column {
    Column {
        name: name.to_owned(),
        type_oid: 0,
        type_modifier: modifier,
        type_name: type_name.to_owned(),
        nullable: !key,
        key,
    }
}

/// A source table `shop.<name>` with oid `oid`.
pub fn table(oid: u32, name: &str, columns: Vec<Column>) -> TableSchema {
    let replica_identity = if columns.iter().any(|c| c.key) {
        ReplicaIdentity::Default
    } else {
        ReplicaIdentity::Full
    };
    TableSchema {
        id: RelationId::new(oid),
        name: TableName::new("shop", name),
        replica_identity,
        columns,
    }
}

pub fn text(value: &str) -> Datum {
    Datum::Text(Bytes::copy_from_slice(value.as_bytes()))
}

pub fn row(values: &[Datum]) -> Row {
    Row(values.to_vec())
}

pub fn insert(table: &TableSchema, values: &[Datum]) -> Change {
    Change::Insert {
        relation: table.id,
        new: row(values),
    }
}

pub fn update(table: &TableSchema, old: Option<&[Datum]>, new: &[Datum]) -> Change {
    Change::Update {
        relation: table.id,
        old: old.map(row),
        new: row(new),
    }
}

pub fn delete(table: &TableSchema, old: &[Datum]) -> Change {
    Change::Delete {
        relation: table.id,
        old: row(old),
    }
}

/// The checkpoint of a source transaction ending at `end`.
pub fn checkpoint(end: u64) -> Checkpoint {
    Checkpoint {
        commit_lsn: Lsn::new(end - 8),
        end_lsn: Lsn::new(end),
        commit_time: commit_time(end),
    }
}

pub fn commit_time(seconds: u64) -> DateTime<Utc> {
    Utc.timestamp_opt(
        1_800_000_000 + i64::try_from(seconds).unwrap() % 1_000_000,
        0,
    )
    .unwrap()
}

/// The rows of `sql` as text, sorted, to compare tables with.
pub async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let rows = client.simple_query(sql).await.unwrap();
    let mut out: Vec<Vec<Option<String>>> = rows
        .into_iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    out.sort();
    out
}
