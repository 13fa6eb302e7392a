//! `/api/v1/pipelines`: every route, the nested response, the lifecycle actions and their
//! side effects on the runtime metadata, and names taken under concurrency.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::helpers::*;

/// The body of a successful reply, after checking that it holds no secret.
fn secret_free(reply: Reply) -> Value {
    assert_no_secrets(&reply.text);
    reply.json()
}

fn id_of(value: &Value) -> i64 {
    value["id"].as_i64().unwrap()
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    assert!(text.ends_with('Z'), "{text} is not UTC");
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn last_start_at(pipeline: &Value) -> Option<DateTime<Utc>> {
    let value = &pipeline["pipeline_metadata"]["last_start_at"];
    (!value.is_null()).then(|| timestamp(value))
}

/// Creates a pipeline between existing ends, with an optional initial status.
async fn create_between(
    app: &TestApp,
    name: &str,
    source: &Value,
    destination: &Value,
    status: Option<&str>,
) -> Value {
    let mut body =
        json!({"name": name, "source_id": source["id"], "destination_id": destination["id"]});
    if let Some(status) = status {
        body["status"] = json!(status);
    }
    secret_free(app.post("/api/v1/pipelines", &body).await.expect(201))
}

async fn action(app: &TestApp, id: i64, verb: &str) -> Value {
    secret_free(
        app.post_empty(&format!("/api/v1/pipelines/{id}/{verb}"))
            .await
            .expect(200),
    )
}

/// Runs one statement on the test database.
async fn execute(app: &TestApp, sql: &str, pipeline_id: i64) -> usize {
    use diesel::sql_types::BigInt;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    diesel::sql_query(sql)
        .bind::<BigInt, _>(pipeline_id)
        .execute(&mut conn)
        .await
        .unwrap()
}

/// How many metadata rows the pipeline has in the store.
async fn metadata_rows(app: &TestApp, pipeline_id: i64) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    let rows: Vec<Count> =
        diesel::sql_query("SELECT count(*) AS n FROM pipeline_metadata WHERE pipeline_id = $1")
            .bind::<BigInt, _>(pipeline_id)
            .load(&mut conn)
            .await
            .unwrap();
    rows[0].n
}

/// Records a worker failure on the pipeline's metadata, as a worker would.
async fn record_failure(app: &TestApp, pipeline_id: i64) {
    let updated = execute(
        app,
        "UPDATE pipeline_metadata SET status = 'ERROR', last_error = 'slot lost', \
         last_error_at = now(), last_start_at = '2020-01-01T00:00:00Z' WHERE pipeline_id = $1",
        pipeline_id,
    )
    .await;
    assert_eq!(updated, 1);
}

#[tokio::test]
async fn a_created_pipeline_is_returned_with_its_ends_and_running_metadata() {
    let app = spawn_app().await;
    let source = app.create_source("orders-src").await;
    let destination = secret_free(
        app.post(
            "/api/v1/destinations",
            &snowflake_destination_body("orders-dw"),
        )
        .await
        .expect(201),
    );
    let before = Utc::now() - chrono::Duration::milliseconds(1);
    let body = json!({
        "name": "Orders_To_DW",
        "source_id": source["id"],
        "destination_id": destination["id"]
    });
    let reply = app.post("/api/v1/pipelines", &body).await.expect(201);
    let created = secret_free(reply);

    assert!(id_of(&created) >= 1);
    assert_eq!(created["name"], "orders_to_dw");
    assert_eq!(created["status"], "START");
    assert_eq!(created["source_id"], source["id"]);
    assert_eq!(created["destination_id"], destination["id"]);
    assert_eq!(created["source"], source);
    assert_eq!(created["destination"], destination);
    timestamp(&created["created_at"]);
    timestamp(&created["updated_at"]);

    let metadata = &created["pipeline_metadata"];
    assert!(metadata["id"].as_i64().unwrap() >= 1);
    assert_eq!(metadata["pipeline_id"], created["id"]);
    assert_eq!(metadata["status"], "RUNNING");
    assert!(metadata["last_error"].is_null());
    assert!(metadata["last_error_at"].is_null());
    assert!(last_start_at(&created).unwrap() >= before);
    timestamp(&metadata["created_at"]);
    timestamp(&metadata["updated_at"]);

    let read = app
        .get(&format!("/api/v1/pipelines/{}", created["id"]))
        .await
        .expect(200);
    assert_eq!(secret_free(read), created);
}

#[tokio::test]
async fn a_pipeline_created_paused_has_paused_metadata_and_no_start_time() {
    let app = spawn_app().await;
    let source = app.create_source("s").await;
    let destination = app.create_destination("d").await;
    let created = create_between(&app, "paused", &source, &destination, Some("PAUSE")).await;
    assert_eq!(created["status"], "PAUSE");
    assert_eq!(created["pipeline_metadata"]["status"], "PAUSED");
    assert!(created["pipeline_metadata"]["last_start_at"].is_null());
    let started = create_between(&app, "started", &source, &destination, Some("START")).await;
    assert_eq!(started["pipeline_metadata"]["status"], "RUNNING");
    assert!(last_start_at(&started).is_some());
}

#[tokio::test]
async fn a_missing_source_or_destination_is_a_404_naming_which() {
    let app = spawn_app().await;
    let source = app.create_source("s").await;
    let destination = app.create_destination("d").await;
    let cases = [
        (json!(424242), destination["id"].clone(), "Source", "424242"),
        (source["id"].clone(), json!(434343), "Destination", "434343"),
        // Both missing: the source is named first.
        (json!(424242), json!(434343), "Source", "424242"),
    ];
    for (source_id, destination_id, entity, id) in cases {
        let body = json!({"name": "p", "source_id": source_id, "destination_id": destination_id});
        let error = app
            .post("/api/v1/pipelines", &body)
            .await
            .expect_error(404, "EntityNotFoundError");
        assert_eq!(
            error["details"],
            json!({"entity_type": entity, "entity_id": id})
        );
        assert_eq!(
            error["message"],
            format!("{entity} with id '{id}' not found")
        );
    }
    // Nothing was written.
    let listed = app.get("/api/v1/pipelines").await.expect(200).json();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn every_invalid_pipeline_field_is_listed_in_one_422() {
    let app = spawn_app().await;
    let bad =
        json!({"name": "not a name!", "source_id": 0, "destination_id": "x", "status": "REFRESH"});
    let error = app
        .post("/api/v1/pipelines", &bad)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(error["message"], "Request validation failed");
    assert_eq!(
        failing_locations(&error),
        [
            "body.name",
            "body.source_id",
            "body.destination_id",
            "body.status"
        ]
    );

    let error = app
        .post("/api/v1/pipelines", &json!({"status": "bogus"}))
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(
        failing_locations(&error),
        [
            "body.name",
            "body.source_id",
            "body.destination_id",
            "body.status"
        ]
    );
    let kinds: Vec<&str> = error["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["missing", "missing", "missing", "enum"]);

    // Statuses are spelled upper-case, as the contract lists them.
    let error = app
        .post(
            "/api/v1/pipelines",
            &json!({"name": "p", "source_id": 1, "destination_id": 1, "status": "start"}),
        )
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.status"]);
}

#[tokio::test]
async fn a_taken_pipeline_name_is_a_409_naming_the_field_and_value() {
    let app = spawn_app().await;
    let created = app.create_pipeline("orders").await;
    let body = json!({
        "name": "ORDERS",
        "source_id": created["source_id"],
        "destination_id": created["destination_id"]
    });
    let error = app
        .post("/api/v1/pipelines", &body)
        .await
        .expect_error(409, "DuplicateEntityError");
    assert_eq!(
        error["details"],
        json!({"entity_type": "Pipeline", "field": "name", "value": "orders"})
    );
}

#[tokio::test]
async fn pipelines_are_listed_by_id_within_skip_and_limit_and_filtered_by_status() {
    let app = spawn_app().await;
    let source = app.create_source("s").await;
    let destination = app.create_destination("d").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let created = create_between(&app, &format!("p{i}"), &source, &destination, None).await;
        ids.push(id_of(&created));
    }
    action(&app, ids[1], "pause").await;
    action(&app, ids[3], "pause").await;
    action(&app, ids[4], "refresh").await;

    let ids_of = |reply: Reply| -> Vec<i64> {
        secret_free(reply)
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect()
    };
    let page = app
        .get("/api/v1/pipelines?skip=1&limit=3")
        .await
        .expect(200);
    assert_eq!(ids_of(page), ids[1..4]);
    let all = app.get("/api/v1/pipelines").await.expect(200);
    let all = secret_free(all);
    assert_eq!(all.as_array().unwrap().len(), 5);
    // Each entry is a whole pipeline, nested objects included.
    assert_eq!(all[0]["source"]["id"], source["id"]);
    assert_eq!(all[0]["destination"]["id"], destination["id"]);
    assert_eq!(all[1]["pipeline_metadata"]["status"], "PAUSED");

    let paused = app.get("/api/v1/pipelines?status=PAUSE").await.expect(200);
    assert_eq!(ids_of(paused), [ids[1], ids[3]]);
    let started = app.get("/api/v1/pipelines?status=START").await.expect(200);
    assert_eq!(ids_of(started), [ids[0], ids[2]]);
    let refreshing = app
        .get("/api/v1/pipelines?status=REFRESH&limit=1")
        .await
        .expect(200);
    assert_eq!(ids_of(refreshing), [ids[4]]);
    let second_paused = app
        .get("/api/v1/pipelines?status=PAUSE&skip=1")
        .await
        .expect(200);
    assert_eq!(ids_of(second_paused), [ids[3]]);
}

#[tokio::test]
async fn an_invalid_status_filter_or_page_is_422() {
    let app = spawn_app().await;
    for (query, expected) in [
        ("status=bogus", vec!["query.status"]),
        ("status=pause", vec!["query.status"]),
        ("status=", vec!["query.status"]),
        ("limit=0", vec!["query.limit"]),
        ("skip=-1", vec!["query.skip"]),
        (
            "limit=1001&status=RUNNING",
            vec!["query.limit", "query.status"],
        ),
    ] {
        let error = app
            .get(&format!("/api/v1/pipelines?{query}"))
            .await
            .expect_error(422, "ValidationError");
        assert_eq!(failing_locations(&error), expected, "{query}");
    }
}

#[tokio::test]
async fn missing_and_malformed_pipeline_ids_are_404_and_422_on_every_route() {
    let app = spawn_app().await;
    let error = app
        .get("/api/v1/pipelines/424242")
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(error["message"], "Pipeline with id '424242' not found");
    assert_eq!(
        error["details"],
        json!({"entity_type": "Pipeline", "entity_id": "424242"})
    );
    app.put("/api/v1/pipelines/424242", &json!({"name": "x"}))
        .await
        .expect_error(404, "EntityNotFoundError");
    app.delete("/api/v1/pipelines/424242")
        .await
        .expect_error(404, "EntityNotFoundError");
    for verb in ["start", "pause", "refresh"] {
        let error = app
            .post_empty(&format!("/api/v1/pipelines/424242/{verb}"))
            .await
            .expect_error(404, "EntityNotFoundError");
        assert_eq!(error["details"]["entity_type"], "Pipeline", "{verb}");
    }
    for id in ["abc", "0", "-3", "1.5", "99999999999999999999"] {
        let error = app
            .get(&format!("/api/v1/pipelines/{id}"))
            .await
            .expect_error(422, "ValidationError");
        assert_eq!(failing_locations(&error), ["path.id"], "{id}");
        let error = app
            .post_empty(&format!("/api/v1/pipelines/{id}/start"))
            .await
            .expect_error(422, "ValidationError");
        assert_eq!(failing_locations(&error), ["path.id"], "{id}");
    }
}

#[tokio::test]
async fn a_partial_update_renames_and_moves_a_pipeline_keeping_the_rest() {
    let app = spawn_app().await;
    let created = app.create_pipeline("orders").await;
    let path = format!("/api/v1/pipelines/{}", created["id"]);

    let renamed = secret_free(
        app.put(&path, &json!({"name": "Orders_V2"}))
            .await
            .expect(200),
    );
    assert_eq!(renamed["name"], "orders_v2");
    for kept in [
        "id",
        "source_id",
        "destination_id",
        "status",
        "created_at",
        "source",
    ] {
        assert_eq!(renamed[kept], created[kept], "{kept}");
    }
    assert_eq!(renamed["pipeline_metadata"], created["pipeline_metadata"]);
    assert!(timestamp(&renamed["updated_at"]) > timestamp(&created["updated_at"]));

    let other_source = app.create_source("other-src").await;
    let other_destination = app.create_destination("other-dst").await;
    let moved = secret_free(
        app.put(
            &path,
            &json!({"source_id": other_source["id"], "destination_id": other_destination["id"]}),
        )
        .await
        .expect(200),
    );
    assert_eq!(moved["name"], "orders_v2");
    assert_eq!(moved["source_id"], other_source["id"]);
    assert_eq!(moved["source"], other_source);
    assert_eq!(moved["destination_id"], other_destination["id"]);
    assert_eq!(moved["destination"], other_destination);
    assert_eq!(moved["status"], "START");

    // An empty update changes nothing.
    let same = secret_free(app.put(&path, &json!({})).await.expect(200));
    assert_eq!(same, moved);
    assert_eq!(secret_free(app.get(&path).await.expect(200)), moved);
}

#[tokio::test]
async fn updates_refuse_missing_ends_taken_names_and_bad_values() {
    let app = spawn_app().await;
    app.create_pipeline("taken").await;
    let created = app.create_pipeline("orders").await;
    let path = format!("/api/v1/pipelines/{}", created["id"]);

    let error = app
        .put(&path, &json!({"source_id": 424242, "name": "renamed"}))
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(
        error["details"],
        json!({"entity_type": "Source", "entity_id": "424242"})
    );
    let error = app
        .put(&path, &json!({"destination_id": 434343}))
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(
        error["details"],
        json!({"entity_type": "Destination", "entity_id": "434343"})
    );
    let error = app
        .put(&path, &json!({"name": "TAKEN"}))
        .await
        .expect_error(409, "DuplicateEntityError");
    assert_eq!(
        error["details"],
        json!({"entity_type": "Pipeline", "field": "name", "value": "taken"})
    );
    let error = app
        .put(
            &path,
            &json!({"name": "", "source_id": 0, "destination_id": -1, "status": "STOP"}),
        )
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(
        failing_locations(&error),
        [
            "body.name",
            "body.source_id",
            "body.destination_id",
            "body.status"
        ]
    );
    // None of the refused updates wrote anything.
    assert_eq!(secret_free(app.get(&path).await.expect(200)), created);
}

#[tokio::test]
async fn a_status_change_through_put_has_the_side_effects_of_the_action() {
    let app = spawn_app().await;
    let created = app.create_pipeline("orders").await;
    let id = id_of(&created);
    let path = format!("/api/v1/pipelines/{id}");
    let first_start = last_start_at(&created).unwrap();

    let paused = secret_free(
        app.put(&path, &json!({"status": "PAUSE"}))
            .await
            .expect(200),
    );
    assert_eq!(paused["status"], "PAUSE");
    assert_eq!(paused["pipeline_metadata"]["status"], "PAUSED");
    assert_eq!(last_start_at(&paused), Some(first_start));

    let refreshed = secret_free(
        app.put(&path, &json!({"status": "REFRESH"}))
            .await
            .expect(200),
    );
    assert_eq!(refreshed["status"], "REFRESH");
    assert_eq!(refreshed["pipeline_metadata"], paused["pipeline_metadata"]);

    record_failure(&app, id).await;
    let started = secret_free(
        app.put(&path, &json!({"status": "START"}))
            .await
            .expect(200),
    );
    assert_eq!(started["status"], "START");
    let metadata = &started["pipeline_metadata"];
    assert_eq!(metadata["status"], "RUNNING");
    assert!(metadata["last_error"].is_null());
    assert!(metadata["last_error_at"].is_null());
    assert!(last_start_at(&started).unwrap() > first_start);

    // Asking for the current status through PUT is a no-op too.
    let again = secret_free(
        app.put(&path, &json!({"status": "START"}))
            .await
            .expect(200),
    );
    assert_eq!(again, started);
}

#[tokio::test]
async fn each_action_is_allowed_from_any_state() {
    let app = spawn_app().await;
    let created = app.create_pipeline("orders").await;
    let id = id_of(&created);
    // Every (from, to) pair once: S→S S→P P→P P→R R→R R→S S→R R→P P→S.
    let steps = [
        "start", "pause", "pause", "refresh", "refresh", "start", "refresh", "pause", "start",
    ];
    let mut current = created;
    for verb in steps {
        let before = Utc::now() - chrono::Duration::milliseconds(1);
        let next = action(&app, id, verb).await;
        let expected_status = match verb {
            "start" => "START",
            "pause" => "PAUSE",
            _ => "REFRESH",
        };
        let from = current["status"].as_str().unwrap().to_owned();
        assert_eq!(next["status"], expected_status, "{from} → {verb}");
        let metadata = &next["pipeline_metadata"];
        match verb {
            "start" => assert_eq!(metadata["status"], "RUNNING", "{from} → {verb}"),
            "pause" => assert_eq!(metadata["status"], "PAUSED", "{from} → {verb}"),
            _ => assert_eq!(
                *metadata, current["pipeline_metadata"],
                "{from} → {verb}: refresh leaves the metadata alone"
            ),
        }
        if from == expected_status {
            assert_eq!(next, current, "repeating {from} changed the pipeline");
        } else if verb == "start" {
            assert!(last_start_at(&next).unwrap() >= before, "{from} → start");
        } else {
            assert_eq!(
                last_start_at(&next),
                last_start_at(&current),
                "{from} → {verb}"
            );
        }
        current = next;
    }
}

#[tokio::test]
async fn repeating_the_current_state_answers_200_and_does_not_move_last_start_at() {
    let app = spawn_app().await;
    let created = app.create_pipeline("orders").await;
    let id = id_of(&created);
    let started_at = last_start_at(&created).unwrap();

    let again = action(&app, id, "start").await;
    assert_eq!(last_start_at(&again), Some(started_at));
    assert_eq!(again, created);

    let paused = action(&app, id, "pause").await;
    let paused_again = action(&app, id, "pause").await;
    assert_eq!(paused_again, paused);
    assert_eq!(last_start_at(&paused_again), Some(started_at));

    let refreshed = action(&app, id, "refresh").await;
    let refreshed_again = action(&app, id, "refresh").await;
    assert_eq!(refreshed_again, refreshed);
}

#[tokio::test]
async fn starting_a_paused_pipeline_runs_it_from_now_and_clears_its_error() {
    let app = spawn_app().await;
    let created = app.create_pipeline("orders").await;
    let id = id_of(&created);
    action(&app, id, "pause").await;
    record_failure(&app, id).await;
    let failed = secret_free(
        app.get(&format!("/api/v1/pipelines/{id}"))
            .await
            .expect(200),
    );
    assert_eq!(failed["pipeline_metadata"]["status"], "ERROR");
    assert_eq!(failed["pipeline_metadata"]["last_error"], "slot lost");
    timestamp(&failed["pipeline_metadata"]["last_error_at"]);
    let stale = last_start_at(&failed).unwrap();

    let before = Utc::now() - chrono::Duration::milliseconds(1);
    let started = action(&app, id, "start").await;
    assert_eq!(started["status"], "START");
    let metadata = &started["pipeline_metadata"];
    assert_eq!(metadata["status"], "RUNNING");
    assert!(metadata["last_error"].is_null());
    assert!(metadata["last_error_at"].is_null());
    let restarted_at = last_start_at(&started).unwrap();
    assert!(
        restarted_at > stale && restarted_at >= before,
        "{restarted_at}"
    );
    assert!(restarted_at > last_start_at(&created).unwrap());
}

#[tokio::test]
async fn refreshing_requests_a_copy_and_leaves_the_metadata_unchanged() {
    let app = spawn_app().await;
    let created = app.create_pipeline("orders").await;
    let id = id_of(&created);
    record_failure(&app, id).await;
    let failed = secret_free(
        app.get(&format!("/api/v1/pipelines/{id}"))
            .await
            .expect(200),
    );
    let refreshed = action(&app, id, "refresh").await;
    assert_eq!(refreshed["status"], "REFRESH");
    assert_eq!(refreshed["pipeline_metadata"], failed["pipeline_metadata"]);
    assert_eq!(refreshed["pipeline_metadata"]["status"], "ERROR");
}

#[tokio::test]
async fn a_deleted_pipeline_is_gone_with_its_metadata_and_its_ends_stay() {
    let app = spawn_app().await;
    let created = app.create_pipeline("orders").await;
    let id = id_of(&created);
    let path = format!("/api/v1/pipelines/{id}");
    assert_eq!(metadata_rows(&app, id).await, 1);

    let reply = app.delete(&path).await.expect(204);
    assert!(reply.text.is_empty());
    assert_eq!(metadata_rows(&app, id).await, 0);
    app.get(&path)
        .await
        .expect_error(404, "EntityNotFoundError");
    app.delete(&path)
        .await
        .expect_error(404, "EntityNotFoundError");
    app.post_empty(&format!("{path}/start"))
        .await
        .expect_error(404, "EntityNotFoundError");
    app.get(&format!("/api/v1/sources/{}", created["source_id"]))
        .await
        .expect(200);
    app.get(&format!(
        "/api/v1/destinations/{}",
        created["destination_id"]
    ))
    .await
    .expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_give_one_201_and_409s() {
    let app = spawn_app().await;
    let source = app.create_source("s").await;
    let destination = app.create_destination("d").await;
    let body =
        json!({"name": "race", "source_id": source["id"], "destination_id": destination["id"]});
    let url = format!("{}/api/v1/pipelines", app.address);
    let mut requests = JoinSet::new();
    for _ in 0..16 {
        let (client, url, body) = (app.client.clone(), url.clone(), body.clone());
        requests.spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        });
    }
    let mut created = 0;
    for (status, body) in requests.join_all().await {
        match status {
            201 => created += 1,
            409 => {
                assert_eq!(body["error"], "DuplicateEntityError", "{body}");
                assert_eq!(body["details"]["value"], "race", "{body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(created, 1);
    let listed = secret_free(app.get("/api/v1/pipelines").await.expect(200));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(metadata_rows(&app, id_of(&listed[0])).await, 1);
}

#[tokio::test]
async fn the_pipeline_routes_are_documented_with_their_statuses() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.expect(200).json();
    let operations = [
        ("/api/v1/pipelines", "post", "create_pipeline", "201"),
        ("/api/v1/pipelines", "get", "list_pipelines", "200"),
        ("/api/v1/pipelines/{id}", "get", "get_pipeline", "200"),
        ("/api/v1/pipelines/{id}", "put", "update_pipeline", "200"),
        ("/api/v1/pipelines/{id}", "delete", "delete_pipeline", "204"),
        (
            "/api/v1/pipelines/{id}/start",
            "post",
            "start_pipeline",
            "200",
        ),
        (
            "/api/v1/pipelines/{id}/pause",
            "post",
            "pause_pipeline",
            "200",
        ),
        (
            "/api/v1/pipelines/{id}/refresh",
            "post",
            "refresh_pipeline",
            "200",
        ),
    ];
    for (path, method, id, success) in operations {
        let operation = &document["paths"][path][method];
        assert_eq!(operation["operationId"], id, "{method} {path}");
        assert_eq!(operation["tags"], json!(["pipelines"]), "{method} {path}");
        assert!(
            operation["responses"][success].is_object(),
            "{method} {path}"
        );
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["PipelineStatusName"]["enum"],
        json!(["START", "PAUSE", "REFRESH"])
    );
    assert_eq!(
        schemas["InitialPipelineStatusName"]["enum"],
        json!(["START", "PAUSE"])
    );
    assert_eq!(
        schemas["PipelineMetadataStatusName"]["enum"],
        json!(["RUNNING", "PAUSED", "ERROR"])
    );
    for field in ["source", "destination", "pipeline_metadata", "status"] {
        assert!(
            schemas["PipelineResponse"]["properties"][field].is_object(),
            "PipelineResponse lacks {field}"
        );
    }
    let parameters = document["paths"]["/api/v1/pipelines"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = parameters
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["skip", "limit", "status"] {
        assert!(
            names.contains(&name),
            "list_pipelines lacks {name}: {names:?}"
        );
    }
}
