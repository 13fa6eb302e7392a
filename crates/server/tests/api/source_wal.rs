//! `GET /api/v1/sources/{id}/wal` (the monitor's verdict on a source's WAL) and
//! `POST /api/v1/sources/{id}/check` (a source probed on demand).

use serde_json::{json, Value};

use crate::helpers::*;

fn id_of(source: &Value) -> i64 {
    source["id"].as_i64().unwrap()
}

/// `(severity, code, slot)` of each reason, in order.
fn reasons_of(report: &Value) -> Vec<(String, String, Value)> {
    report["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["severity"].as_str().unwrap().to_owned(),
                r["code"].as_str().unwrap().to_owned(),
                r["slot"].clone(),
            )
        })
        .collect()
}

/// The check called `name` (panics when absent).
fn check_named<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {report}"))
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_source_never_probed_is_a_warning_without_probe_or_reading() {
    let app = spawn_app().await;
    let id = id_of(&app.create_source("orders").await);
    let reply = app
        .get(&format!("/api/v1/sources/{id}/wal"))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    let report = reply.json();
    assert_eq!(report["source_id"], id);
    assert_eq!(report["verdict"], "warning");
    assert_eq!(
        reasons_of(&report),
        [(
            "warning".to_owned(),
            "not_probed_yet".to_owned(),
            Value::Null
        )]
    );
    assert!(report["reasons"][0]["message"].is_string(), "{report}");
    assert!(report["probe"].is_null(), "{report}");
    assert!(report["reading"].is_null(), "{report}");
    assert_eq!(report["slots"], json!([]));
}

#[tokio::test]
async fn the_wal_of_a_missing_source_is_404_and_a_bad_id_422() {
    let app = spawn_app().await;
    let body = app
        .get("/api/v1/sources/424242/wal")
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(
        body["details"],
        json!({"entity_type": "Source", "entity_id": "424242"})
    );
    for id in ["abc", "0", "-1"] {
        let body = app
            .get(&format!("/api/v1/sources/{id}/wal"))
            .await
            .expect_error(422, "ValidationError");
        assert_eq!(failing_locations(&body), ["path.id"], "{id}");
    }
}

#[tokio::test]
async fn a_source_whose_probes_keep_failing_is_critical_with_the_error() {
    let app = spawn_app().await;
    let id = id_of(&app.create_source("orders").await);
    execute_sql(
        &app,
        &format!(
            "INSERT INTO source_probe_status \
             (source_id, probed_at, error, consecutive_failures, last_success_at, last_reading) \
             VALUES ({id}, '2026-03-01T12:00:00Z', 'cannot connect to db:5432: refused', 3, \
             NULL, NULL)"
        ),
    )
    .await;
    let report = app
        .get(&format!("/api/v1/sources/{id}/wal"))
        .await
        .expect(200)
        .json();
    assert_eq!(report["verdict"], "critical", "{report}");
    assert_eq!(
        reasons_of(&report),
        [(
            "critical".to_owned(),
            "probe_failing".to_owned(),
            Value::Null
        )]
    );
    let message = report["reasons"][0]["message"].as_str().unwrap();
    assert!(message.contains("cannot connect to db:5432"), "{message}");
    assert_eq!(
        report["probe"],
        json!({
            "probed_at": "2026-03-01T12:00:00Z",
            "ok": false,
            "error": "cannot connect to db:5432: refused",
            "consecutive_failures": 3,
            "last_success_at": null
        })
    );
    assert!(report["reading"].is_null(), "{report}");
    assert_eq!(report["slots"], json!([]));
}

/// A reading as the store keeps it in `source_probe_status.last_reading`: an inactive logical
/// slot retaining 2000 bytes and an active physical one retaining 100.
fn stored_reading() -> Value {
    json!({
        "position_bytes": 50_000_000,
        "in_recovery": false,
        "server_version_num": 160_004,
        "read_at": "2026-03-01T11:59:59.5Z",
        "wal_level": "logical",
        "max_replication_slots": 10,
        "max_slot_wal_keep_size_bytes": null,
        "wal_directory": {"size_bytes": 33_554_432, "segments": 2},
        "slots": [{
            "name": "rosetta_7",
            "slot_type": "logical",
            "plugin": "pgoutput",
            "database": "shop",
            "active": false,
            "retained_bytes": 2000,
            "unconfirmed_bytes": 1500,
            "wal_status": "reserved",
            "safe_wal_size_bytes": null
        }, {
            "name": "standby_1",
            "slot_type": "physical",
            "plugin": null,
            "database": null,
            "active": true,
            "retained_bytes": 100,
            "unconfirmed_bytes": null,
            "wal_status": "reserved",
            "safe_wal_size_bytes": null
        }],
        "publication_exists": true,
        "slot_exists": true,
        "privileges": {"superuser": false, "replication": true, "monitor": true}
    })
}

#[tokio::test]
async fn the_last_reading_and_its_slots_are_judged_against_the_configured_thresholds() {
    let app = spawn_app_with(&[
        ("WAL_SLOT_WARN_BYTES", "1000"),
        ("WAL_SLOT_CRITICAL_BYTES", "5000"),
    ])
    .await;
    let id = id_of(&app.create_source("orders").await);
    let reading = stored_reading().to_string().replace('\'', "''");
    execute_sql(
        &app,
        &format!(
            "INSERT INTO source_probe_status \
             (source_id, probed_at, error, consecutive_failures, last_success_at, last_reading) \
             VALUES ({id}, '2026-03-01T12:00:00Z', NULL, 0, '2026-03-01T12:00:00Z', \
             '{reading}'::jsonb)"
        ),
    )
    .await;
    let report = app
        .get(&format!("/api/v1/sources/{id}/wal"))
        .await
        .expect(200)
        .json();
    assert_eq!(report["verdict"], "warning", "{report}");
    let mut reasons = reasons_of(&report);
    reasons.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        reasons,
        [
            (
                "warning".to_owned(),
                "retained_above_warning".to_owned(),
                json!("rosetta_7")
            ),
            (
                "warning".to_owned(),
                "slot_inactive_retaining".to_owned(),
                json!("rosetta_7")
            ),
        ]
    );
    assert_eq!(
        report["probe"],
        json!({
            "probed_at": "2026-03-01T12:00:00Z",
            "ok": true,
            "error": null,
            "consecutive_failures": 0,
            "last_success_at": "2026-03-01T12:00:00Z"
        })
    );
    // The reading comes back as stored, with its slots listed apart.
    let mut expected = stored_reading();
    let mut slots = expected.as_object_mut().unwrap().remove("slots").unwrap();
    expected["read_at"] = json!("2026-03-01T11:59:59.500Z");
    assert_eq!(report["reading"], expected);
    // No pipeline of this source owns them.
    for slot in slots.as_array_mut().unwrap() {
        slot["pipeline_id"] = Value::Null;
        slot["pipeline_name"] = Value::Null;
    }
    assert_eq!(report["slots"], slots);
}

#[tokio::test]
async fn checking_a_reachable_source_reports_each_requirement() {
    let app = spawn_app().await;
    let source = app
        .post("/api/v1/sources", &local_source_body(&app, "local"))
        .await
        .expect(201)
        .json();
    let id = id_of(&source);
    let reply = app
        .post_empty(&format!("/api/v1/sources/{id}/check"))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    let report = reply.json();
    assert_eq!(report["source_id"], id);
    let checked_at = report["checked_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(checked_at).is_ok(),
        "{checked_at}"
    );
    // The publication does not exist, so the source is not ready.
    assert_eq!(report["ready"], false, "{report}");
    let reachable = check_named(&report, "reachable");
    assert_eq!(reachable["passed"], true, "{report}");
    assert_eq!(reachable["required"], true, "{report}");
    let publication = check_named(&report, "publication_exists");
    assert_eq!(publication["passed"], false, "{report}");
    assert_eq!(publication["required"], true, "{report}");
    let logical = server_setting(&app, "wal_level").await == "logical";
    assert_eq!(
        check_named(&report, "wal_level_logical")["passed"],
        logical,
        "{report}"
    );
    for check in report["checks"].as_array().unwrap() {
        for field in ["passed", "required"] {
            assert!(check[field].is_boolean(), "{check}");
        }
        assert!(check["detail"].is_string(), "{check}");
    }
    let reading = &report["reading"];
    assert!(reading["server_version_num"].as_i64().unwrap() >= 120_000);
    assert!(reading["position_bytes"].as_i64().unwrap() > 0);
    assert_eq!(reading["publication_exists"], false);
    assert_eq!(
        reading["wal_level"],
        server_setting(&app, "wal_level").await
    );
    assert!(reading.get("slots").is_none(), "{reading}");
    assert!(report["slots"].is_array(), "{report}");

    // Nothing was recorded: the monitor's view is unchanged.
    let wal = app
        .get(&format!("/api/v1/sources/{id}/wal"))
        .await
        .expect(200)
        .json();
    assert!(wal["probe"].is_null(), "{wal}");
    let samples = app
        .get(&format!("/api/v1/metrics/wal?source_id={id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(samples, json!([]));
}

#[tokio::test]
async fn checking_an_unreachable_source_answers_200_with_a_failed_reachable_check() {
    let app = spawn_app().await;
    let port = closed_port();
    let mut body = source_body("dead");
    body["pg_host"] = json!("127.0.0.1");
    body["pg_port"] = json!(port);
    body["ssl_mode"] = json!("disable");
    let id = id_of(&app.post("/api/v1/sources", &body).await.expect(201).json());
    let reply = app
        .post_empty(&format!("/api/v1/sources/{id}/check"))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    let report = reply.json();
    assert_eq!(report["ready"], false, "{report}");
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1, "{report}");
    assert_eq!(checks[0]["name"], "reachable");
    assert_eq!(checks[0]["passed"], false);
    assert_eq!(checks[0]["required"], true);
    let detail = checks[0]["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("127.0.0.1:{port}")), "{detail}");
    assert!(report["reading"].is_null(), "{report}");
    assert_eq!(report["slots"], json!([]));
}

#[tokio::test]
async fn checking_a_missing_source_is_404_and_a_bad_id_422() {
    let app = spawn_app().await;
    let body = app
        .post_empty("/api/v1/sources/424242/check")
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(
        body["details"],
        json!({"entity_type": "Source", "entity_id": "424242"})
    );
    let body = app
        .post_empty("/api/v1/sources/abc/check")
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&body), ["path.id"]);
}
