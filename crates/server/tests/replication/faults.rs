//! The data plane when things fail: a replicator killed in the middle of a batch, a replicator
//! dying while another stands by, a source out of reach and back. Whatever happens, no change
//! is lost and none is applied twice.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use rosetta_test_support::TestDb;
use serde_json::json;

use crate::harness::{converged, eventually, vars, Database, Service};
#[path = "../api/proxy.rs"]
pub(crate) mod proxy;

/// A table with a key, and an append-only one without (its rows would show twice if a
/// transaction were applied twice).
pub(crate) const SCHEMA: &str = "
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL);
CREATE TABLE journal (account bigint, amount bigint, note text);
ALTER TABLE journal REPLICA IDENTITY FULL;
INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 200) g;
CREATE PUBLICATION bank FOR TABLE accounts, journal;
";

/// `rounds` transactions, each moving money between accounts and journaling it.
pub(crate) fn workload(rounds: usize, from: usize) -> String {
    (from..from + rounds)
        .map(|round| {
            format!(
                "BEGIN;
                 UPDATE accounts SET balance = balance + 1 WHERE id % 7 = {m};
                 INSERT INTO journal SELECT id, 1, 'round {round}' FROM accounts WHERE id % 7 = {m};
                 INSERT INTO journal SELECT g, 0, 'filler {round}' FROM generate_series(1, 300) g;
                 COMMIT;",
                m = round % 7
            )
        })
        .collect()
}

/// A `rosetta replicate` process on `metadata`, which outlives nothing: kill it to stop it.
pub(crate) fn replicator(metadata: &TestDb, extra: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rosetta"));
    command.arg("replicate").env_clear();
    for (name, value) in vars(metadata, extra) {
        command.env(name, value);
    }
    command
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub(crate) fn kill(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The catalogue's API alone, so that replicators run in processes of their own.
pub(crate) async fn api_only() -> Service {
    Service::start(&[("REPLICATOR_ENABLED", "false")]).await
}

#[tokio::test]
async fn a_replicator_killed_mid_batch_loses_nothing_and_applies_nothing_twice() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source.execute(SCHEMA).await;
    let service = api_only().await;
    let small_batches = [("REPLICATOR_BATCH_ROWS", "500")];
    let mut first = replicator(service.metadata(), &small_batches);
    let pipeline = service
        .pipeline("bank", &source, "bank", &destination, "START")
        .await;
    service.streaming(pipeline).await;

    source.execute(&workload(40, 0)).await;
    // Some of it is on the destination, not all of it: the replicator is mid-stream.
    eventually(
        "a part of the workload to arrive",
        Duration::from_secs(60),
        || async {
            let arrived = destination
                .count("SELECT count(*) AS value FROM journal")
                .await;
            (arrived > 0, json!(arrived))
        },
    )
    .await;
    kill(&mut first);
    let arrived = destination
        .count("SELECT count(*) AS value FROM journal")
        .await;
    let total = source.count("SELECT count(*) AS value FROM journal").await;
    assert!(
        arrived < total,
        "killed too late to prove anything ({arrived} of {total})"
    );

    let mut second = replicator(service.metadata(), &small_batches);
    source.execute(&workload(5, 40)).await;
    converged(&source, &destination, "accounts", "id").await;
    converged(&source, &destination, "journal", "account, amount, note").await;
    kill(&mut second);
    service.stop().await;
}

#[tokio::test]
async fn a_second_replicator_takes_a_pipeline_over_when_its_owner_dies() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source.execute(SCHEMA).await;
    let service = api_only().await;
    let mut replicators = [
        replicator(service.metadata(), &[]),
        replicator(service.metadata(), &[]),
    ];
    let pipeline = service
        .pipeline("bank", &source, "bank", &destination, "START")
        .await;
    service.streaming(pipeline).await;
    let owner = service.pipeline_metadata(pipeline).await["owner"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner_pid: u32 = owner.split(':').nth(1).unwrap().parse().unwrap();
    let (dead, alive): (Vec<_>, Vec<_>) = replicators
        .iter_mut()
        .partition(|child| child.id() == owner_pid);
    assert_eq!(
        (dead.len(), alive.len()),
        (1, 1),
        "the owner {owner} is one of the two"
    );
    for child in dead {
        kill(child);
    }

    source.execute(&workload(5, 0)).await;
    let taken = eventually(
        "the other replicator to take over",
        Duration::from_secs(60),
        || async {
            let metadata = service.pipeline_metadata(pipeline).await;
            let moved = metadata["owner"].as_str().is_some_and(|o| o != owner)
                && metadata["phase"] == "streaming";
            (moved, metadata)
        },
    )
    .await;
    assert_ne!(taken["owner"], owner.as_str());
    converged(&source, &destination, "accounts", "id").await;
    converged(&source, &destination, "journal", "account, amount, note").await;
    for child in replicators.iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    service.stop().await;
}

#[tokio::test]
async fn a_source_out_of_reach_is_an_error_on_the_pipeline_until_it_is_back() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source.execute(SCHEMA).await;
    let proxy = proxy::Proxy::start(&format!("{}:{}", source.host(), source.port())).await;
    let service = Service::start(&[]).await;
    let pipeline = service
        .pipeline("bank", &source, "bank", &destination, "START")
        .await;
    // The source, reached through the proxy.
    let source_id =
        service.get(&format!("/api/v1/pipelines/{pipeline}")).await["source_id"].clone();
    let (status, body) = service
        .call(
            Method::PUT,
            &format!("/api/v1/sources/{source_id}"),
            Some(json!({"pg_port": proxy.port})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    service.streaming(pipeline).await;

    proxy.cut();
    source.execute(&workload(3, 0)).await;
    let error = service
        .failed(pipeline, "the pipeline to report the source")
        .await;
    let error = error.as_str();
    assert!(
        error.contains(&format!("127.0.0.1:{}", proxy.port)),
        "{error}"
    );

    proxy.restore();
    service.streaming(pipeline).await;
    converged(&source, &destination, "accounts", "id").await;
    converged(&source, &destination, "journal", "account, amount, note").await;
    let metadata = service.pipeline_metadata(pipeline).await;
    assert_eq!(metadata["status"], "RUNNING", "{metadata}");
    service.stop().await;
}

#[tokio::test]
async fn a_destination_out_of_reach_is_an_error_on_the_pipeline_until_it_is_back() {
    let source = Database::source().await;
    let destination = Database::destination().await;
    source.execute(SCHEMA).await;
    let proxy =
        proxy::Proxy::start(&format!("{}:{}", destination.host(), destination.port())).await;
    let service = Service::start(&[]).await;
    let pipeline = service
        .pipeline("bank", &source, "bank", &destination, "START")
        .await;
    let destination_id =
        service.get(&format!("/api/v1/pipelines/{pipeline}")).await["destination_id"].clone();
    let (status, body) = service
        .call(
            Method::PUT,
            &format!("/api/v1/destinations/{destination_id}"),
            Some(json!({"type": "POSTGRES", "config": {
                "host": destination.host(), "port": proxy.port, "database": destination.name,
                "username": destination.user(), "schema": "public"}})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    service.streaming(pipeline).await;

    // Cut in the middle of the stream: what the destination did not commit comes again.
    source.execute(&workload(3, 0)).await;
    proxy.cut();
    source.execute(&workload(3, 3)).await;
    let error = service
        .failed(pipeline, "the pipeline to report the destination")
        .await;
    let error = error.as_str();
    assert!(error.starts_with("destination: "), "{error}");

    proxy.restore();
    service.streaming(pipeline).await;
    converged(&source, &destination, "accounts", "id").await;
    converged(&source, &destination, "journal", "account, amount, note").await;
    service.stop().await;
}
