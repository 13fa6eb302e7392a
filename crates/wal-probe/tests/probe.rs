//! Black-box tests of `PgWalProbe` against the local PostgreSQL and against fake servers: what
//! a reading holds, and how a probe fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{generate_wal, local_host, local_port, local_source, source, PASSWORD};
use rosetta_domain::ports::{WalProbe, WalProbeError};
use rosetta_domain::{SourceId, SslMode};
use rosetta_wal_probe::{PgWalProbe, ProbeSettings};
use tokio::{io::AsyncReadExt, net::TcpListener};

#[tokio::test]
async fn the_probe_reads_a_plausible_position_from_the_local_primary() {
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));

    let reading = probe.probe(&local_source()).await.unwrap();

    assert!(reading.position_bytes > 0, "{reading:?}");
    assert!(reading.server_version_num >= 120_000, "{reading:?}");
    assert!(reading.major_version() >= 12, "{reading:?}");
    assert!(!reading.in_recovery);
    assert!(!reading.wal_level.is_empty(), "{reading:?}");
    assert!(reading.max_replication_slots > 0, "{reading:?}");
    assert!(
        reading
            .max_slot_wal_keep_size_bytes
            .is_none_or(|bytes| bytes > 0),
        "{reading:?}"
    );
    let slots: Vec<_> = reading
        .slots
        .iter()
        .map(|slot| slot.name.as_str())
        .collect();
    assert!(slots.is_sorted(), "{slots:?}");
}

#[tokio::test]
async fn a_superuser_sees_the_wal_directory_and_its_own_privileges() {
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));

    let reading = probe.probe(&local_source()).await.unwrap();

    let directory = reading.wal_directory.expect("a superuser may list pg_wal");
    assert!(directory.segments >= 1, "{directory:?}");
    assert!(directory.size_bytes > 0, "{directory:?}");
    assert!(reading.privileges.superuser, "{reading:?}");
    assert!(reading.privileges.replication, "{reading:?}");
    // A superuser counts as a member of every role.
    assert!(reading.privileges.monitor, "{reading:?}");
}

#[tokio::test]
async fn the_position_moves_after_wal_is_generated() {
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));
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
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));

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
        ..ProbeSettings::within(common::PROBE_TIMEOUT)
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
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));
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

/// The monitor caps how many probes run at once to cap the connections a source has open: a
/// probe must not return while its server process still exists.
#[tokio::test]
async fn a_finished_probe_has_left_the_servers_activity() {
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));
    let admin = common::admin().await;
    for ssl_mode in [SslMode::Disable, SslMode::Require] {
        let mut source = local_source();
        // An id of its own, so the application name is this test's alone.
        source.id = SourceId::new(8_000_000_000 + i64::from(std::process::id()));
        source.ssl_mode = ssl_mode;
        let name = format!("rosetta-probe:{}", source.id);
        for _ in 0..20 {
            probe.probe(&source).await.unwrap();
            let row = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                    &[&name],
                )
                .await
                .unwrap();
            assert_eq!(
                row.get::<_, i64>(0),
                0,
                "{ssl_mode}: a backend outlived its probe"
            );
        }
    }
}
