//! Browser access is granted only to the origins in `CORS_ORIGINS`, and internal errors say
//! nothing about their cause.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, format!("{}/api/v1/sources", app.address))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_configured_origins_may_call_the_api_from_a_browser() {
    let app = spawn_app_with(&[(
        "CORS_ORIGINS",
        "https://dash.example.com, https://ops.example.com",
    )])
    .await;
    let allowed = preflight(&app, "https://dash.example.com").await;
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://dash.example.com"
    );
    let refused = preflight(&app, "https://evil.example.com").await;
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let response = app
        .client
        .get(format!("{}/api/v1/sources", app.address))
        .header("origin", "https://ops.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://ops.example.com"
    );
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "x-request-id"
    );
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
