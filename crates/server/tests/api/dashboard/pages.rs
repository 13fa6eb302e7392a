//! What the pages show: the overview's counts and attention list, empty states that say what
//! to do next, a source's WAL history and slots from real probes, a pipeline's tables, unknown
//! ids, and the weight of a first visit.

use std::time::Duration;

use diesel_async::RunQueryDsl;
use tokio::time::Instant;

use super::visitor::Visitor;
use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn an_empty_dashboard_says_what_to_do_next() {
    let app = spawn_app().await;
    let mut browser = Visitor::new(&app.address);
    let overview = browser.get("/").await.expect(200);
    overview
        .shows("Nothing here yet.")
        .shows("href=\"/sources/new\"")
        .shows("href=\"/pipelines/new\"");
    browser
        .get("/sources")
        .await
        .expect(200)
        .shows("No sources yet.")
        .shows("Add your first source");
    browser
        .get("/destinations")
        .await
        .expect(200)
        .shows("No destinations yet.");
    browser
        .get("/pipelines")
        .await
        .expect(200)
        .shows("No pipelines yet.")
        .shows("Create your first pipeline");
}

#[tokio::test]
async fn the_overview_counts_the_catalogue_and_lists_what_needs_attention() {
    let app = spawn_app().await;
    let running = app.create_pipeline("running").await;
    let failing = app.create_pipeline("failing").await;
    let paused = app.create_pipeline("paused").await;
    app.post_empty(&format!("/api/v1/pipelines/{}/pause", paused["id"]))
        .await
        .expect(200);
    // The data plane's record of a failure, as the replicator writes it.
    let mut conn = app.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "UPDATE pipeline_metadata SET status = 'ERROR', last_error = 'destination refused the batch: disk full', \
         last_error_at = now() WHERE pipeline_id = {}",
        failing["id"]
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let _ = running;

    let mut browser = Visitor::new(&app.address);
    let overview = browser.get("/").await.expect(200);
    let figure =
        |n: usize, label: &str| format!("<div class=\"figure\">{n}</div><div>{label}</div>");
    overview
        .shows(&figure(3, "sources"))
        .shows(&figure(3, "destinations"))
        .shows(&figure(3, "pipelines"))
        .shows("<span class=\"badge error\">error</span> 1")
        .shows("<span class=\"badge paused\">paused</span> 1")
        .shows("<span class=\"badge starting\">starting</span> 1")
        // Sources never probed: a warning each.
        .shows("<span class=\"badge warning\">warning</span> 3")
        .shows(&format!(
            "href=\"/pipelines/{}\">failing</a>: destination refused the batch: disk full",
            failing["id"]
        ))
        .shows("the source has not been probed yet")
        // The figures refresh themselves.
        .shows("hx-trigger=\"every 5s\"")
        .shows("hx-select=\"#overview-figures\"");
    // The live refresh is the same page, taken by htmx.
    browser
        .poll("/")
        .await
        .expect(200)
        .shows("id=\"overview-figures\"");
}

#[tokio::test]
async fn unknown_ids_are_html_404_pages() {
    let app = spawn_app().await;
    let mut browser = Visitor::new(&app.address);
    for path in [
        "/sources/424242",
        "/destinations/424242/edit",
        "/pipelines/424242",
        "/pipelines/abc",
        "/sources/-1",
    ] {
        let page = browser.get(path).await.expect(404);
        page.shows("No such").shows("href=\"/\"");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
    }
    // Outside the dashboard's routes, a 404 is still the API's JSON.
    app.get("/nothing-here")
        .await
        .expect_error(404, "RouteNotFoundError");
}

/// Polls the page until it shows `text`, failing after 30 s with the last page.
async fn eventually_shows(browser: &mut Visitor, path: &str, text: &str) -> super::visitor::Page {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = browser.get(path).await.expect(200);
        if page.html.contains(text) {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "{text:?} never shown on {path}: {}",
            page.html
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_source_page_shows_the_verdict_the_slots_and_the_wal_history_from_real_probes() {
    let app = spawn_app_with(&[
        ("WAL_MONITOR_ENABLED", "true"),
        ("WAL_MONITOR_INTERVAL_SECONDS", "1"),
        ("WAL_MONITOR_TIMEOUT_SECONDS", "5"),
    ])
    .await;
    // A slot on the server that no pipeline owns.
    let slot = format!("rosetta_dash_{}", std::process::id());
    let mut conn = app.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "SELECT pg_create_physical_replication_slot('{slot}', false)"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let source = app
        .post(
            "/api/v1/sources",
            &serde_json::json!({
                "name": "local", "pg_host": "127.0.0.1", "pg_port": 5432,
                "pg_database": app.db.name(), "pg_username": "postgres",
                "publication_name": "none_yet", "replication_id": 7, "ssl_mode": "disable"
            }),
        )
        .await
        .expect(201)
        .json();
    let id = source["id"].as_i64().unwrap();
    let mut browser = Visitor::new(&app.address);
    let path = format!("/sources/{id}");
    let page = eventually_shows(&mut browser, &path, &format!("<code>{slot}</code>")).await;
    page.shows("WAL verdict:")
        .shows("Last probe")
        .shows("none (not Rosetta's, or left by a deleted pipeline)")
        .shows("slots used");
    // Two probes make a history: the chart's data is embedded for the page's script.
    let page = eventually_shows(&mut browser, &path, "data-chart=\"wal-chart\"").await;
    page.shows("\"label\":\"WAL written\"")
        .shows("\"unit\":\"bytes\"")
        .shows("WAL written per 1m, last 1 hour");
    let day = browser.get(&format!("{path}?range=24h")).await.expect(200);
    day.shows("WAL written per 5m, last 24 hours")
        .shows("aria-current=\"true\">24 hours");
    browser
        .get(&format!("{path}?range=7d"))
        .await
        .expect(200)
        .shows("per 1h, last 7 days");
    // The uPlot script is loaded on chart pages only.
    assert!(page.html.contains("/assets/uplot-1.6.32/uPlot.iife.min.js"));
    assert!(!browser.get("/pipelines").await.html.contains("uPlot"));
    diesel::sql_query(format!("SELECT pg_drop_replication_slot('{slot}')"))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_pipeline_page_charts_its_lag_and_throughput_from_its_samples() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("charted").await;
    let id = pipeline["id"].as_i64().unwrap();
    let mut browser = Visitor::new(&app.address);
    let path = format!("/pipelines/{id}");
    browser
        .get(&path)
        .await
        .expect(200)
        .shows("Lag and throughput per 1m, last 1 hour")
        .shows("No samples in this range yet")
        .hides("data-chart=");

    // The samples a run leaves: 600 changes a minute, then 1,200, with the lag falling.
    let mut conn = app.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "INSERT INTO pipeline_samples (pipeline_id, sampled_at, lag_bytes, lag_seconds,
             rows_copied, changes_applied)
         SELECT {id}, date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01') - m * interval '1 minute',
                lag, 0.5, 0, changes
         FROM (VALUES (3, 3145728, 0), (2, 2097152, 600), (1, 1024, 1800)) AS s(m, lag, changes)"
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let page = browser.get(&path).await.expect(200);
    page.shows("data-chart=\"lag-chart\"")
        .shows("data-chart=\"throughput-chart\"")
        .shows(r#"{"label":"Largest lag","unit":"bytes","values":[3145728,2097152,1024]}"#)
        .shows(r#"{"label":"Changes applied","unit":"per_second","values":[0.0,10.0,20.0]}"#)
        .shows("3 bucket(s) of 1m.")
        .shows("/assets/uplot-1.6.32/uPlot.iife.min.js");
    browser
        .get(&format!("{path}?range=7d"))
        .await
        .expect(200)
        .shows("Lag and throughput per 1h, last 7 days")
        .shows("aria-current=\"true\">7 days");
    // The live figures keep the range they were asked with.
    page.shows(&format!("hx-get=\"/pipelines/{id}?range=1h\""));
}

#[tokio::test]
async fn a_first_visit_transfers_under_300_kb_compressed() {
    let app = spawn_app().await;
    app.create_pipeline("weighed").await;
    let client = reqwest::Client::new();
    let mut total = 0_usize;
    for page in ["/", "/pipelines", "/sources/1"] {
        let html = client
            .get(format!("{}{page}", app.address))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(html.headers()["content-encoding"], "gzip", "{page}");
        let html_bytes = html.bytes().await.unwrap().len();
        // What the page loads, read from its uncompressed form.
        let text = client
            .get(format!("{}{page}", app.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut assets: Vec<&str> = text
            .split("src=\"")
            .skip(1)
            .chain(text.split("href=\"").skip(1))
            .filter_map(|rest| rest.split('"').next())
            .filter(|link| link.starts_with("/assets/"))
            .collect();
        assets.sort_unstable();
        assets.dedup();
        assert!(assets.len() >= 3, "{page}: {assets:?}");
        let mut page_total = html_bytes;
        for asset in &assets {
            let response = client
                .get(format!("{}{asset}", app.address))
                .header("accept-encoding", "gzip")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            assert!(
                response.headers()["cache-control"]
                    .to_str()
                    .unwrap()
                    .contains("immutable"),
                "{asset}"
            );
            page_total += response.bytes().await.unwrap().len();
        }
        assert!(page_total < 300 * 1024, "{page}: {page_total} bytes");
        total = total.max(page_total);
    }
    println!("heaviest first load: {total} bytes");
}
