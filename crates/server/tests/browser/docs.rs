//! The API documentation pages, offline: every operation listed, from embedded code only.

use crate::server::Serve;
use crate::webdriver::Browser;

#[tokio::test]
async fn the_api_docs_list_the_operations_with_no_internet() {
    let serve = Serve::start(&[
        ("WAL_MONITOR_ENABLED", "false"),
        ("REPLICATOR_ENABLED", "false"),
    ])
    .await;
    let browser = Browser::offline("docs", 1280, 900).await;

    // The browser really is offline: another host cannot be loaded.
    let elsewhere = browser
        .try_goto("https://unpkg.com/swagger-ui-dist@latest/")
        .await;
    assert!(
        elsewhere.is_err(),
        "an outside page loaded: the test browser is not offline"
    );

    browser.goto(&serve.url("/docs")).await;
    browser.wait_for(".opblock-summary-path").await;
    let paths = browser
        .run(
            "return [...document.querySelectorAll('.opblock-summary-path')].map(e => e.innerText)",
            serde_json::json!([]),
        )
        .await;
    let paths: Vec<String> = serde_json::from_value(paths).unwrap();
    for expected in [
        "/api/v1/sources",
        "/api/v1/pipelines/{id}/start",
        "/api/v1/metrics/wal",
    ] {
        assert!(
            paths.iter().any(|p| p.replace('\u{200b}', "") == expected),
            "{expected} not listed: {paths:?}"
        );
    }
    browser.screenshot("docs").await;

    browser.goto(&serve.url("/redoc")).await;
    browser.wait_text("/api/v1/pipelines/{id}/pause").await;
    browser.screenshot("redoc").await;

    browser.goto(&serve.url("/rapidoc")).await;
    browser
        .wait_until(
            "RapiDoc's operations",
            "const doc = document.querySelector('rapi-doc'); \
             return doc && doc.shadowRoot && doc.shadowRoot.innerHTML.includes('/api/v1/sources/{id}/check')",
        )
        .await;
    browser.screenshot("rapidoc").await;
}
