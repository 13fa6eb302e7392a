//! One-off measurements of the source adapter, ignored by default: run them in release with
//! `cargo test --release -p rosetta-pg-source --test throughput -- --ignored --nocapture`.
//! They print what they measured; the numbers are in docs/architecture.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{unique, CountingSink, Scratch};
use rosetta_domain::ports::ReplicationSource;
use rosetta_domain::replication::{Change, Lsn, StreamEvent};
use rosetta_pg_source::{PgReplicationSource, PgSourceSettings};

const ROWS: i64 = 1_000_000;

/// Rows of about 200 bytes, as in issue 10's benchmark.
const TABLE: &str = "CREATE TABLE rows (id bigint PRIMARY KEY, name text NOT NULL, \
     payload text NOT NULL, amount numeric(12,2) NOT NULL, at timestamptz NOT NULL); \
     CREATE PUBLICATION pub FOR TABLE rows;";

/// The process's peak resident memory (`VmHWM`), in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn fill(from: i64, to: i64) -> String {
    format!(
        "INSERT INTO rows SELECT i, 'name-' || i || repeat('n', 40), repeat(md5(i::text), 4), \
         i * 1.25, timestamptz '2026-01-01' + i * interval '1 second' \
         FROM generate_series({from}, {to}) i"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test: run it in release with --ignored --nocapture"]
async fn stream_throughput_on_a_backlog_of_a_million_inserts() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute(TABLE).await.unwrap();
    let adapter = PgReplicationSource::new(PgSourceSettings::new());
    let source = scratch.source("pub");
    let slot = unique("bench");
    adapter
        .create_slot(&source, &slot, false)
        .await
        .unwrap()
        .close()
        .await;
    // A second slot, to time the server's own decoding without any client.
    let peek = unique("peek");
    db.batch_execute(&format!(
        "SELECT pg_create_logical_replication_slot('{peek}', 'pgoutput')"
    ))
    .await
    .unwrap();
    for batch in 0..10 {
        let from = batch * (ROWS / 10) + 1;
        db.batch_execute(&fill(from, from + ROWS / 10 - 1))
            .await
            .unwrap();
    }

    let started = Instant::now();
    let mut stream = adapter.stream(&source, &slot, Lsn::ZERO).await.unwrap();
    let (mut inserts, mut events, mut bytes) = (0_i64, 0_u64, 0_u64);
    let mut last_end = Lsn::ZERO;
    while inserts < ROWS {
        let event = tokio::time::timeout(Duration::from_secs(120), stream.next())
            .await
            .unwrap()
            .unwrap();
        events += 1;
        match event {
            StreamEvent::Change(change @ Change::Insert { .. }) => {
                inserts += 1;
                bytes += change.size() as u64;
            }
            StreamEvent::Commit { end_lsn, .. } => {
                last_end = end_lsn;
                stream.confirm(end_lsn);
            }
            _ => {}
        }
    }
    let streamed = started.elapsed();
    stream.confirm(last_end);
    stream.close().await;

    let started = Instant::now();
    let row = db
        .query_one(
            &format!(
                "SELECT count(*) FROM pg_logical_slot_peek_binary_changes('{peek}', NULL, NULL, \
                 'proto_version', '1', 'publication_names', 'pub')"
            ),
            &[],
        )
        .await
        .unwrap();
    let server_only = started.elapsed();
    let messages: i64 = row.get(0);
    println!(
        "stream: {inserts} inserts ({events} events, {:.1} MB of values) in {streamed:.2?}: \
         {:.0} events/s; the server alone decodes {messages} messages in {server_only:.2?}: \
         {:.0} messages/s; peak memory of the test process {:.1} MiB",
        bytes as f64 / 1e6,
        events as f64 / streamed.as_secs_f64(),
        messages as f64 / server_only.as_secs_f64(),
        peak_mib(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test: run it in release with --ignored --nocapture"]
async fn copy_throughput_of_a_million_rows() {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    db.batch_execute(TABLE).await.unwrap();
    db.batch_execute(&fill(1, ROWS)).await.unwrap();
    db.batch_execute("VACUUM ANALYZE rows").await.unwrap();
    let adapter = PgReplicationSource::new(PgSourceSettings::new());
    let source = scratch.source("pub");
    let table = adapter
        .facts(&source, "unused")
        .await
        .unwrap()
        .tables
        .remove(0);
    let snapshot = adapter
        .create_slot(&source, &unique("copybench"), true)
        .await
        .unwrap();
    // Once to warm the cache, once measured.
    snapshot
        .copy_table(&table, &mut CountingSink::default())
        .await
        .unwrap();
    let mut sink = CountingSink::default();
    let started = Instant::now();
    let rows = snapshot.copy_table(&table, &mut sink).await.unwrap();
    let took = started.elapsed();
    snapshot.close().await;
    println!(
        "copy: {rows} rows, {:.1} MB in {took:.2?}: {:.0} rows/s, {:.1} MB/s, {} chunks, \
         the largest {} bytes; peak memory of the test process {:.1} MiB",
        sink.bytes as f64 / 1e6,
        rows as f64 / took.as_secs_f64(),
        sink.bytes as f64 / 1e6 / took.as_secs_f64(),
        sink.chunks,
        sink.largest_chunk,
        peak_mib(),
    );
}
