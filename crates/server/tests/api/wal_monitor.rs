//! The WAL monitor end to end: the service probes real sources on a 1-second schedule, and what
//! it records shows through the API; two instances on one metadata database share the cycles.

use std::collections::HashMap;
use std::time::Duration;

use std::sync::Arc;

use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use rosetta_app::WalMonitor;
use rosetta_metadata_store::{build_pool, SecretCipher};
use rosetta_server::config::Config;
use rosetta_server::startup::use_cases;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::helpers::{
    assert_no_secrets, spawn_app_with, TestApp, SOURCE_PASSWORD, TEST_ENCRYPTION_KEYS,
};

/// The monitor on a 1-second schedule with short probes.
const FAST_MONITOR: [(&str, &str); 4] = [
    ("WAL_MONITOR_ENABLED", "true"),
    ("WAL_MONITOR_INTERVAL_SECONDS", "1"),
    ("WAL_MONITOR_TIMEOUT_SECONDS", "5"),
    ("WAL_MONITOR_MAX_RETRIES", "1"),
];

/// A source on the local PostgreSQL, in the test's own database.
fn local_source(name: &str, database: &str, ssl_mode: &str) -> Value {
    json!({
        "name": name,
        "pg_host": "127.0.0.1",
        "pg_port": 5432,
        "pg_database": database,
        "pg_username": "postgres",
        "pg_password": SOURCE_PASSWORD,
        "publication_name": "rosetta_pub",
        "replication_id": 424_242,
        "ssl_mode": ssl_mode
    })
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn create(app: &TestApp, body: &Value) -> i64 {
    app.post("/api/v1/sources", body).await.expect(201).json()["id"]
        .as_i64()
        .unwrap()
}

/// Polls `check` every 200 ms until it holds, failing after 30 s with the last value seen.
async fn eventually<F, Fut>(what: &str, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (bool, Value)>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (done, seen) = check().await;
        if done {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_monitor_records_healthy_sources_and_flags_the_unreachable_one() {
    let app = spawn_app_with(&FAST_MONITOR).await;
    let database = app.db.name().to_owned();
    let plain = create(&app, &local_source("plain", &database, "disable")).await;
    let tls = create(&app, &local_source("tls", &database, "prefer")).await;
    let mut dead_body = local_source("dead", &database, "disable");
    let dead_port = closed_port();
    dead_body["pg_port"] = json!(dead_port);
    let dead = create(&app, &dead_body).await;

    // Both healthy sources get samples from successive cycles.
    for id in [plain, tls] {
        let samples = eventually("two samples", || async {
            let body = app
                .get(&format!("/api/v1/metrics/wal?source_id={id}"))
                .await
                .expect(200)
                .json();
            (body.as_array().unwrap().len() >= 2, body)
        })
        .await;
        for sample in samples.as_array().unwrap() {
            assert_eq!(sample["source_id"], id);
            assert!(sample["size_bytes"].as_i64().unwrap() > 0, "{sample}");
        }
    }
    // The unreachable one fails again and again, and becomes critical.
    let report = eventually("three failures in a row", || async {
        let body = app
            .get(&format!("/api/v1/sources/{dead}/wal"))
            .await
            .expect(200)
            .json();
        let failures = body["probe"]["consecutive_failures"].as_i64().unwrap_or(0);
        (failures >= 3, body)
    })
    .await;
    assert_eq!(report["verdict"], "critical", "{report}");
    assert_eq!(report["probe"]["ok"], false, "{report}");
    assert!(report["probe"]["last_success_at"].is_null(), "{report}");
    let error = report["probe"]["error"].as_str().unwrap();
    assert!(error.contains(&format!("127.0.0.1:{dead_port}")), "{error}");
    let codes: Vec<&str> = report["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"probe_failing"), "{report}");
    assert_no_secrets(&report.to_string());
    let dead_samples = app
        .get(&format!("/api/v1/metrics/wal?source_id={dead}"))
        .await
        .expect(200)
        .json();
    assert_eq!(dead_samples, json!([]));

    // The healthy ones report what the probe read. Other tests create and drop slots on the
    // shared cluster, so their verdict is ok or a slot warning, never a failing probe.
    for id in [plain, tls] {
        let report = app
            .get(&format!("/api/v1/sources/{id}/wal"))
            .await
            .expect(200)
            .json();
        assert_eq!(report["probe"]["ok"], true, "{report}");
        assert_eq!(report["probe"]["consecutive_failures"], 0, "{report}");
        assert!(report["reading"]["server_version_num"].as_i64().unwrap() >= 120_000);
        assert!(report["reading"]["position_bytes"].as_i64().unwrap() > 0);
        assert_eq!(
            report["reading"]["privileges"]["superuser"], true,
            "{report}"
        );
        assert_ne!(report["verdict"], "critical", "{report}");
        for reason in report["reasons"].as_array().unwrap() {
            assert_ne!(reason["code"], "probe_failing", "{report}");
            assert_ne!(reason["code"], "not_probed_yet", "{report}");
        }
    }
    let health = app.get("/health").await.expect(200).json();
    assert_eq!(health["checks"]["wal_monitor"], true, "{health}");
}

#[tokio::test]
async fn a_disabled_monitor_is_not_scheduled_and_says_so_in_health() {
    // An enabled monitor runs its first cycle at start (the scheduler's paused-time tests in
    // src/monitor.rs show when cycles run); a disabled one has no scheduler at all.
    let app = spawn_app_with(&[("WAL_MONITOR_ENABLED", "false")]).await;
    let id = create(&app, &local_source("idle", app.db.name(), "disable")).await;
    let report = app
        .get(&format!("/api/v1/sources/{id}/wal"))
        .await
        .expect(200)
        .json();
    assert!(report["probe"].is_null(), "{report}");
    let health = app.get("/health").await.expect(200).json();
    assert_eq!(health["checks"]["wal_monitor"], false, "{health}");
}

/// The use cases of one more instance of the service on `database_url`, with a pool of its
/// own and an hour between cycles: the WAL monitor's cycles are run by hand.
async fn instance(database_url: &str) -> WalMonitor {
    let vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("WAL_MONITOR_INTERVAL_SECONDS".to_owned(), "3600".to_owned()),
        ("WAL_MONITOR_TIMEOUT_SECONDS".to_owned(), "5".to_owned()),
        // The first instance's key: both read what the other wrote.
        (
            "ROSETTA_ENCRYPTION_KEYS".to_owned(),
            TEST_ENCRYPTION_KEYS.to_owned(),
        ),
    ]);
    let config = Config::from_vars(&vars).unwrap();
    let pool = build_pool(database_url, &config.pool).unwrap();
    let cipher = Arc::new(SecretCipher::new([(1, [0x2a; 32])]).unwrap());
    use_cases(&config, &pool, cipher).wal_monitor(config.monitor)
}

#[derive(QueryableByName)]
struct Sample {
    #[diesel(sql_type = BigInt)]
    source_id: i64,
}

#[tokio::test]
async fn two_instances_on_one_database_run_one_cycle_per_interval_between_them() {
    let app = spawn_app_with(&[]).await;
    let database = app.db.name().to_owned();
    let first = create(&app, &local_source("one", &database, "disable")).await;
    let second = create(&app, &local_source("two", &database, "disable")).await;
    let (a, b) = (instance(app.db.url()).await, instance(app.db.url()).await);

    // Both ask at once: one claims the cycle and probes both sources, the other does nothing.
    let (from_a, from_b) = tokio::join!(a.run_cycle(), b.run_cycle());
    let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
    assert!(from_a.claimed ^ from_b.claimed, "{from_a:?} {from_b:?}");
    let ran = if from_a.claimed { &from_a } else { &from_b };
    assert_eq!(
        (ran.sources, ran.succeeded, ran.failed),
        (2, 2, 0),
        "{ran:?}"
    );
    // Asked again within the interval, by either: neither claims it.
    let (again_a, again_b) = tokio::join!(a.run_cycle(), b.run_cycle());
    assert!(!again_a.unwrap().claimed);
    assert!(!again_b.unwrap().claimed);

    let mut conn = app.db.pool().get().await.unwrap();
    let samples: Vec<Sample> =
        diesel::sql_query("SELECT source_id FROM wal_metrics ORDER BY source_id")
            .load(&mut conn)
            .await
            .unwrap();
    let probed: Vec<i64> = samples.iter().map(|s| s.source_id).collect();
    assert_eq!(probed, [first, second], "each source probed exactly once");
}
