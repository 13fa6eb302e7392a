//! The dashboard as a person uses it: sign in (by keyboard), a refused form and its messages, a source, a
//! destination and a pipeline created through the pages and replicating for real, a pause seen
//! without reloading, the pipeline's lag and throughput charts and the source's WAL chart drawn
//! from real samples, the live-updates banner while the server is down and after it is back,
//! and the pages at a phone's width.

use serde_json::json;

use crate::harness::{converged, replication_id, Database};
use crate::server::Serve;
use crate::webdriver::{Browser, ENTER, TAB};

const KEY: &str = "browser-test-key-5d1c0a9e";

/// Marks the page so that a reload (which loses the mark) shows.
const MARK: &str = "window.__rosettaMark = 'still here'; return true";
const MARKED: &str = "return window.__rosettaMark === 'still here'";

#[tokio::test]
async fn a_person_signs_in_builds_a_pipeline_and_watches_it_live() {
    let source = Database::source().await;
    source
        .execute(
            "CREATE TABLE orders (id bigint PRIMARY KEY, item text NOT NULL); \
             INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 500) g; \
             CREATE PUBLICATION shop_pub FOR TABLE orders;",
        )
        .await;
    let destination = Database::destination().await;
    let mut serve = Serve::start(&[("API_KEYS", KEY)]).await;
    let browser = Browser::offline("dashboard", 1280, 900).await;

    // Sign in: a wrong key is refused with a clear message, the right one opens the overview.
    browser.goto(&serve.url("/")).await;
    browser.wait_for("input[name=key]").await;
    assert!(
        browser.url().await.contains("/sign-in?next=/"),
        "{}",
        browser.url().await
    );
    browser.screenshot("sign-in").await;
    browser.fill("#f-key", "not-the-key").await;
    browser.click("form.stacked button[type=submit]").await;
    browser
        .wait_text("That is not one of this server's API keys.")
        .await;
    // The right key, with the keyboard only: typed, then Enter.
    browser.fill("#f-key", KEY).await;
    browser.press(ENTER).await;
    browser.wait_text("Nothing here yet.").await;
    browser.screenshot("overview-empty").await;
    // The first Tab reaches the "Skip to the content" link, and Enter follows it.
    browser.press(TAB).await;
    let focused = browser
        .run("return document.activeElement.textContent", json!([]))
        .await;
    assert_eq!(focused, json!("Skip to the content"));
    browser.press(ENTER).await;
    browser
        .wait_until("the skip link followed", "return location.hash === '#main'")
        .await;

    // A source with an invalid field: the API's message next to it.
    browser.click("a[href='/sources/new']").await;
    let all_labelled = browser
        .run(
            "return [...document.querySelectorAll('form.stacked input:not([type=hidden]), form.stacked select')]\
             .every(e => document.querySelector('label[for=\"' + e.id + '\"]') !== null)",
            json!([]),
        )
        .await;
    assert_eq!(all_labelled, json!(true), "a form control without a label");
    browser.fill("#f-name", "shop source").await;
    browser.fill("#f-pg_host", &source.host()).await;
    browser.fill("#f-pg_port", &source.port().to_string()).await;
    browser.fill("#f-pg_database", &source.name).await;
    browser.fill("#f-pg_username", &source.user()).await;
    browser.fill("#f-publication_name", "shop_pub").await;
    browser
        .fill("#f-replication_id", &replication_id().to_string())
        .await;
    browser.choose("#f-ssl_mode", "disable").await;
    browser.click("form.stacked button[type=submit]").await;
    let message = browser.text("#f-name-error").await;
    assert!(message.contains("letters, digits"), "{message}");
    browser.screenshot("source-form-error").await;
    // Fixed, it is created.
    browser.fill("#f-name", "shop").await;
    browser.click("form.stacked button[type=submit]").await;
    browser.wait_text("Source shop").await;

    // A PostgreSQL destination.
    browser
        .goto(&serve.url("/destinations/new?type=postgres"))
        .await;
    browser.fill("#f-name", "warehouse").await;
    browser.fill("#f-config-host", &destination.host()).await;
    browser
        .fill("#f-config-port", &destination.port().to_string())
        .await;
    browser.fill("#f-config-database", &destination.name).await;
    browser
        .fill("#f-config-username", &destination.user())
        .await;
    browser.click("form.stacked button[type=submit]").await;
    browser.wait_text("Destination warehouse").await;

    // The pipeline, and its page turning to streaming by itself.
    browser.goto(&serve.url("/pipelines/new")).await;
    browser.fill("#f-name", "orders-to-dw").await;
    let source_option = browser
        .run(
            "return document.querySelector('#f-source_id option:nth-child(2)').value",
            json!([]),
        )
        .await;
    let destination_option = browser
        .run(
            "return document.querySelector('#f-destination_id option:nth-child(2)').value",
            json!([]),
        )
        .await;
    browser
        .choose("#f-source_id", source_option.as_str().unwrap())
        .await;
    browser
        .choose("#f-destination_id", destination_option.as_str().unwrap())
        .await;
    browser.click("form.stacked button[type=submit]").await;
    browser.wait_text("Pipeline orders-to-dw").await;
    let pipeline_url = browser.url().await;
    let id = pipeline_url.rsplit('/').next().unwrap().to_owned();
    browser.run(MARK, json!([])).await;
    browser
        .wait_until(
            "the pipeline streaming",
            "return document.querySelector('#pipeline-status .badge.streaming') !== null",
        )
        .await;
    browser.wait_text("public.orders").await;
    assert_eq!(
        browser.run(MARKED, json!([])).await,
        json!(true),
        "the page reloaded"
    );
    // Times are shown in the viewer's zone by the page's script, no longer as UTC text.
    let shown = browser.text("#pipeline-status time").await;
    assert!(!shown.contains("UTC"), "{shown}");
    browser.screenshot("pipeline").await;
    assert_eq!(
        destination
            .count("SELECT count(*) AS value FROM public.orders")
            .await,
        500
    );

    // More orders: the pipeline's charts show the lag and the throughput its samples recorded
    // (one a second here).
    source
        .execute("INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(501, 1500) g")
        .await;
    converged(&source, &destination, "orders", "id").await;
    // The samples after the last batch come within a second or two: reload until they show.
    let mut tries = 0;
    loop {
        browser.goto(&pipeline_url).await;
        let applied = browser
            .run(
                "const data = document.getElementById('throughput-chart'); \
                 return data ? JSON.parse(data.textContent).series[0].values.some(v => v > 0) : false",
                json!([]),
            )
            .await;
        if applied == json!(true) {
            break;
        }
        tries += 1;
        assert!(tries < 20, "no throughput charted after 20 s");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    browser
        .wait_for("[data-chart=throughput-chart] .uplot canvas")
        .await;
    browser
        .wait_for("[data-chart=lag-chart] .uplot canvas")
        .await;
    browser
        .run(
            "document.getElementById('history-heading').scrollIntoView(); return true",
            json!([]),
        )
        .await;
    browser.screenshot("pipeline-charts").await;

    // The same pipeline from the command line, against this real `rosetta serve`: streaming,
    // with the 1,500 changes and rows it applied, and in the exported catalogue.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rosetta"))
            .args(args)
            .env("ROSETTA_URL", serve.url(""))
            .env("ROSETTA_API_KEY", KEY)
            .env_remove("ROSETTA_PROFILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rosetta {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let shown: serde_json::Value =
        serde_json::from_str(&cli(&["pipelines", "get", &id, "-o", "json"])).unwrap();
    assert_eq!(shown["pipeline_metadata"]["phase"], "streaming");
    assert_eq!(shown["pipeline_metadata"]["rows_copied"], 500);
    assert_eq!(shown["pipeline_metadata"]["changes_applied"], 1000);
    let exported = cli(&["export"]);
    assert!(
        exported.contains("- name: orders-to-dw\n  source: shop\n  destination: warehouse\n"),
        "{exported}"
    );

    // Pause from the list: the row changes in place, the page is not reloaded.
    browser.goto(&serve.url("/pipelines")).await;
    browser.run(MARK, json!([])).await;
    // With the keyboard: the button focused, then Enter.
    browser
        .run(
            &format!("document.getElementById('pause-{id}').focus(); return true"),
            json!([]),
        )
        .await;
    browser.press(ENTER).await;
    browser.wait_for(&format!("#start-{id}")).await;
    let row = browser.text(&format!("#pipeline-{id}")).await;
    assert!(row.contains("PAUSE"), "{row}");
    assert_eq!(
        browser.run(MARKED, json!([])).await,
        json!(true),
        "the page reloaded"
    );
    browser
        .wait_until(
            "the pipeline paused",
            &format!("return document.querySelector('#pipeline-{id} .badge.paused') !== null"),
        )
        .await;
    browser.screenshot("pipelines").await;

    // The WAL chart of the source, drawn by uPlot from the monitor's real samples.
    browser.goto(&serve.url("/sources")).await;
    browser
        .click("a[href^='/sources/']:not([href='/sources/new'])")
        .await;
    browser
        .wait_until(
            "the WAL chart",
            "return document.querySelector('.chart .uplot canvas') !== null",
        )
        .await;
    browser.wait_text("rosetta_").await;
    browser.screenshot("source").await;
    browser.goto(&serve.url("/")).await;
    browser.wait_text("Pipelines by phase").await;
    browser.screenshot("overview").await;

    // The server goes away: the page says so, and says when it is back.
    browser.goto(&serve.url("/pipelines")).await;
    browser.wait_for(&format!("#pipeline-{id}")).await;
    serve.kill();
    browser
        .wait_until(
            "the live-updates-paused banner",
            "const s = document.getElementById('live-status'); return !s.hidden && s.innerText.includes('Live updates paused')",
        )
        .await;
    browser.screenshot("live-paused").await;
    serve.resume().await;
    browser
        .wait_until(
            "the live-updates-resumed banner",
            "return document.getElementById('live-status').innerText.includes('Live updates resumed')",
        )
        .await;

    // At a phone's width: nothing wider than the screen, every row readable.
    browser.resize(375, 800).await;
    browser.goto(&serve.url("/pipelines")).await;
    browser.wait_for(&format!("#pipeline-{id}")).await;
    let overflow = browser
        .run(
            "return document.documentElement.scrollWidth - window.innerWidth",
            json!([]),
        )
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page is {overflow} px wider than the screen"
    );
    browser.screenshot("pipelines-phone").await;
    browser.goto(&serve.url("/")).await;
    browser.wait_text("Pipelines by phase").await;
    browser.screenshot("overview-phone").await;

    // Sign out: back to the sign-in form.
    browser.resize(1280, 900).await;
    browser.click("form.sign-out button").await;
    browser.wait_for("input[name=key]").await;
}
