//! Checking destinations: `200` with every step up to the first that fails, never a secret,
//! `404` and `422` like the other routes.

use serde_json::json;

use super::*;

/// A PostgreSQL destination writing to schema `mirror` of the test's own database.
fn local_destination_body(app: &TestApp, name: &str) -> Value {
    let url = reqwest::Url::parse(app.db.url()).unwrap();
    json!({
        "name": name,
        "type": "POSTGRES",
        "config": {
            "host": url.host_str().unwrap(),
            "port": url.port().unwrap_or(5432),
            "database": app.db.name(),
            "username": url.username(),
            "schema": "mirror",
            "password": url.password().unwrap_or(DESTINATION_PASSWORD)
        }
    })
}

fn names(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| check["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn checking_a_reachable_postgres_destination_passes_every_step() {
    let app = spawn_app().await;
    let body = local_destination_body(&app, "local");
    let destination = app.post(PATH, &body).await.expect(201).json();
    let reply = app
        .post_empty(&format!("{}/check", path_of(&destination)))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    let report = reply.json();
    assert_eq!(report["ready"], true, "{report}");
    let checked_at = report["checked_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(checked_at).is_ok(),
        "{checked_at}"
    );
    assert_eq!(
        names(&report),
        ["connect", "create_schema", "create_table", "bookkeeping"]
    );
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["passed"], true, "{check}");
        assert_eq!(check["required"], true, "{check}");
        assert!(check["detail"].is_string(), "{check}");
    }
    // Nothing changed in the catalogue.
    let stored = app.get(&path_of(&destination)).await.expect(200).json();
    assert_eq!(stored["updated_at"], destination["updated_at"]);
}

#[tokio::test]
async fn checking_an_unreachable_destination_answers_200_with_a_failed_connect() {
    let app = spawn_app().await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut body = postgres_destination_body("dead");
    body["config"]["host"] = json!("127.0.0.1");
    body["config"]["port"] = json!(port);
    let destination = app.post(PATH, &body).await.expect(201).json();
    let reply = app
        .post_empty(&format!("{}/check", path_of(&destination)))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    let report = reply.json();
    assert_eq!(report["ready"], false, "{report}");
    assert_eq!(names(&report), ["connect"]);
    let connect = &report["checks"][0];
    assert_eq!(connect["passed"], false);
    assert_eq!(connect["required"], true);
    let detail = connect["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("127.0.0.1:{port}")), "{detail}");
}

#[tokio::test]
async fn checking_a_missing_destination_is_404_and_a_bad_id_422() {
    let app = spawn_app().await;
    let body = app
        .post_empty(&format!("{PATH}/424242/check"))
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(
        body["details"],
        json!({"entity_type": "Destination", "entity_id": "424242"})
    );
    let body = app
        .post_empty(&format!("{PATH}/abc/check"))
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&body), ["path.id"]);
}

#[tokio::test]
async fn the_check_route_documents_its_diagnostics() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.expect(200).json();
    let operation = &document["paths"]["/api/v1/destinations/{id}/check"]["post"];
    assert_eq!(operation["operationId"], "check_destination");
    assert_eq!(operation["tags"], json!(["destinations"]));
    assert_eq!(
        operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/DestinationDiagnosticsResponse"
    );
    for status in ["404", "422", "500", "503"] {
        assert!(operation["responses"][status].is_object(), "{status}");
    }
    let schema = &document["components"]["schemas"]["DestinationDiagnosticsResponse"];
    assert!(schema["example"].is_object(), "{schema}");
    for field in ["checked_at", "ready", "checks"] {
        assert!(schema["properties"][field].is_object(), "lacks {field}");
    }
    let check = &document["components"]["schemas"]["DiagnosticCheckResponse"];
    for field in ["name", "passed", "required", "detail"] {
        assert!(check["properties"][field].is_object(), "lacks {field}");
    }
}
