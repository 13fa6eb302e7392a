//! Benchmark of the destination writer's change apply: draining a backlog of 1,000,000
//! changes (60 % inserts, 30 % updates, 10 % deletes) of rows of about 200 bytes, written with
//! the writer's set-based apply and, for comparison, with a simple row-by-row apply that
//! pipelines one prepared statement per change (the way PostgreSQL's own apply worker writes,
//! minus its per-row planning of nothing: it uses the same statements every time).
//!
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432 cargo bench -p rosetta-pg-destination
//! --bench apply` (optional: `BENCH_CHANGES`, `BENCH_BATCHES` as a comma-separated list of
//! batch sizes, `BENCH_ROWWISE_BATCH` the row-by-row run's batch size, `BENCH_ROWWISE=0` to
//! skip that run). It makes a database of its own and drops it at the end.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use futures_util::{stream, StreamExt};
use rosetta_domain::ports::{Checkpoint, DestinationWriter};
use rosetta_domain::replication::{
    Change, Column, Datum, Lsn, RelationId, ReplicaIdentity, Row, TableName, TableSchema,
};
use rosetta_domain::{
    Destination, DestinationConfig, DestinationId, Name, PipelineId, PortNumber, PostgresConfig,
    Text,
};
use rosetta_pg_destination::{PgDestinationSettings, PgDestinationWriter};
use tokio_postgres::config::Host;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};

/// Rows in the table before the backlog.
const INITIAL_ROWS: i64 = 500_000;

/// A small deterministic generator (xorshift64*), so that both runs see the same changes.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

/// The source's side of the backlog: which rows exist, and the changes made to them.
struct Workload {
    random: Random,
    live: Vec<i64>,
    next_id: i64,
    filler: String,
}

fn datum(value: String) -> Datum {
    Datum::Text(Bytes::from(value))
}

impl Workload {
    fn new() -> Self {
        Self {
            random: Random(0x9E37_79B9_7F4A_7C15),
            live: (1..=INITIAL_ROWS).collect(),
            next_id: INITIAL_ROWS + 1,
            filler: "abcdefghijklmnopqrstuvwxyz0123456789".repeat(5),
        }
    }

    fn row(&mut self, id: i64) -> Row {
        let n = self.random.next();
        let start = usize::try_from(n % 30).unwrap();
        Row(vec![
            datum(id.to_string()),
            datum((n % 1_000_000).to_string()),
            datum(self.filler[start..start + 140].to_owned()),
            datum(format!("2026-0{}-1{} 12:34:56.789+00", 1 + n % 9, n % 10)),
            datum(format!("{}.{:02}", n % 100_000, n % 100)),
        ])
    }

    /// The next `size` changes.
    fn batch(&mut self, size: usize) -> Vec<Change> {
        let relation = RelationId::new(16_400);
        (0..size)
            .map(|_| {
                let dice = self.random.below(10);
                if dice < 6 || self.live.is_empty() {
                    let id = self.next_id;
                    self.next_id += 1;
                    self.live.push(id);
                    let new = self.row(id);
                    Change::Insert { relation, new }
                } else if dice < 9 {
                    let id = self.live[self.random.below(self.live.len())];
                    let new = self.row(id);
                    Change::Update {
                        relation,
                        old: None,
                        new,
                    }
                } else {
                    let at = self.random.below(self.live.len());
                    let id = self.live.swap_remove(at);
                    let old = Row(vec![
                        datum(id.to_string()),
                        Datum::Null,
                        Datum::Null,
                        Datum::Null,
                        Datum::Null,
                    ]);
                    Change::Delete { relation, old }
                }
            })
            .collect()
    }
}

fn items() -> TableSchema {
    let column = |name: &str, type_name: &str, modifier: i32, key: bool| Column {
        name: name.to_owned(),
        type_oid: 0,
        type_modifier: modifier,
        type_name: type_name.to_owned(),
        nullable: !key,
        key,
    };
    TableSchema {
        id: RelationId::new(16_400),
        name: TableName::new("public", "items"),
        replica_identity: ReplicaIdentity::Default,
        columns: vec![
            column("id", "bigint", -1, true),
            column("qty", "integer", -1, false),
            column("note", "text", -1, false),
            column("at", "timestamp with time zone", -1, false),
            column("price", "numeric(12,2)", (12 << 16 | 2) + 4, false),
        ],
    }
}

fn server() -> Config {
    let url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL is not set: export DATABASE_URL=postgres://postgres@127.0.0.1:5432");
    Config::from_str(&url).expect("DATABASE_URL is not a URL")
}

async fn connect(database: &str) -> Client {
    let mut config = server();
    config.dbname(database);
    let (client, connection) = config
        .connect(NoTls)
        .await
        .expect("cannot reach DATABASE_URL");
    tokio::spawn(connection);
    client
}

fn destination(database: &str) -> Destination {
    let config = server();
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    Destination {
        id: DestinationId::new(1),
        name: Name::parse("bench").unwrap(),
        config: DestinationConfig::Postgres(PostgresConfig {
            host: Text::parse(&host).unwrap(),
            port: PortNumber::new(port.into()).unwrap(),
            database: Text::parse(database).unwrap(),
            username: Text::parse(config.get_user().unwrap_or("postgres")).unwrap(),
            schema: Text::parse("mirror").unwrap(),
            password: None,
        }),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn checkpoint(n: u64) -> Checkpoint {
    Checkpoint {
        commit_lsn: Lsn::new(n * 100),
        end_lsn: Lsn::new(n * 100 + 50),
        commit_time: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
    }
}

/// Fills `table` with the initial rows, as the workload's generator would have made them.
async fn reset(client: &Client, table: &str) {
    for statement in [
        format!("TRUNCATE {table}"),
        format!(
            "INSERT INTO {table} SELECT i, i % 1000000, \
                 repeat('abcdefghijklmnopqrstuvwxyz0123456789', 4), \
                 '2026-01-01 00:00:00+00'::timestamptz + i * interval '1 second', \
                 (i % 100000) + 0.5 \
             FROM generate_series(1, {INITIAL_ROWS}) i"
        ),
        format!("VACUUM ANALYZE {table}"),
        "CHECKPOINT".to_owned(),
    ] {
        client.batch_execute(&statement).await.unwrap();
    }
}

/// The writer's own apply: one `apply` and one `commit` per batch.
async fn set_based(database: &str, changes: usize, batch: usize) -> Duration {
    let writer = PgDestinationWriter::new(PgDestinationSettings::new(
        Duration::from_secs(10),
        Duration::from_secs(600),
    ));
    let mut session = writer
        .open(&destination(database), PipelineId::new(1), 1)
        .await
        .unwrap();
    session.prepare_table(&items()).await.unwrap();
    reset(&connect(database).await, "mirror.items").await;
    let mut workload = Workload::new();
    let mut spent = Duration::ZERO;
    for n in 0..changes.div_ceil(batch) {
        let changes = workload.batch(batch.min(changes - n * batch));
        let started = Instant::now();
        session.apply(&changes).await.unwrap();
        session.commit(checkpoint(n as u64 + 1)).await.unwrap();
        session.committed().await.unwrap();
        spent += started.elapsed();
    }
    spent
}

fn param(datum: &Datum) -> Option<&str> {
    match datum {
        Datum::Text(bytes) => std::str::from_utf8(bytes).ok(),
        Datum::Null | Datum::Unchanged => None,
    }
}

/// The baseline: each change its own prepared statement, 256 in flight, one transaction per
/// batch with its checkpoint.
async fn row_by_row(database: &str, changes: usize, batch: usize) -> Duration {
    let client = connect(database).await;
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS rowwise; \
             CREATE TABLE IF NOT EXISTS rowwise.items (LIKE mirror.items INCLUDING ALL); \
             CREATE TABLE IF NOT EXISTS rowwise.checkpoint (id int PRIMARY KEY, lsn bigint); \
             INSERT INTO rowwise.checkpoint VALUES (1, 0) ON CONFLICT DO NOTHING",
        )
        .await
        .unwrap();
    reset(&client, "rowwise.items").await;
    let text = |n: usize| vec![Type::TEXT; n];
    let insert = client
        .prepare_typed(
            "INSERT INTO rowwise.items VALUES ($1::bigint, $2::integer, $3, $4::timestamptz, $5::numeric)",
            &text(5),
        )
        .await
        .unwrap();
    let update = client
        .prepare_typed(
            "UPDATE rowwise.items SET qty = $2::integer, note = $3, at = $4::timestamptz, \
             price = $5::numeric WHERE id = $1::bigint",
            &text(5),
        )
        .await
        .unwrap();
    let delete = client
        .prepare_typed("DELETE FROM rowwise.items WHERE id = $1::bigint", &text(1))
        .await
        .unwrap();
    let mut workload = Workload::new();
    let mut spent = Duration::ZERO;
    for n in 0..changes.div_ceil(batch) {
        let changes = workload.batch(batch.min(changes - n * batch));
        let started = Instant::now();
        client.batch_execute("BEGIN").await.unwrap();
        let client = &client;
        let work: Vec<_> = changes
            .iter()
            .map(|change| {
                let (statement, row) = match change {
                    Change::Insert { new, .. } => (&insert, &new.0[..]),
                    Change::Update { new, .. } => (&update, &new.0[..]),
                    Change::Delete { old, .. } => (&delete, &old.0[..1]),
                    Change::Truncate { .. } => unreachable!(),
                };
                let params: Vec<Option<&str>> = row.iter().map(param).collect();
                async move {
                    let refs: Vec<&(dyn ToSql + Sync)> =
                        params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                    client.execute(statement, &refs).await
                }
            })
            .collect();
        let mut results = stream::iter(work).buffered(256);
        while let Some(result) = results.next().await {
            result.unwrap();
        }
        client
            .execute(
                "UPDATE rowwise.checkpoint SET lsn = $1 WHERE id = 1",
                &[&i64::try_from(n).unwrap()],
            )
            .await
            .unwrap();
        client.batch_execute("COMMIT").await.unwrap();
        spent += started.elapsed();
    }
    spent
}

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let changes: usize = env_or("BENCH_CHANGES", 1_000_000);
    let batches: Vec<usize> = std::env::var("BENCH_BATCHES")
        .unwrap_or_else(|_| "1000,10000,100000".to_owned())
        .split(',')
        .filter_map(|b| b.trim().parse().ok())
        .collect();
    let database = format!("rosetta_pgdest_bench_{}", std::process::id());
    let admin = connect("postgres").await;
    // Databases of runs that panicked.
    for row in admin
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'rosetta\\_pgdest\\_bench\\_%'",
            &[],
        )
        .await
        .unwrap()
    {
        let name: String = row.get(0);
        drop(admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).await);
    }
    admin
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    println!("{changes} changes (60 % insert, 30 % update, 10 % delete) on {INITIAL_ROWS} rows of ~200 bytes");
    for &batch in &batches {
        let spent = set_based(&database, changes, batch).await;
        println!(
            "set-based,  batches of {batch:>6}: {:>8.0} changes/s ({:.1} s)",
            changes as f64 / spent.as_secs_f64(),
            spent.as_secs_f64()
        );
    }
    if env_or("BENCH_ROWWISE", 1) == 1 {
        let batch = env_or("BENCH_ROWWISE_BATCH", 10_000);
        let spent = row_by_row(&database, changes, batch).await;
        println!(
            "row-by-row, batches of {batch:>6}: {:>8.0} changes/s ({:.1} s)",
            changes as f64 / spent.as_secs_f64(),
            spent.as_secs_f64()
        );
        let client = connect(&database).await;
        let differences: i64 = client
            .query_one(
                "SELECT (SELECT count(*) FROM (TABLE mirror.items EXCEPT TABLE rowwise.items) a) \
                      + (SELECT count(*) FROM (TABLE rowwise.items EXCEPT TABLE mirror.items) b)",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        println!(
            "rows that differ between the two (last set-based run vs row-by-row): {differences}"
        );
    }
    drop(
        admin
            .batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)"))
            .await,
    );
}
