//! `/api/v1/destinations`: both types, the first version's flat Snowflake body, the typed
//! config and its write-only secrets, updates that keep secrets, deletes refused while in use,
//! and checks.
//! Shared helpers, listing, reading and the OpenAPI entries here; the rest by operation.

mod check;
mod check_snowflake;
mod create;
mod delete;
mod update;

use serde_json::{json, Value};

use crate::helpers::*;

const PATH: &str = "/api/v1/destinations";

fn path_of(destination: &Value) -> String {
    format!("{PATH}/{}", destination["id"])
}

/// The configuration as stored in the `destinations.config` column, its secrets (stored
/// encrypted) decrypted.
async fn stored_config(app: &TestApp, id: &Value) -> Value {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        config: String,
    }
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    let rows: Vec<Row> =
        diesel::sql_query("SELECT config::text AS config FROM destinations WHERE id = $1")
            .bind::<BigInt, _>(id.as_i64().unwrap())
            .load(&mut conn)
            .await
            .unwrap();
    let mut config: Value = serde_json::from_str(&rows[0].config).unwrap();
    for (key, field) in [
        ("password", "config.password"),
        ("private_key_passphrase", "config.private_key_passphrase"),
    ] {
        if let Some(Value::String(stored)) = config.get_mut(key) {
            let at = rosetta_metadata_store::SecretField::new(
                "destinations",
                id.as_i64().unwrap(),
                field,
            );
            *stored = open_stored_secret(stored, at);
        }
    }
    config
}

/// A pipeline from a new source to `destination`.
async fn pipeline_to(app: &TestApp, destination: &Value, name: &str) -> Value {
    let source = app.create_source(&format!("{name}-src")).await;
    let body =
        json!({"name": name, "source_id": source["id"], "destination_id": destination["id"]});
    app.post("/api/v1/pipelines", &body)
        .await
        .expect(201)
        .json()
}

#[tokio::test]
async fn destinations_are_listed_by_id_within_skip_and_limit() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let created = if i % 2 == 0 {
            app.create_destination(&format!("d{i}")).await
        } else {
            let body = snowflake_destination_body(&format!("d{i}"));
            app.post(PATH, &body).await.expect(201).json()
        };
        ids.push(created["id"].as_i64().unwrap());
    }
    let reply = app.get(&format!("{PATH}?skip=1&limit=3")).await.expect(200);
    assert_no_secrets(&reply.text);
    let listed: Vec<i64> = reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, ids[1..4]);
    let all = app.get(PATH).await.expect(200);
    assert_no_secrets(&all.text);
    assert_eq!(all.json().as_array().unwrap().len(), 5);
    for query in ["limit=0", "limit=1001", "skip=-1"] {
        let body = app
            .get(&format!("{PATH}?{query}"))
            .await
            .expect_error(422, "ValidationError");
        let field = query.split('=').next().unwrap();
        assert_eq!(failing_locations(&body), [format!("query.{field}")]);
    }
}

#[tokio::test]
async fn missing_and_malformed_ids_are_404_and_422() {
    let app = spawn_app().await;
    let body = app
        .get(&format!("{PATH}/42"))
        .await
        .expect_error(404, "EntityNotFoundError");
    assert_eq!(body["message"], "Destination with id '42' not found");
    assert_eq!(
        body["details"],
        json!({"entity_type": "Destination", "entity_id": "42"})
    );
    for id in ["abc", "0", "-3", "1.5"] {
        let body = app
            .get(&format!("{PATH}/{id}"))
            .await
            .expect_error(422, "ValidationError");
        assert_eq!(failing_locations(&body), ["path.id"], "{id}");
    }
    for update in [json!({"name": "x"}), json!({"config": {"host": "h"}})] {
        app.put(&format!("{PATH}/42"), &update)
            .await
            .expect_error(404, "EntityNotFoundError");
    }
    app.delete(&format!("{PATH}/42"))
        .await
        .expect_error(404, "EntityNotFoundError");
}

/// The schema a property or alternative refers to: a bare `$ref`, or one wrapped in `allOf`
/// (OpenAPI 3.0 ignores the siblings of a `$ref`, so a described reference is wrapped).
fn referenced(schema: &Value) -> String {
    let reference = schema["$ref"]
        .as_str()
        .or_else(|| schema["allOf"][0]["$ref"].as_str())
        .unwrap_or_else(|| panic!("no reference: {schema}"));
    reference
        .trim_start_matches("#/components/schemas/")
        .to_owned()
}

/// The schemas an `anyOf` offers.
fn alternatives(schema: &Value) -> Vec<String> {
    schema["anyOf"]
        .as_array()
        .unwrap_or_else(|| panic!("no anyOf: {schema}"))
        .iter()
        .map(referenced)
        .collect()
}

#[tokio::test]
async fn the_destination_routes_and_bodies_are_documented() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.expect(200).json();
    let operations = [
        ("/api/v1/destinations", "post", "create_destination"),
        ("/api/v1/destinations", "get", "list_destinations"),
        ("/api/v1/destinations/{id}", "get", "get_destination"),
        ("/api/v1/destinations/{id}", "put", "update_destination"),
        ("/api/v1/destinations/{id}", "delete", "delete_destination"),
        (
            "/api/v1/destinations/{id}/check",
            "post",
            "check_destination",
        ),
    ];
    for (path, method, id) in operations {
        let operation = &document["paths"][path][method];
        assert_eq!(operation["operationId"], id);
        assert_eq!(operation["tags"], json!(["destinations"]));
    }
    let create = &document["paths"]["/api/v1/destinations"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CreateDestinationBody"
    );
    assert!(create["responses"]["409"].is_object());
    assert!(create["responses"]["422"].is_object());
    let delete = &document["paths"]["/api/v1/destinations/{id}"]["delete"];
    let parameters = delete["parameters"].as_array().unwrap();
    assert!(parameters.iter().any(|p| p["name"] == "cascade"));

    let schemas = &document["components"]["schemas"];
    assert_eq!(
        alternatives(&schemas["CreateDestinationBody"]),
        ["TypedDestinationBody", "LegacySnowflakeDestinationBody"]
    );
    assert_eq!(
        alternatives(&schemas["DestinationConfigBody"]),
        ["SnowflakeConfigBody", "PostgresConfigBody"]
    );
    for (config, secret) in [
        ("PostgresConfigBody", "password"),
        ("SnowflakeConfigBody", "private_key_passphrase"),
    ] {
        assert_eq!(schemas[config]["additionalProperties"], false, "{config}");
        assert_eq!(
            schemas[config]["properties"][secret]["writeOnly"], true,
            "{config}"
        );
    }
    assert_eq!(
        schemas["PostgresConfigBody"]["properties"]["port"]["maximum"],
        65535
    );
    assert_eq!(
        referenced(&schemas["DestinationResponse"]["properties"]["config"]),
        "DestinationConfigResponse"
    );
    assert_eq!(
        alternatives(&schemas["DestinationConfigResponse"]),
        ["SnowflakeConfigResponse", "PostgresConfigResponse"]
    );
    assert!(schemas["PostgresConfigResponse"]["properties"]["password"].is_null());
    assert!(schemas["SnowflakeConfigResponse"]["properties"]["private_key_passphrase"].is_null());
    assert_eq!(
        schemas["DestinationTypeName"]["enum"],
        json!(["SNOWFLAKE", "POSTGRES"])
    );
    // The Snowflake mode: an optional enum in requests, defaulting to mirror; always answered.
    let mode = &schemas["SnowflakeConfigBody"]["properties"]["mode"];
    assert_eq!(referenced(&mode["anyOf"][0]), "SnowflakeModeName", "{mode}");
    assert_eq!(mode["default"], "mirror", "{mode}");
    assert!(!schemas["SnowflakeConfigBody"]["required"]
        .as_array()
        .unwrap()
        .contains(&json!("mode")));
    assert_eq!(
        schemas["SnowflakeModeName"]["enum"],
        json!(["mirror", "changelog"])
    );
    let response = &schemas["SnowflakeConfigResponse"];
    assert_eq!(
        referenced(&response["properties"]["mode"]),
        "SnowflakeModeName"
    );
    assert!(response["required"]
        .as_array()
        .unwrap()
        .contains(&json!("mode")));
}
