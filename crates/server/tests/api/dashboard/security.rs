//! Sign-in with an API key, the session cookie, sign-out, forms from other sites refused, and
//! the headers every page carries.

use super::visitor::Visitor;
use crate::helpers::{spawn_app, spawn_app_with};

const KEY: &str = "dashboard-key-0123456789abcdef";
const OTHER_KEY: &str = "other-key-0123456789abcdef";

#[tokio::test]
async fn with_api_keys_the_dashboard_asks_for_one_and_keeps_a_session_until_sign_out() {
    let keys = format!("{KEY},{OTHER_KEY}");
    let app = spawn_app_with(&[("API_KEYS", keys.as_str())]).await;
    let mut browser = Visitor::new(&app.address);

    // Every page leads to the sign-in form, which comes back to it.
    let redirected = browser.get("/pipelines?x=1").await.expect(303);
    assert_eq!(redirected.location(), "/sign-in?next=/pipelines%3Fx%3D1");
    let form = browser.get(redirected.location()).await.expect(200);
    form.shows("Sign in")
        .shows("type=\"password\"")
        .shows("name=\"next\" value=\"/pipelines?x=1\"");
    // htmx's live refresh gets a 401 that reloads the page to the sign-in form.
    let poll = browser.poll("/").await.expect(401);
    assert_eq!(poll.headers["hx-redirect"], "/sign-in?next=/");

    // A wrong key: a clear message, no session.
    let wrong = browser
        .post(
            "/sign-in",
            &[("key", "not-the-key"), ("next", "/pipelines")],
        )
        .await
        .expect(401);
    assert_eq!(
        wrong.field_error("key").as_deref(),
        Some("That is not one of this server's API keys. Check it and try again.")
    );
    wrong.hides("not-the-key");
    assert!(browser.cookie("rosetta_session").is_none());
    let empty = browser
        .post("/sign-in", &[("key", ""), ("next", "/")])
        .await
        .expect(401);
    assert_eq!(
        empty.field_error("key").as_deref(),
        Some("Enter an API key.")
    );

    // The right key: an HttpOnly, SameSite=Strict session with an expiry, back where we were.
    let csrf_before = browser.cookie("rosetta_csrf").unwrap().to_owned();
    let signed_in = browser
        .post("/sign-in", &[("key", OTHER_KEY), ("next", "/pipelines")])
        .await
        .expect(303);
    assert_eq!(signed_in.location(), "/pipelines");
    let session = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("rosetta_session="))
        .unwrap()
        .clone();
    for attribute in ["HttpOnly", "SameSite=Strict", "Max-Age=43200", "Path=/"] {
        assert!(
            session.contains(attribute),
            "{attribute} missing: {session}"
        );
    }
    assert!(!session.contains(OTHER_KEY), "{session}");
    assert_ne!(
        browser.cookie("rosetta_csrf").unwrap(),
        csrf_before,
        "a new token for a new session"
    );
    let page = browser.get("/pipelines").await.expect(200);
    page.shows("Sign out").hides(OTHER_KEY);

    // The session opens the dashboard only: the API still wants its bearer key.
    let api = app.get("/api/v1/sources").await;
    assert_eq!(api.status.as_u16(), 401);

    // An altered session is refused.
    let token = browser.cookie("rosetta_session").unwrap().to_owned();
    let last = if token.ends_with('0') { "1" } else { "0" };
    let altered = format!("{}{last}", &token[..token.len() - 1]);
    let mut forger = Visitor::new(&app.address);
    forger.set_cookie("rosetta_session", &altered);
    assert_eq!(forger.get("/").await.status.as_u16(), 303);
    forger.set_cookie("rosetta_session", &token);
    assert_eq!(forger.get("/").await.status.as_u16(), 200);

    // Sign-out ends it.
    let out = browser.post("/sign-out", &[]).await.expect(303);
    assert_eq!(out.location(), "/sign-in");
    assert!(browser.cookie("rosetta_session").is_none());
    assert_eq!(browser.get("/").await.status.as_u16(), 303);
}

#[tokio::test]
async fn without_api_keys_the_dashboard_is_open_and_the_sign_in_page_goes_home() {
    let app = spawn_app().await;
    let mut browser = Visitor::new(&app.address);
    let page = browser.get("/").await.expect(200);
    page.hides("Sign out");
    assert_eq!(
        browser
            .get("/sign-in?next=/pipelines")
            .await
            .expect(303)
            .location(),
        "/pipelines"
    );
}

#[tokio::test]
async fn forms_from_other_sites_or_without_the_token_are_refused() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("guarded").await;
    let id = pipeline["id"].as_i64().unwrap();
    let path = format!("/pipelines/{id}/pause");
    let mut browser = Visitor::new(&app.address);

    // No token cookie yet: refused.
    browser
        .post_raw(&path, &[("csrf", "00000000000000000000000000000000")], &[])
        .await
        .expect(403);
    browser.get("/pipelines").await.expect(200);
    let token = browser.cookie("rosetta_csrf").unwrap().to_owned();
    // The wrong token, or none.
    browser
        .post_raw(&path, &[("csrf", "0123456789abcdef0123456789abcdef")], &[])
        .await
        .expect(403);
    browser
        .post_raw(&path, &[], &[])
        .await
        .expect(403)
        .shows("came from another site or has expired");
    // The right token, but the browser says the form came from elsewhere.
    browser
        .post_raw(
            &path,
            &[("csrf", &token)],
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .await
        .expect(403);
    browser
        .post_raw(
            &path,
            &[("csrf", &token)],
            &[("Origin", "http://evil.example")],
        )
        .await
        .expect(403);
    assert_eq!(
        app.get(&format!("/api/v1/pipelines/{id}")).await.json()["status"],
        "START"
    );
    // From our own page: done.
    let origin = app.address.clone();
    browser
        .post_raw(
            &path,
            &[("csrf", &token)],
            &[("Origin", &origin), ("Sec-Fetch-Site", "same-origin")],
        )
        .await
        .expect(303);
    assert_eq!(
        app.get(&format!("/api/v1/pipelines/{id}")).await.json()["status"],
        "PAUSE"
    );
}

#[tokio::test]
async fn every_page_forbids_loading_anything_from_elsewhere_and_is_not_cached() {
    let app = spawn_app().await;
    let mut browser = Visitor::new(&app.address);
    for path in [
        "/",
        "/sources",
        "/sources/new",
        "/destinations/new?type=snowflake",
        "/pipelines/new",
        "/pipelines/99",
    ] {
        let page = browser.get(path).await;
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
        assert_eq!(page.headers["x-frame-options"], "DENY", "{path}");
        // Nothing in a page points outside this server.
        for scheme in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
            assert!(
                !page.html.contains(scheme),
                "{path} links elsewhere: {}",
                page.html
            );
        }
    }
    let cookie = browser
        .set_cookies
        .iter()
        .find(|c| c.starts_with("rosetta_csrf="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}
