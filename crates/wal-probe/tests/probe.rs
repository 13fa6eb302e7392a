//! Black-box tests of `PgWalProbe` against the local PostgreSQL and against fake servers.
//!
//! The local server is found through `PROBE_TEST_HOST`, `PROBE_TEST_PORT`, `PROBE_TEST_USER` and
//! `PROBE_TEST_DATABASE` (defaults: `127.0.0.1`, `5432`, `postgres`, `postgres`); it must let
//! that user in without a password, as a trust-auth development cluster does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::Utc;
use rosetta_domain::{
    ports::{WalProbe, WalProbeError},
    Name, PortNumber, PublicationName, ReplicationId, Secret, Source, SourceId, Text,
};
use rosetta_wal_probe::{PgWalProbe, ProbeSettings};
use tokio::{io::AsyncReadExt, net::TcpListener};
use tokio_postgres::NoTls;

const PASSWORD: &str = "hunter2-secret";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn local_host() -> String {
    env_or("PROBE_TEST_HOST", "127.0.0.1")
}

fn local_port() -> u16 {
    env_or("PROBE_TEST_PORT", "5432").parse().unwrap()
}

fn local_user() -> String {
    env_or("PROBE_TEST_USER", "postgres")
}

fn local_database() -> String {
    env_or("PROBE_TEST_DATABASE", "postgres")
}

/// A source as the catalogue would hold it. It carries a password even though the local
/// server does not ask for one, so the tests can check it never shows in an error.
fn source(host: &str, port: u16, database: &str) -> Source {
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
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn local_source() -> Source {
    source(&local_host(), local_port(), &local_database())
}

/// Writes WAL on the local server and waits for it to be flushed: a transactional message
/// gets an xid, so its commit record is written and flushed, moving `pg_current_wal_lsn()`.
async fn generate_wal() {
    let mut config = tokio_postgres::Config::new();
    config
        .host(local_host())
        .port(local_port())
        .user(local_user())
        .dbname(local_database());
    let (client, connection) = config.connect(NoTls).await.unwrap();
    let connection = tokio::spawn(connection);
    client
        .execute(
            "SELECT pg_logical_emit_message(true, 'rosetta-test', repeat('x', 10000))",
            &[],
        )
        .await
        .unwrap();
    drop(client);
    connection.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_probe_reads_a_plausible_position_from_the_local_primary() {
    let probe = PgWalProbe::new(ProbeSettings::default());

    let reading = probe.probe(&local_source()).await.unwrap();

    assert!(reading.position_bytes > 0, "{reading:?}");
    assert!(reading.server_version_num >= 120_000, "{reading:?}");
    assert!(!reading.in_recovery);
}

#[tokio::test]
async fn the_position_moves_after_wal_is_generated() {
    let probe = PgWalProbe::new(ProbeSettings::default());
    let source = local_source();

    let first = probe.probe(&source).await.unwrap();
    generate_wal().await;
    let second = probe.probe(&source).await.unwrap();

    assert!(
        second.position_bytes > first.position_bytes,
        "{first:?} then {second:?}"
    );
}

#[tokio::test]
async fn a_closed_port_fails_with_a_connect_error_naming_host_and_port() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let probe = PgWalProbe::new(ProbeSettings::default());

    let error = probe
        .probe(&source("127.0.0.1", port, "postgres"))
        .await
        .unwrap_err();

    let expected_host = format!("127.0.0.1:{port}");
    assert!(
        matches!(&error, WalProbeError::Connect { host, .. } if *host == expected_host),
        "{error:?}"
    );
    assert!(error.to_string().contains(&expected_host), "{error}");
    assert!(!error.to_string().contains(PASSWORD), "{error}");
    assert!(!format!("{error:?}").contains(PASSWORD), "{error:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_abandoned_at_the_probe_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let probe = PgWalProbe::new(ProbeSettings {
        connect_timeout: Duration::from_secs(10),
        probe_timeout: Duration::from_millis(500),
        ..ProbeSettings::default()
    });
    let source = source("127.0.0.1", port, "postgres");

    // The fake server accepts the connection and holds it without ever writing a byte.
    let (outcome, accepted) = tokio::join!(probe.probe(&source), listener.accept());
    let (mut held, _) = accepted.unwrap();

    let error = outcome.unwrap_err();
    let expected_host = format!("127.0.0.1:{port}");
    assert!(
        matches!(
            &error,
            WalProbeError::TimedOut { host, after }
                if *host == expected_host && *after == Duration::from_millis(500)
        ),
        "{error:?}"
    );
    // The abandoned probe closed its socket: the server reads its startup message, then EOF.
    // The bound only keeps a regression from hanging the suite.
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), held.read_to_end(&mut received))
        .await
        .expect("the probe left its connection open")
        .unwrap();
    assert!(!received.is_empty());
}

#[tokio::test]
async fn a_wrong_database_name_fails_with_the_servers_reason() {
    let probe = PgWalProbe::new(ProbeSettings::default());
    let source = source(&local_host(), local_port(), "rosetta_no_such_database");

    let error = probe.probe(&source).await.unwrap_err();

    let WalProbeError::Connect { host, reason } = &error else {
        panic!("expected a connect error, got {error:?}");
    };
    assert_eq!(*host, format!("{}:{}", local_host(), local_port()));
    assert!(
        reason.contains("database \"rosetta_no_such_database\" does not exist"),
        "{reason}"
    );
    assert!(!error.to_string().contains(PASSWORD), "{error}");
}
