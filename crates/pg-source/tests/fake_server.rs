//! The replication client against a fake server (see `fake`): the login methods, TLS refused,
//! cancel-safety, status updates and the goodbye, byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake;

use std::time::Duration;

use chrono::Utc;
use fake::{keepalive, listen, status_flush, xlogdata, Auth, Peer, USER};
use rosetta_domain::ports::{ChangeStream, ReplicationError, ReplicationSource};
use rosetta_domain::replication::{Lsn, StreamEvent};
use rosetta_domain::{
    Name, PortNumber, PublicationName, ReplicationId, Secret, Source, SourceId, SslMode, Text,
};
use rosetta_pg_source::{PgReplicationSource, PgSourceSettings};
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "hunter2-secret";
const SLOT: &str = "rosetta_1_9";

fn source(port: u16, password: Option<&str>, ssl_mode: SslMode) -> Source {
    Source {
        id: SourceId::new(9),
        name: Name::parse("fake").unwrap(),
        pg_host: Text::parse("127.0.0.1").unwrap(),
        pg_port: PortNumber::new(port.into()).unwrap(),
        pg_database: Text::parse("shop").unwrap(),
        pg_username: Text::parse(USER).unwrap(),
        pg_password: password.map(|p| Secret::parse(p).unwrap()),
        publication_name: PublicationName::parse("Shop_pub").unwrap(),
        replication_id: ReplicationId::new(1).unwrap(),
        ssl_mode,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn adapter() -> PgReplicationSource {
    PgReplicationSource::new(PgSourceSettings {
        connect_timeout: Duration::from_secs(5),
        ..PgSourceSettings::new()
    })
}

/// Logs in with `auth`, the client knowing `client_password`; returns the stream or its error,
/// and what the server saw at startup.
async fn stream_with(
    auth: Auth,
    client_password: Option<&str>,
) -> Result<Box<dyn ChangeStream>, ReplicationError> {
    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        let parameters = peer.startup().await;
        if peer.login(auth, PASSWORD).await && peer.start_streaming().await.is_some() {
            peer.serve_until_closed().await;
        }
        parameters
    });
    let outcome = adapter()
        .stream(
            &source(port, client_password, SslMode::Disable),
            SLOT,
            Lsn::ZERO,
        )
        .await;
    if outcome.is_err() {
        let parameters = server.await.unwrap();
        assert!(!parameters.is_empty());
    }
    outcome
}

#[tokio::test]
async fn scram_sha_256_logs_in_and_checks_the_servers_proof() {
    let mut stream = stream_with(Auth::Scram, Some(PASSWORD)).await.unwrap();
    stream.close().await;

    let forged = stream_with(Auth::ScramForged, Some(PASSWORD))
        .await
        .err()
        .unwrap();
    let message = forged.to_string();
    assert!(
        matches!(forged, ReplicationError::Connect { .. }),
        "{forged:?}"
    );
    assert!(message.contains("SCRAM"), "{message}");
    assert!(!message.contains(PASSWORD), "{message}");
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_the_servers_words_and_never_shown() {
    for auth in [Auth::Scram, Auth::Md5, Auth::Cleartext] {
        let error = stream_with(auth, Some("not-the-password"))
            .await
            .err()
            .unwrap();
        let message = error.to_string();
        assert!(
            matches!(error, ReplicationError::Connect { .. }),
            "{error:?}"
        );
        assert!(
            message.contains("password authentication failed"),
            "{message}"
        );
        assert!(message.contains("28P01"), "{message}");
        assert!(message.contains("127.0.0.1"), "{message}");
        assert!(!message.contains("not-the-password"), "{message}");
        assert!(!format!("{error:?}").contains("not-the-password"));
    }
}

#[tokio::test]
async fn md5_cleartext_and_trust_log_in() {
    for auth in [Auth::Md5, Auth::Cleartext, Auth::Trust] {
        let mut stream = stream_with(auth, Some(PASSWORD)).await.unwrap();
        stream.close().await;
    }
}

#[tokio::test]
async fn a_server_asking_for_a_password_the_source_lacks_says_so() {
    let error = stream_with(Auth::Scram, None).await.err().unwrap();
    assert!(
        error
            .to_string()
            .contains("asks for a password, and the source has none"),
        "{error}"
    );
}

#[tokio::test]
async fn the_session_asks_for_replication_and_pins_its_formats() {
    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        let parameters = peer.startup().await;
        peer.login(Auth::Trust, PASSWORD).await;
        let query = peer.start_streaming().await.unwrap();
        peer.serve_until_closed().await;
        (parameters, query)
    });
    let mut stream = adapter()
        .stream(
            &source(port, None, SslMode::Disable),
            SLOT,
            Lsn::new(0x1_0000_0010),
        )
        .await
        .unwrap();
    stream.close().await;
    let (parameters, query) = server.await.unwrap();
    let get = |name: &str| {
        parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("replication"), Some("database"));
    assert_eq!(get("database"), Some("shop"));
    assert_eq!(get("user"), Some(USER));
    assert_eq!(get("application_name"), Some("rosetta:rosetta_1_9"));
    assert_eq!(get("client_encoding"), Some("UTF8"));
    assert_eq!(
        get("options"),
        Some("-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c bytea_output=hex")
    );
    assert_eq!(
        query,
        "START_REPLICATION SLOT rosetta_1_9 LOGICAL 1/10 (proto_version '1', publication_names '\"Shop_pub\"')"
    );
}

#[tokio::test]
async fn require_fails_and_prefer_goes_on_when_the_server_refuses_tls() {
    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        // `require`: the client hangs up after the server's N.
        let mut refused = Peer::accept(&listener).await;
        let mut first = [0_u8; 8];
        tokio::io::AsyncReadExt::read_exact(&mut refused.socket, &mut first)
            .await
            .unwrap();
        assert_eq!(&first[4..], &80_877_103_u32.to_be_bytes(), "an SSLRequest");
        refused.socket.write_all(b"N").await.unwrap();
        // `prefer`: the same answer, then a plain login.
        let mut plain = Peer::accept(&listener).await;
        plain.startup().await;
        plain.login(Auth::Trust, PASSWORD).await;
        plain.start_streaming().await.unwrap();
        plain.serve_until_closed().await;
    });
    let error = adapter()
        .stream(&source(port, None, SslMode::Require), SLOT, Lsn::ZERO)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error, ReplicationError::Connect { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("does not accept TLS"), "{error}");
    let mut stream = adapter()
        .stream(&source(port, None, SslMode::Prefer), SLOT, Lsn::ZERO)
        .await
        .unwrap();
    stream.close().await;
    server.await.unwrap();
}

#[tokio::test]
async fn an_abandoned_next_loses_nothing_of_a_message_half_received() {
    let (listener, port) = listen().await;
    let (halfway, mut half_sent) = tokio::sync::mpsc::channel::<()>(1);
    let (go_on, mut rest_allowed) = tokio::sync::mpsc::channel::<()>(1);
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        peer.startup().await;
        peer.login(Auth::Trust, PASSWORD).await;
        peer.start_streaming().await.unwrap();
        let message = keepalive(0x0123_4567_89AB, false);
        peer.socket.write_all(&message[..9]).await.unwrap();
        halfway.send(()).await.unwrap();
        rest_allowed.recv().await.unwrap();
        peer.socket.write_all(&message[9..]).await.unwrap();
        peer.serve_until_closed().await;
    });
    let mut stream = adapter()
        .stream(&source(port, None, SslMode::Disable), SLOT, Lsn::ZERO)
        .await
        .unwrap();
    half_sent.recv().await.unwrap();
    // The first half is in flight or read: a next() given up on now must not lose it.
    for _ in 0..3 {
        let waited = tokio::time::timeout(Duration::from_millis(50), stream.next()).await;
        assert!(waited.is_err(), "nothing complete was sent yet: {waited:?}");
    }
    go_on.send(()).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        event,
        StreamEvent::Keepalive {
            wal_end: Lsn::new(0x0123_4567_89AB)
        }
    );
    stream.close().await;
    server.await.unwrap();
}

type Reports = tokio::sync::mpsc::UnboundedReceiver<(u8, Option<u64>)>;

/// A fake server that records what the client sends while streaming (tag, and the flush
/// position of status updates), answers CopyDone as PostgreSQL does, and sends a keepalive
/// asking for an answer whenever told to.
async fn recording_server() -> (
    u16,
    Reports,
    tokio::sync::mpsc::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (listener, port) = listen().await;
    let (reports, reported) = tokio::sync::mpsc::unbounded_channel();
    let (ask, mut asked) = tokio::sync::mpsc::channel::<()>(1);
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        peer.startup().await;
        peer.login(Auth::Trust, PASSWORD).await;
        peer.start_streaming().await.unwrap();
        loop {
            tokio::select! {
                message = peer.message() => {
                    let Some(message) = message else { break };
                    let (tag, flush) = (message.tag, status_flush(&message));
                    reports.send((tag, flush)).unwrap();
                    if tag == b'c' {
                        peer.end_copy().await;
                    }
                }
                Some(()) = asked.recv() => {
                    peer.socket.write_all(&keepalive(0x500, true)).await.unwrap();
                }
            }
        }
    });
    (port, reported, ask, server)
}

async fn next_report(reported: &mut Reports) -> (u8, Option<u64>) {
    tokio::time::timeout(Duration::from_secs(5), reported.recv())
        .await
        .expect("a report within 5 s")
        .unwrap()
}

fn paced(status_interval: Duration) -> PgReplicationSource {
    PgReplicationSource::new(PgSourceSettings {
        status_interval,
        idle_status_interval: status_interval * 10,
        ..PgSourceSettings::new()
    })
}

#[tokio::test]
async fn a_moved_position_is_reported_within_the_status_interval_and_never_backwards() {
    let (port, mut reported, _ask, server) = recording_server().await;
    let mut stream = paced(Duration::from_millis(200))
        .stream(&source(port, None, SslMode::Disable), SLOT, Lsn::new(0x100))
        .await
        .unwrap();
    // At once: the starting position, which the caller holds as durable.
    assert_eq!(next_report(&mut reported).await, (b'd', Some(0x100)));
    stream.confirm(Lsn::new(0x200));
    stream.confirm(Lsn::new(0x180));
    assert_eq!(next_report(&mut reported).await, (b'd', Some(0x200)));
    drop(stream);
    server.await.unwrap();
}

#[tokio::test]
async fn a_keepalive_asking_for_an_answer_gets_one_at_once_and_close_says_goodbye() {
    let (port, mut reported, ask, server) = recording_server().await;
    // No report on the clock during this test: whatever comes is the client's answer.
    let mut stream = paced(Duration::from_secs(3600))
        .stream(&source(port, None, SslMode::Disable), SLOT, Lsn::new(0x100))
        .await
        .unwrap();
    assert_eq!(next_report(&mut reported).await, (b'd', Some(0x100)));
    stream.confirm(Lsn::new(0x300));
    ask.send(()).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        event,
        StreamEvent::Keepalive {
            wal_end: Lsn::new(0x500)
        }
    );
    assert_eq!(next_report(&mut reported).await, (b'd', Some(0x300)));
    stream.confirm(Lsn::new(0x400));
    stream.close().await;
    // Close: the last position, CopyDone, then (after the server's end) Terminate.
    let mut tail = Vec::new();
    while let Some(report) = reported.recv().await {
        tail.push(report);
    }
    assert_eq!(tail, vec![(b'd', Some(0x400)), (b'c', None), (b'X', None)]);
    server.await.unwrap();
}

#[tokio::test]
async fn a_server_error_ends_the_stream_with_its_sqlstate() {
    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        peer.startup().await;
        peer.login(Auth::Trust, PASSWORD).await;
        peer.start_streaming().await.unwrap();
        peer.socket
            .write_all(&xlogdata(0x10, b"Zunknown"))
            .await
            .unwrap();
        peer.serve_until_closed().await;
    });
    let mut stream = adapter()
        .stream(&source(port, None, SslMode::Disable), SLOT, Lsn::ZERO)
        .await
        .unwrap();
    let error = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(error, ReplicationError::Protocol { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("rosetta_1_9"), "{error}");
    // Nothing follows a failure.
    let after = stream.next().await.unwrap_err();
    assert!(matches!(after, ReplicationError::Lost { .. }), "{after:?}");
    drop(stream);
    server.await.unwrap();

    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        let mut peer = Peer::accept(&listener).await;
        peer.startup().await;
        peer.login(Auth::Trust, PASSWORD).await;
        peer.start_streaming().await.unwrap();
        peer.error(
            "57P01",
            "terminating connection due to administrator command",
        )
        .await;
    });
    let mut stream = adapter()
        .stream(&source(port, None, SslMode::Disable), SLOT, Lsn::ZERO)
        .await
        .unwrap();
    let error = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&error, ReplicationError::Refused { code, .. } if code == "57P01"),
        "{error:?}"
    );
    assert!(error.is_transient());
    server.await.unwrap();
}

#[tokio::test]
async fn a_mute_server_times_out_as_a_connect_error() {
    let (listener, port) = listen().await;
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop(socket);
    });
    let quick = PgReplicationSource::new(PgSourceSettings {
        connect_timeout: Duration::from_millis(300),
        ..PgSourceSettings::new()
    });
    let error = quick
        .stream(&source(port, None, SslMode::Disable), SLOT, Lsn::ZERO)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(error, ReplicationError::Connect { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("no answer within"), "{error}");
    server.abort();
}
