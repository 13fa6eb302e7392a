//! `rosetta serve` as a process: secrets stay out of its logs even at the most verbose level,
//! requests are logged, SIGTERM lets an in-flight request finish before it exits, and logs
//! written to a pipe carry no colour codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rosetta_test_support::TestDb;
use serde_json::json;

const PASSWORD: &str = "pw-in-logs-7d1e0b";
const PASSPHRASE: &str = "pp-in-logs-55c2aa";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(db: &TestDb, port: u16, log_format: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rosetta"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("HTTP_WORKERS", "1")
        .env("LOG_LEVEL", "trace")
        .env("LOG_FORMAT", log_format)
        .env_remove("NO_COLOR")
        // A configured key: without one, serve would write a key file in the working directory.
        .env(
            "ROSETTA_ENCRYPTION_KEYS",
            "1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// One HTTP/1.1 exchange on a fresh connection.
fn request(port: u16, method: &str, path: &str, body: Option<&str>) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn wait_until_serving(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "rosetta serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads the server's logs as they come, so that a full pipe never blocks it; the thread
/// returns them all once the server has exited.
fn drain_logs(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut logs = String::new();
        stderr.read_to_string(&mut logs).unwrap();
        logs
    })
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn secrets_stay_out_of_the_logs_and_sigterm_lets_requests_finish() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut child = start(&db, port, "json");
    let logs = drain_logs(&mut child);
    wait_until_serving(port);

    let source = json!({
        "name": "orders", "pg_host": "h", "pg_database": "d", "pg_username": "u",
        "pg_password": PASSWORD, "publication_name": "p", "replication_id": 1
    });
    let created = request(port, "POST", "/api/v1/sources", Some(&source.to_string()));
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let destination = json!({
        "name": "sf", "type": "SNOWFLAKE",
        "config": {"account": "a", "user": "u", "database": "d", "schema": "s",
                   "private_key_passphrase": PASSPHRASE}
    });
    let created = request(
        port,
        "POST",
        "/api/v1/destinations",
        Some(&destination.to_string()),
    );
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    // A refused password is not echoed either.
    let refused = json!({"name": "x y", "pg_password": format!("{PASSWORD}{}", "z".repeat(300))});
    let answer = request(port, "POST", "/api/v1/sources", Some(&refused.to_string()));
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    assert!(!answer.contains(PASSWORD), "{answer}");
    request(
        port,
        "PUT",
        "/api/v1/sources/1",
        Some(&json!({"pg_password": PASSWORD}).to_string()),
    );
    // The data plane takes the pipeline up and fails on its source (there is no host `h`):
    // its errors and logs, at trace level, hold no secret either.
    let pipeline = json!({"name": "p", "source_id": 1, "destination_id": 1});
    let created = request(
        port,
        "POST",
        "/api/v1/pipelines",
        Some(&pipeline.to_string()),
    );
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = request(port, "GET", "/api/v1/pipelines/1", None);
        if got.contains("\"status\":\"ERROR\"") {
            assert!(
                !got.contains(PASSWORD) && !got.contains(PASSPHRASE),
                "{got}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the pipeline never ran: {got}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // An in-flight request: headers and half the body, then SIGTERM, then the rest.
    let body = json!({
        "name": "late", "pg_host": "h", "pg_database": "d", "pg_username": "u",
        "publication_name": "p", "replication_id": 2
    })
    .to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /api/v1/sources HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut late = String::new();
    stream.read_to_string(&mut late).unwrap();
    assert!(
        late.starts_with("HTTP/1.1 201"),
        "the in-flight request did not finish: {late}"
    );

    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let logs = logs.join().unwrap();
    for secret in [PASSWORD, PASSPHRASE] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    let request_line = logs
        .lines()
        .find(|l| l.contains("request served") && l.contains("/api/v1/sources"))
        .unwrap_or_else(|| panic!("no request log line in:\n{logs}"));
    let line: serde_json::Value = serde_json::from_str(request_line).unwrap();
    assert_eq!(line["status"], 201);
    assert!(line["latency_ms"].is_number(), "{line}");
    assert!(
        line["span"]["request_id"].is_string() || request_line.contains("request_id"),
        "{line}"
    );
    assert!(logs.contains("stopped"), "no clean stop in the logs");
}

#[tokio::test]
async fn text_logs_written_to_a_pipe_carry_no_colour_codes() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut child = start(&db, port, "text");
    let logs = drain_logs(&mut child);
    wait_until_serving(port);
    let health = request(port, "GET", "/health", None);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    terminate(&child);
    assert!(child.wait().unwrap().success());

    let logs = logs.join().unwrap();
    assert!(logs.contains("serving the API"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "escape codes in piped logs:\n{logs}"
    );
}
