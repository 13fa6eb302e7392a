//! The OpenAPI document: every route of the contract is served and documented, the document
//! renders in the three UIs, and `rosetta openapi` prints the same document.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

/// Every route of CONTRACT.md, and the extensions.
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
    // Extensions.
    ("GET", "/api/v1/sources/{id}/wal"),
    ("POST", "/api/v1/sources/{id}/check"),
    ("POST", "/api/v1/destinations/{id}/check"),
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

/// The `src` and `href` values of a page.
fn links(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = page;
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            let end = rest.find('"').unwrap();
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

#[tokio::test]
async fn the_document_renders_in_swagger_ui_redoc_and_rapidoc_from_embedded_code_only() {
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
        // Nothing from elsewhere: every script and style is served here, and the policy lets
        // the page load nothing else.
        let policy = reply.headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self'"), "{path}: {policy}");
        assert!(
            !reply.text.contains("http://") && !reply.text.contains("https://"),
            "{path}"
        );
        let links = links(&reply.text);
        assert!(!links.is_empty(), "{path} loads no script");
        for link in links {
            assert!(link.starts_with("/assets/"), "{path} loads {link}");
            let asset = app.get(&link).await.expect(200);
            let kind = asset.headers["content-type"].to_str().unwrap();
            assert!(
                kind.starts_with("text/javascript") || kind.starts_with("text/css"),
                "{link}: {kind}"
            );
            assert!(asset.text.len() > 100, "{link} is empty");
            let cache = asset.headers["cache-control"].to_str().unwrap();
            assert!(cache.contains("immutable"), "{link}: {cache}");
        }
    }
    app.get("/assets/swagger-ui-dist-0.0.0/nothing.js")
        .await
        .expect_error(404, "RouteNotFoundError");
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

#[tokio::test]
async fn the_wal_and_check_routes_document_their_bodies_and_enums() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.expect(200).json();
    let routes = [
        (
            "/api/v1/sources/{id}/wal",
            "get",
            "get_source_wal",
            "SourceWalResponse",
        ),
        (
            "/api/v1/sources/{id}/check",
            "post",
            "check_source",
            "SourceCheckResponse",
        ),
    ];
    for (path, method, operation_id, body) in routes {
        let operation = &document["paths"][path][method];
        assert_eq!(operation["operationId"], operation_id, "{path}");
        assert_eq!(operation["tags"], serde_json::json!(["sources"]), "{path}");
        assert_eq!(
            operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{body}"),
            "{path}"
        );
        for status in ["404", "422", "500", "503"] {
            assert_eq!(
                error_ref(operation, status).as_deref(),
                Some("#/components/schemas/ErrorBody"),
                "{path} does not document {status}"
            );
        }
        let schema = &document["components"]["schemas"][body];
        assert!(schema["example"].is_object(), "{body} has no example");
        for field in ["source_id", "reading", "slots"] {
            assert!(
                schema["properties"][field].is_object(),
                "{body} lacks {field}"
            );
        }
    }
    let description = document["paths"]["/api/v1/sources/{id}/check"]["post"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.contains("200") && description.contains("reachable"),
        "{description}"
    );
    // Enums are plain lists of strings, not `oneOf`s of documented variants.
    let schemas = &document["components"]["schemas"];
    let enum_of = |name: &str| -> Vec<String> {
        schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not a plain enum: {}", schemas[name]))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(enum_of("SeverityName"), ["ok", "warning", "critical"]);
    assert_eq!(enum_of("SlotTypeName"), ["physical", "logical"]);
    assert_eq!(
        enum_of("ReasonCodeName"),
        [
            "not_probed_yet",
            "probe_failing",
            "slot_inactive_retaining",
            "retained_above_warning",
            "retained_above_critical",
            "wal_unreserved",
            "wal_lost",
            "safe_wal_size_low"
        ]
    );
    assert_eq!(
        enum_of("SslModeName"),
        ["disable", "prefer", "require", "verify-full"]
    );
}
