//! `GET /metrics`: the Prometheus text format, HTTP requests by route pattern, the pool, and
//! what the WAL monitor saw. The recorder is one per process, shared by every test's app, so
//! each test looks for series only it can have made (its own source ids and names) and for
//! lower bounds rather than exact totals.

use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use serde_json::json;

use crate::helpers::*;
use crate::prometheus_text::Exposition;

const ROUTE: &str = "/api/v1/sources/{id}";

async fn scrape(app: &TestApp) -> Exposition {
    let reply = app.get("/metrics").await.expect(200);
    let content_type = reply.headers["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    Exposition::parse(&reply.text)
}

#[tokio::test]
async fn requests_are_counted_and_timed_by_route_pattern_never_by_raw_path() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for name in ["metrics-first", "metrics-second"] {
        ids.push(app.create_source(name).await["id"].as_i64().unwrap());
    }
    for id in &ids {
        app.get(&format!("/api/v1/sources/{id}")).await.expect(200);
    }
    app.get("/no/such/route/metrics-test")
        .await
        .expect_error(404, "RouteNotFoundError");

    let exposition = scrape(&app).await;

    assert_eq!(exposition.types["rosetta_http_requests_total"], "counter");
    assert_eq!(
        exposition.types["rosetta_http_request_duration_seconds"],
        "histogram"
    );
    assert!(exposition.help.contains_key("rosetta_http_requests_total"));
    let served = [("method", "GET"), ("route", ROUTE), ("status", "200")];
    assert!(exposition.value("rosetta_http_requests_total", &served) >= 2.0);
    let created = [
        ("method", "POST"),
        ("route", "/api/v1/sources"),
        ("status", "201"),
    ];
    assert!(exposition.value("rosetta_http_requests_total", &created) >= 2.0);
    let unmatched = [("route", "unmatched"), ("status", "404")];
    assert!(exposition.value("rosetta_http_requests_total", &unmatched) >= 1.0);
    // A histogram with buckets from 1 ms to 10 s, not a summary.
    let timed = [("method", "GET"), ("route", ROUTE)];
    let bucket = "rosetta_http_request_duration_seconds_bucket";
    for le in ["0.001", "10", "+Inf"] {
        let labels = [timed[0], timed[1], ("le", le)];
        assert!(!exposition.find(bucket, &labels).is_empty(), "le={le}");
    }
    let count = exposition.value("rosetta_http_request_duration_seconds_count", &timed);
    assert!(count >= 2.0, "{count}");
    // The raw paths, with their ids, are no label anywhere.
    for sample in &exposition.samples {
        for value in sample.labels.values() {
            let raw = ids
                .iter()
                .any(|id| value == &format!("/api/v1/sources/{id}"));
            assert!(!raw && !value.contains("/no/such/route"), "{sample:?}");
        }
    }
    // The metadata pool, read at scrape time.
    for gauge in [
        "rosetta_db_pool_size",
        "rosetta_db_pool_idle",
        "rosetta_db_pool_waiting",
    ] {
        assert_eq!(exposition.types[gauge], "gauge", "{gauge}");
        assert!(exposition.value(gauge, &[]) >= 0.0, "{gauge}");
    }
}

/// A source id no other test uses, so that this test's series are its own.
fn unused_id_base() -> i64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    1_000_000 + i64::try_from(nanos % 1_000_000_000_000).unwrap()
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_monitor_cycle_shows_each_sources_series_and_the_cycle() {
    let app = spawn_app_with(&[
        ("WAL_MONITOR_ENABLED", "true"),
        ("WAL_MONITOR_INTERVAL_SECONDS", "1"),
        ("WAL_MONITOR_TIMEOUT_SECONDS", "5"),
        ("WAL_MONITOR_MAX_RETRIES", "0"),
    ])
    .await;
    let base = unused_id_base();
    execute_sql(
        &app,
        &format!("SELECT setval(pg_get_serial_sequence('sources', 'id'), {base})"),
    )
    .await;
    // A slot for the slot series: temporary, so it goes with this connection whatever happens.
    let slot = format!("rosetta_metrics_{base}");
    let mut holder = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    holder
        .batch_execute(&format!(
            "SELECT pg_create_physical_replication_slot('{slot}', true, true)"
        ))
        .await
        .unwrap();
    let healthy = app
        .post(
            "/api/v1/sources",
            &local_source_body(&app, "metrics-healthy"),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut dead_body = local_source_body(&app, "metrics-dead");
    dead_body["pg_port"] = json!(closed_port());
    let dead = app
        .post("/api/v1/sources", &dead_body)
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    assert_eq!((healthy, dead), (base + 1, base + 2));
    let healthy_id = healthy.to_string();
    let dead_id = dead.to_string();
    let healthy_labels = [
        ("source_id", healthy_id.as_str()),
        ("source", "metrics-healthy"),
    ];
    let dead_labels = [("source_id", dead_id.as_str()), ("source", "metrics-dead")];

    let deadline = Instant::now() + Duration::from_secs(30);
    let exposition = loop {
        let exposition = scrape(&app).await;
        // The per-source series are written during a cycle, the cycle's counts by outcome at
        // its end: wait for the end of a cycle that probed both.
        let counted = |outcome: &str| {
            exposition
                .find("rosetta_wal_monitor_probes_total", &[("outcome", outcome)])
                .iter()
                .any(|sample| sample.value >= 1.0)
        };
        let probed = !exposition
            .find("rosetta_source_wal_position_bytes", &healthy_labels)
            .is_empty()
            && !exposition
                .find("rosetta_source_probe_failures_total", &dead_labels)
                .is_empty()
            && counted("succeeded")
            && counted("failed");
        if probed {
            break exposition;
        }
        assert!(Instant::now() < deadline, "no cycle probed both sources");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // What the healthy source's probe read.
    assert!(exposition.value("rosetta_source_wal_position_bytes", &healthy_labels) > 0.0);
    let retained = [
        healthy_labels[0],
        ("slot", slot.as_str()),
        ("slot_type", "physical"),
    ];
    assert!(exposition.value("rosetta_source_slot_retained_bytes", &retained) >= 0.0);
    let active = exposition.value(
        "rosetta_source_slot_active",
        &[healthy_labels[0], ("slot", slot.as_str())],
    );
    assert!(active == 0.0 || active == 1.0, "{active}");
    let now = chrono::Utc::now().timestamp() as f64;
    let last_success = exposition.value(
        "rosetta_source_probe_last_success_timestamp_seconds",
        &healthy_labels,
    );
    assert!(
        (now - 120.0..=now + 5.0).contains(&last_success),
        "{last_success}"
    );
    assert_eq!(
        exposition.value("rosetta_source_probe_failures_total", &healthy_labels),
        0.0
    );
    // How the probes went, each timed in a histogram.
    assert_eq!(
        exposition.types["rosetta_source_probe_duration_seconds"],
        "histogram"
    );
    for id in [&healthy_id, &dead_id] {
        let labels = [("source_id", id.as_str())];
        assert!(exposition.value("rosetta_source_probe_duration_seconds_count", &labels) >= 1.0);
        for le in ["0.005", "60"] {
            let bucket = [labels[0], ("le", le)];
            assert!(!exposition
                .find("rosetta_source_probe_duration_seconds_bucket", &bucket)
                .is_empty());
        }
    }
    assert!(exposition.value("rosetta_source_probe_failures_total", &dead_labels) >= 1.0);
    assert!(exposition
        .find(
            "rosetta_source_probe_last_success_timestamp_seconds",
            &dead_labels
        )
        .is_empty());
    assert!(exposition
        .find("rosetta_source_wal_position_bytes", &dead_labels)
        .is_empty());
    // The cycles.
    assert_eq!(
        exposition.types["rosetta_wal_monitor_cycle_duration_seconds"],
        "histogram"
    );
    assert!(exposition.value("rosetta_wal_monitor_cycle_duration_seconds_count", &[]) >= 1.0);
    assert!(exposition.value("rosetta_wal_monitor_cycles_total", &[("claimed", "true")]) >= 1.0);
    for outcome in ["succeeded", "failed"] {
        let labels = [("outcome", outcome)];
        assert!(exposition.value("rosetta_wal_monitor_probes_total", &labels) >= 1.0);
    }
    drop(holder);
}
