//! Browser access is granted only to the origins in `CORS_ORIGINS`.

use reqwest::Method;

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
