//! API keys: with `API_KEYS`, every `/api/v1` route of the document needs one of them as a
//! bearer key; health, documentation and (unless asked otherwise) `/metrics` stay open; the
//! document declares the scheme; and no key reaches the logs.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use rosetta_test_support::TestDb;
use serde_json::{json, Value};

use crate::helpers::*;

const KEY_OLD: &str = "old-key-3f9a1c0d7e5b";
const KEY_NEW: &str = "new-key-a81b44e2c9d0";
const WRONG_KEY: &str = "not-a-key-55e1b2c3d4";

fn keys() -> String {
    format!("{KEY_OLD},{KEY_NEW}")
}

/// Every operation of the document under `/api/v1` except `/api/v1/health`, with `{id}`
/// replaced by an id.
fn protected_operations(document: &Value) -> Vec<(Method, String, String)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") || path == "/api/v1/health" {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            operations.push((method, path.clone(), path.replace("{id}", "1")));
        }
    }
    operations
}

/// Asserts a `401` in the contract's shape with its challenge.
fn assert_refused(reply: Reply, challenge: &str, what: &str) {
    let header = reply
        .headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header.as_deref(), Some(challenge), "{what}");
    let body = reply.expect_error(401, "AuthenticationError");
    assert_eq!(
        body,
        json!({"error": "AuthenticationError", "message": "Missing or invalid API key", "details": {}}),
        "{what}"
    );
}

#[tokio::test]
async fn every_api_v1_operation_refuses_a_missing_or_wrong_key_and_takes_either_key() {
    let app = spawn_app_with(&[("API_KEYS", &keys())]).await;
    let document = app.get("/openapi.json").await.expect(200).json();
    let operations = protected_operations(&document);
    assert!(operations.len() >= 21, "{operations:?}");
    for (method, path, concrete) in operations {
        let what = format!("{method} {path}");
        let missing = app.send_with_key(method.clone(), &concrete, None).await;
        assert_refused(missing, r#"Bearer realm="rosetta""#, &what);
        let wrong = app
            .send_with_key(method.clone(), &concrete, Some(WRONG_KEY))
            .await;
        assert_refused(
            wrong,
            r#"Bearer realm="rosetta", error="invalid_token""#,
            &what,
        );
        // Both keys work during a rotation.
        for key in [KEY_OLD, KEY_NEW] {
            let reply = app
                .send_with_key(method.clone(), &concrete, Some(key))
                .await;
            assert_ne!(reply.status.as_u16(), 401, "{what}: {}", reply.text);
        }
    }
}

#[tokio::test]
async fn a_key_is_checked_before_the_route_so_unknown_routes_reveal_nothing() {
    let app = spawn_app_with(&[("API_KEYS", &keys())]).await;
    let reply = app
        .send_with_key(Method::GET, "/api/v1/no-such-route", None)
        .await;
    assert_refused(reply, r#"Bearer realm="rosetta""#, "unknown route");
    app.send_with_key(Method::GET, "/api/v1/no-such-route", Some(KEY_NEW))
        .await
        .expect_error(404, "RouteNotFoundError");
}

#[tokio::test]
async fn health_documentation_and_metrics_stay_open_with_keys() {
    let app = spawn_app_with(&[("API_KEYS", &keys())]).await;
    for path in [
        "/health",
        "/health/live",
        "/api/v1/health",
        "/openapi.json",
        "/docs",
        "/redoc",
        "/metrics",
    ] {
        app.send_with_key(Method::GET, path, None).await.expect(200);
    }
}

#[tokio::test]
async fn metrics_need_a_key_when_metrics_require_auth_is_set() {
    let app = spawn_app_with(&[("API_KEYS", &keys()), ("METRICS_REQUIRE_AUTH", "true")]).await;
    let missing = app.send_with_key(Method::GET, "/metrics", None).await;
    assert_refused(missing, r#"Bearer realm="rosetta""#, "/metrics");
    let wrong = app
        .send_with_key(Method::GET, "/metrics", Some(WRONG_KEY))
        .await;
    assert_refused(
        wrong,
        r#"Bearer realm="rosetta", error="invalid_token""#,
        "/metrics",
    );
    let reply = app
        .send_with_key(Method::GET, "/metrics", Some(KEY_OLD))
        .await
        .expect(200);
    assert!(reply.text.contains("# TYPE"), "{}", reply.text);
    // Health stays open all the same.
    app.send_with_key(Method::GET, "/api/v1/health", None)
        .await
        .expect(200);
}

#[tokio::test]
async fn without_api_keys_everything_is_open() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/sources",
        "/api/v1/pipelines",
        "/metrics",
        "/health",
    ] {
        app.send_with_key(Method::GET, path, None).await.expect(200);
        // A key the server does not know is no reason to refuse an open API.
        app.send_with_key(Method::GET, path, Some(WRONG_KEY))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn the_document_declares_the_bearer_scheme_on_api_v1_operations_only() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.expect(200).json();
    let scheme = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    for (method, path, _) in protected_operations(&document) {
        let operation = &document["paths"][&path][method.as_str().to_ascii_lowercase()];
        assert_eq!(
            operation["security"],
            json!([{"bearer": []}]),
            "{method} {path}"
        );
        let refused = &operation["responses"]["401"];
        assert_eq!(
            refused["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{method} {path}"
        );
        assert!(
            refused["headers"]["WWW-Authenticate"].is_object(),
            "{method} {path}: {refused}"
        );
    }
    for path in ["/health", "/health/live", "/api/v1/health"] {
        let operation = &document["paths"][path]["get"];
        assert!(operation.is_object(), "{path}");
        assert!(operation["security"].is_null(), "{path}: {operation}");
        assert!(operation["responses"]["401"].is_null(), "{path}");
    }
    assert!(
        document["security"].is_null(),
        "no document-wide requirement"
    );
}

#[tokio::test]
async fn api_keys_never_reach_the_logs() {
    let db = TestDb::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rosetta"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("HTTP_WORKERS", "1")
        .env("WAL_MONITOR_ENABLED", "false")
        .env("LOG_LEVEL", "trace")
        .env("LOG_FORMAT", "json")
        .env("ROSETTA_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEYS)
        .env("API_KEYS", keys())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drained as they come, so that a full pipe never blocks the server.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).unwrap();
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{base}/health/live"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "rosetta serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for key in [Some(KEY_OLD), Some(WRONG_KEY), None] {
        let mut request = client.get(format!("{base}/api/v1/sources"));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let status = request.send().await.unwrap().status().as_u16();
        assert_eq!(status, if key == Some(KEY_OLD) { 200 } else { 401 });
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let logs = stdout.join().unwrap() + &stderr.join().unwrap();
    assert!(
        logs.contains("/api/v1/sources"),
        "the logs were not captured: {logs}"
    );
    for key in [KEY_OLD, KEY_NEW, WRONG_KEY] {
        assert!(!logs.contains(key), "a key reached the logs");
    }
}
