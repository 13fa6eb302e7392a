//! Every error answers the contract's JSON shape: malformed requests, unknown routes, wrong
//! methods, oversized bodies, and a metadata database that goes away and comes back.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::proxy::Proxy;

#[tokio::test]
async fn malformed_json_is_a_422_located_at_the_body() {
    let app = spawn_app().await;
    let reply = app
        .send_raw(
            Method::POST,
            "/api/v1/sources",
            "application/json",
            "{\"name\": \"x\",",
        )
        .await;
    let body = reply.expect_error(422, "ValidationError");
    assert_eq!(body["message"], "Request validation failed");
    assert_eq!(failing_locations(&body), ["body"]);
    assert_eq!(body["details"][0]["type"], "json_invalid");
}

#[tokio::test]
async fn a_wrong_content_type_an_empty_body_or_a_non_object_is_a_422() {
    let app = spawn_app().await;
    let cases = [
        ("text/plain", "{\"name\": \"x\"}", "content_type"),
        (
            "application/x-www-form-urlencoded",
            "name=x",
            "content_type",
        ),
        ("application/json", "", "missing"),
        ("application/json", "[1, 2]", "model_attributes_type"),
        ("application/json", "\"text\"", "model_attributes_type"),
    ];
    for (content_type, body, kind) in cases {
        let reply = app
            .send_raw(Method::POST, "/api/v1/sources", content_type, body)
            .await;
        let error = reply.expect_error(422, "ValidationError");
        assert_eq!(error["details"][0]["type"], kind, "{content_type} {body:?}");
    }
}

#[tokio::test]
async fn an_oversized_body_is_a_413_in_json() {
    let app = spawn_app().await;
    let huge = json!({"name": "x".repeat(200_000)}).to_string();
    let reply = app
        .send_raw(Method::POST, "/api/v1/sources", "application/json", &huge)
        .await;
    reply.expect_error(413, "PayloadTooLargeError");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_json() {
    let app = spawn_app().await;
    for path in [
        "/nope",
        "/api/v1/nothing",
        "/api/v2/sources",
        "/api/v1/sources/1/extra",
    ] {
        let body = app.get(path).await.expect_error(404, "RouteNotFoundError");
        assert_eq!(body["details"], json!({}), "{path}");
    }
    for (method, path) in [
        (Method::PATCH, "/api/v1/sources"),
        (Method::DELETE, "/api/v1/sources"),
        (Method::POST, "/api/v1/sources/1"),
        (Method::PUT, "/health"),
    ] {
        app.send(method.clone(), path, None)
            .await
            .expect_error(405, "MethodNotAllowedError");
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_clients() {
    let app = spawn_app().await;
    let reply = app.get("/health/live").await.expect(200);
    let generated = reply
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!generated.is_empty());
    let response = app
        .client
        .get(format!("{}/api/v1/sources/999", app.address))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_lost_database_answers_503_and_the_service_recovers_by_itself() {
    let proxy = Proxy::start("127.0.0.1:5432").await;
    let db = rosetta_test_support::TestDb::new().await;
    let url = db
        .url()
        .replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port), 1);
    let app = spawn_app_with(&[("DATABASE_URL", &url), ("DB_POOL_TIMEOUT", "2")]).await;
    app.create_source("before").await;
    app.get("/health").await.expect(200);

    proxy.cut();
    let body = app
        .get("/api/v1/sources")
        .await
        .expect_error(503, "DatabaseConnectionError");
    assert_eq!(body["details"], json!({}));
    app.post("/api/v1/sources", &source_body("during"))
        .await
        .expect_error(503, "DatabaseConnectionError");
    let health = app.get("/health").await.expect(503).json();
    assert_eq!(health["status"], "unhealthy");
    assert_eq!(health["checks"]["database"], false);

    proxy.restore();
    let listed = app.get("/api/v1/sources").await.expect(200).json();
    let names: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("before")],
        "nothing was lost and nothing half-written"
    );
    assert_eq!(
        app.get("/health").await.expect(200).json()["status"],
        "healthy"
    );
    drop(db);
}

#[tokio::test]
async fn an_internal_error_is_a_500_that_leaks_nothing() {
    let app = spawn_app().await;
    let created = app.create_destination("dw").await;
    // A row no valid request could have written: its config no longer parses.
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    conn.batch_execute(&format!(
        "UPDATE destinations SET config = '{{\"password\": \"{DESTINATION_PASSWORD}\"}}' WHERE id = {}",
        created["id"]
    ))
    .await
    .unwrap();
    let reply = app
        .get(&format!("/api/v1/destinations/{}", created["id"]))
        .await;
    let body = reply.expect_error(500, "InternalServerError");
    assert_eq!(body["message"], "An internal error occurred");
    assert_eq!(body["details"], json!({}));
    let text = body.to_string().to_lowercase();
    for leak in [
        "select",
        "destinations",
        "config",
        "serde",
        "panicked",
        DESTINATION_PASSWORD,
    ] {
        assert!(
            !text.contains(&leak.to_lowercase()),
            "{leak} leaked: {text}"
        );
    }
}
