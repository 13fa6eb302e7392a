//! The OpenAPI document: every route of the contract is served and documented, the document
//! renders in the three UIs, and `rosetta openapi` prints the same document.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

/// Every route of CONTRACT.md.
pub const CONTRACT_ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/api/v1/health"),
    ("GET", "/health/live"),
    ("POST", "/api/v1/sources"),
    ("GET", "/api/v1/sources"),
    ("GET", "/api/v1/sources/{id}"),
    ("PUT", "/api/v1/sources/{id}"),
    ("DELETE", "/api/v1/sources/{id}"),
    ("POST", "/api/v1/destinations"),
    ("GET", "/api/v1/destinations"),
    ("GET", "/api/v1/destinations/{id}"),
    ("PUT", "/api/v1/destinations/{id}"),
    ("DELETE", "/api/v1/destinations/{id}"),
    ("POST", "/api/v1/pipelines"),
    ("GET", "/api/v1/pipelines"),
    ("GET", "/api/v1/pipelines/{id}"),
    ("PUT", "/api/v1/pipelines/{id}"),
    ("DELETE", "/api/v1/pipelines/{id}"),
    ("POST", "/api/v1/pipelines/{id}/start"),
    ("POST", "/api/v1/pipelines/{id}/pause"),
    ("POST", "/api/v1/pipelines/{id}/refresh"),
    ("GET", "/api/v1/metrics/wal"),
];

#[tokio::test]
async fn every_served_route_is_in_the_document() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.expect(200).json();
    assert_eq!(document["openapi"], "3.0.3");
    let mut operation_ids = Vec::new();
    for (method, path) in CONTRACT_ROUTES {
        // Served: the router knows the route and the method.
        let concrete = path.replace("{id}", "987654");
        let reply = app
            .send(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &concrete,
                None,
            )
            .await;
        if reply.status.as_u16() >= 400 {
            let error = reply.json()["error"].clone();
            assert!(
                error != "RouteNotFoundError" && error != "MethodNotAllowedError",
                "{method} {path} is not served: {}",
                reply.text
            );
        }
        // Documented, with an id, a summary and its responses.
        let operation = &document["paths"][path][method.to_ascii_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {path} is missing from the document"
        );
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            !id.is_empty() && !id.contains('-'),
            "{method} {path}: operationId {id:?}"
        );
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}"
        );
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{method} {path}"
        );
        operation_ids.push(id);
    }
    let unique: std::collections::HashSet<_> = operation_ids.iter().collect();
    assert_eq!(
        unique.len(),
        operation_ids.len(),
        "operationIds repeat: {operation_ids:?}"
    );
}

fn error_ref(operation: &Value, status: &str) -> Option<String> {
    operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn errors_are_documented_with_the_contract_error_body() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.expect(200).json();
    let schema = &document["components"]["schemas"]["ErrorBody"];
    for field in ["error", "message", "details"] {
        assert!(
            schema["properties"][field].is_object(),
            "ErrorBody lacks {field}"
        );
    }
    for (method, path) in CONTRACT_ROUTES
        .iter()
        .filter(|(_, p)| p.starts_with("/api/v1/") && *p != "/api/v1/health")
    {
        let operation = &document["paths"][path][method.to_ascii_lowercase()];
        for status in ["422", "500", "503"] {
            assert_eq!(
                error_ref(operation, status).as_deref(),
                Some("#/components/schemas/ErrorBody"),
                "{method} {path} does not document {status}"
            );
        }
        if path.contains("{id}") {
            assert!(
                error_ref(operation, "404").is_some(),
                "{method} {path} does not document 404"
            );
        }
    }
}

#[tokio::test]
async fn the_document_renders_in_swagger_ui_redoc_and_rapidoc() {
    let app = spawn_app().await;
    for path in ["/docs", "/redoc", "/rapidoc"] {
        let reply = app.get(path).await.expect(200);
        let content_type = reply.headers["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert!(
            reply.text.contains("/openapi.json"),
            "{path} does not load the document"
        );
    }
}

#[tokio::test]
async fn rosetta_openapi_prints_the_served_document() {
    let app = spawn_app().await;
    let served = app.get("/openapi.json").await.expect(200).json();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rosetta"))
        .arg("openapi")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, served);
}
