//! `/api/v1/sources`: every route, its errors, and the write-only password.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_created_source_is_returned_without_its_password() {
    let app = spawn_app().await;
    let reply = app
        .post("/api/v1/sources", &source_body("Orders_EU"))
        .await
        .expect(201);
    assert_no_secrets(&reply.text);
    let body = reply.json();
    assert_eq!(body["name"], "orders_eu");
    assert_eq!(body["pg_port"], 5433);
    assert_eq!(body["replication_id"], 3);
    assert!(body.get("pg_password").is_none());
    assert!(body["id"].as_i64().unwrap() >= 1);
    for stamp in ["created_at", "updated_at"] {
        let text = body[stamp].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "{text}");
        assert!(text.ends_with('Z'), "{text} is not UTC");
    }
    let read = app
        .get(&format!("/api/v1/sources/{}", body["id"]))
        .await
        .expect(200);
    assert_no_secrets(&read.text);
    assert_eq!(read.json(), body);
}

#[tokio::test]
async fn the_port_defaults_to_5432_and_the_password_is_optional() {
    let app = spawn_app().await;
    let mut body = source_body("minimal");
    body.as_object_mut().unwrap().remove("pg_port");
    body.as_object_mut().unwrap().remove("pg_password");
    let created = app.post("/api/v1/sources", &body).await.expect(201).json();
    assert_eq!(created["pg_port"], 5432);
}

#[tokio::test]
async fn a_taken_name_is_a_409_naming_the_field_and_value() {
    let app = spawn_app().await;
    app.create_source("orders").await;
    let body = app
        .post("/api/v1/sources", &source_body("ORDERS"))
        .await
        .expect_error(409, "DuplicateEntityError");
    assert_eq!(
        body["details"],
        json!({"entity_type": "Source", "field": "name", "value": "orders"})
    );
}

#[tokio::test]
async fn every_invalid_field_is_listed_in_one_422() {
    let app = spawn_app().await;
    let bad = json!({
        "name": "not a name!",
        "pg_host": "",
        "pg_port": 70000,
        "pg_database": 12,
        "pg_password": "x".repeat(256),
        "publication_name": "pub-with-dash",
        "replication_id": -1
    });
    let body = app
        .post("/api/v1/sources", &bad)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(body["message"], "Request validation failed");
    assert_eq!(
        failing_locations(&body),
        [
            "body.name",
            "body.pg_host",
            "body.pg_port",
            "body.pg_database",
            "body.pg_username",
            "body.pg_password",
            "body.publication_name",
            "body.replication_id"
        ]
    );
    assert!(
        !body.to_string().contains(&"x".repeat(256)),
        "the rejected password is echoed"
    );
}

#[tokio::test]
async fn sources_are_listed_by_id_within_skip_and_limit() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.create_source(&format!("s{i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let reply = app.get("/api/v1/sources?skip=1&limit=3").await.expect(200);
    assert_no_secrets(&reply.text);
    let listed: Vec<i64> = reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, ids[1..4]);
    let all = app.get("/api/v1/sources").await.expect(200).json();
    assert_eq!(all.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn out_of_range_or_non_numeric_pages_are_422() {
    let app = spawn_app().await;
    for query in ["limit=0", "limit=1001", "skip=-1", "limit=ten", "skip=1.5"] {
        let body = app
            .get(&format!("/api/v1/sources?{query}"))
            .await
            .expect_error(422, "ValidationError");
        let field = query.split('=').next().unwrap();
        assert_eq!(
            failing_locations(&body),
            [format!("query.{field}")],
            "{query}"
        );
    }
    app.get("/api/v1/sources?limit=1000&skip=0")
        .await
        .expect(200);
}

#[tokio::test]
async fn a_partial_update_keeps_omitted_fields_and_the_password() {
    let app = spawn_app().await;
    let created = app.create_source("orders").await;
    let path = format!("/api/v1/sources/{}", created["id"]);
    let reply = app
        .put(&path, &json!({"pg_host": "replica.example.com"}))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    let updated = reply.json();
    assert_eq!(updated["pg_host"], "replica.example.com");
    assert_eq!(updated["pg_port"], created["pg_port"]);
    assert_eq!(updated["name"], created["name"]);
    assert_ne!(updated["updated_at"], created["updated_at"]);

    let stored: Option<String> = stored_password(&app, created["id"].as_i64().unwrap()).await;
    assert_eq!(stored.as_deref(), Some(SOURCE_PASSWORD));
}

async fn stored_password(app: &TestApp, id: i64) -> Option<String> {
    use diesel::sql_types::{BigInt, Nullable, Text};
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<Text>)]
        pg_password: Option<String>,
    }
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    let rows: Vec<Row> = diesel::sql_query("SELECT pg_password FROM sources WHERE id = $1")
        .bind::<BigInt, _>(id)
        .load(&mut conn)
        .await
        .unwrap();
    // Stored encrypted: the test opens it with the test key.
    rows.into_iter()
        .next()
        .and_then(|r| r.pg_password)
        .map(|stored| {
            open_stored_secret(
                &stored,
                rosetta_metadata_store::SecretField::source_password(id),
            )
        })
}

#[tokio::test]
async fn updates_refuse_missing_sources_taken_names_and_bad_values() {
    let app = spawn_app().await;
    app.create_source("a").await;
    let b = app.create_source("b").await;
    let path = format!("/api/v1/sources/{}", b["id"]);
    app.put(&path, &json!({"name": "A"}))
        .await
        .expect_error(409, "DuplicateEntityError");
    let body = app
        .put(&path, &json!({"pg_port": 0, "name": ""}))
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&body), ["body.name", "body.pg_port"]);
    let body = app
        .put("/api/v1/sources/424242", &json!({"pg_host": "h"}))
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(
        body["details"],
        json!({"entity_type": "Source", "entity_id": "424242"})
    );
}

#[tokio::test]
async fn missing_and_malformed_ids_are_404_and_422() {
    let app = spawn_app().await;
    let body = app
        .get("/api/v1/sources/42")
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(body["message"], "Source with id '42' not found");
    assert_eq!(
        body["details"],
        json!({"entity_type": "Source", "entity_id": "42"})
    );
    for id in ["abc", "0", "-3", "99999999999999999999", "1.5"] {
        let body = app
            .get(&format!("/api/v1/sources/{id}"))
            .await
            .expect_error(422, "ValidationError");
        assert_eq!(failing_locations(&body), ["path.id"], "{id}");
    }
    app.delete("/api/v1/sources/42")
        .await
        .expect_error(404, "EntityNotFoundError");
}

#[tokio::test]
async fn an_unused_source_is_deleted_with_204() {
    let app = spawn_app().await;
    let created = app.create_source("orders").await;
    let path = format!("/api/v1/sources/{}", created["id"]);
    let reply = app.delete(&path).await.expect(204);
    assert!(reply.text.is_empty());
    app.get(&path)
        .await
        .expect_error(404, "EntityNotFoundError");
}

#[tokio::test]
async fn the_ssl_mode_is_stored_returned_and_defaults_to_prefer() {
    let app = spawn_app().await;
    let mut body = source_body("strict");
    body["ssl_mode"] = json!("verify-full");
    let strict = app.post("/api/v1/sources", &body).await.expect(201).json();
    assert_eq!(strict["ssl_mode"], "verify-full");
    let path = format!("/api/v1/sources/{}", strict["id"]);
    assert_eq!(
        app.get(&path).await.expect(200).json()["ssl_mode"],
        "verify-full"
    );

    let default = app.create_source("default").await;
    assert_eq!(default["ssl_mode"], "prefer");

    let updated = app
        .put(&path, &json!({"ssl_mode": "disable"}))
        .await
        .expect(200)
        .json();
    assert_eq!(updated["ssl_mode"], "disable");
    assert_eq!(updated["pg_host"], strict["pg_host"]);
    assert_eq!(
        app.get(&path).await.expect(200).json()["ssl_mode"],
        "disable"
    );
}

#[tokio::test]
async fn an_unknown_ssl_mode_is_a_422_at_the_field() {
    let app = spawn_app().await;
    let mut body = source_body("tls");
    body["ssl_mode"] = json!("verify-ca");
    let error = app
        .post("/api/v1/sources", &body)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(error["details"][0]["loc"], json!(["body", "ssl_mode"]));
    assert_eq!(failing_locations(&error), ["body.ssl_mode"]);

    let created = app.create_source("tls").await;
    let error = app
        .put(
            &format!("/api/v1/sources/{}", created["id"]),
            &json!({"ssl_mode": "verify-ca"}),
        )
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.ssl_mode"]);
}
