//! Creating destinations: both types, defaults, the flat Snowflake body, and every failing value.

use serde_json::json;

use super::*;

#[tokio::test]
async fn both_types_are_created_upper_cased_and_returned_without_secrets() {
    let app = spawn_app().await;
    let reply = app
        .post(PATH, &snowflake_destination_body("Snow"))
        .await
        .expect(201);
    assert_no_secrets(&reply.text);
    let snowflake = reply.json();
    assert_eq!(snowflake["name"], "snow");
    assert_eq!(snowflake["type"], "SNOWFLAKE");
    assert_eq!(
        snowflake["config"],
        json!({
            "account": "acme-eu", "user": "LOADER", "database": "RAW", "schema": "CDC",
            "role": "LOADER_ROLE", "warehouse": "LOAD_WH",
            "host": "acme-eu.snowflakecomputing.com", "private_key_path": "/keys/loader.p8",
            "mode": "mirror"
        })
    );

    let mut body = postgres_destination_body("pg");
    body["type"] = json!("postgres");
    let reply = app.post(PATH, &body).await.expect(201);
    assert_no_secrets(&reply.text);
    let postgres = reply.json();
    assert_eq!(postgres["type"], "POSTGRES");
    assert!(postgres["id"].as_i64().unwrap() > snowflake["id"].as_i64().unwrap());
    for stamp in ["created_at", "updated_at"] {
        let text = postgres[stamp].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(text).is_ok(), "{text}");
        assert!(text.ends_with('Z'), "{text} is not UTC");
    }

    for created in [&snowflake, &postgres] {
        let read = app.get(&path_of(created)).await.expect(200);
        assert_no_secrets(&read.text);
        assert_eq!(&read.json(), created);
    }
    assert_eq!(
        stored_config(&app, &postgres["id"]).await["password"],
        DESTINATION_PASSWORD
    );
}

#[tokio::test]
async fn postgres_defaults_to_port_5432_and_schema_public_and_snowflake_options_to_null() {
    let app = spawn_app().await;
    let postgres = app.create_destination("pg").await;
    assert_eq!(
        postgres["config"],
        json!({
            "host": "warehouse.example.com", "port": 5432, "database": "dw",
            "username": "loader", "schema": "public"
        })
    );
    let minimal = json!({
        "name": "snow",
        "type": "SNOWFLAKE",
        "config": {"account": "a", "user": "u", "database": "d", "schema": "s"}
    });
    let snowflake = app.post(PATH, &minimal).await.expect(201).json();
    for field in ["role", "warehouse", "host", "private_key_path"] {
        assert!(snowflake["config"][field].is_null(), "{field}: {snowflake}");
    }
    assert!(snowflake["config"]
        .as_object()
        .unwrap()
        .contains_key("private_key_path"));
}

#[tokio::test]
async fn the_snowflake_mode_is_stored_returned_lower_case_and_defaults_to_mirror() {
    let app = spawn_app().await;
    let mut body = snowflake_destination_body("log");
    body["config"]["mode"] = json!("ChangeLog");
    let reply = app.post(PATH, &body).await.expect(201);
    assert_no_secrets(&reply.text);
    let changelog = reply.json();
    assert_eq!(changelog["config"]["mode"], "changelog");
    assert_eq!(
        app.get(&path_of(&changelog)).await.expect(200).json(),
        changelog
    );
    assert_eq!(
        stored_config(&app, &changelog["id"]).await["mode"],
        "changelog"
    );

    let mirror = app
        .post(PATH, &snowflake_destination_body("mirror"))
        .await
        .expect(201)
        .json();
    assert_eq!(mirror["config"]["mode"], "mirror");
    assert_eq!(stored_config(&app, &mirror["id"]).await["mode"], "mirror");

    // The first version's flat form takes it under its prefix.
    let legacy = json!({
        "name": "legacy", "snowflake_account": "a", "snowflake_user": "u",
        "snowflake_database": "d", "snowflake_schema": "s", "snowflake_mode": "changelog"
    });
    let legacy = app.post(PATH, &legacy).await.expect(201).json();
    assert_eq!(legacy["config"]["mode"], "changelog");
}

#[tokio::test]
async fn an_unknown_snowflake_mode_is_a_422_at_its_field_naming_the_modes() {
    let app = spawn_app().await;
    let mut body = snowflake_destination_body("log");
    body["config"]["mode"] = json!("append");
    let error = app
        .post(PATH, &body)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(
        error,
        json!({
            "error": "ValidationError",
            "message": "Request validation failed",
            "details": [{
                "loc": ["body", "config", "mode"],
                "msg": "must be one of mirror, changelog",
                "type": "enum"
            }]
        })
    );
    assert_no_secrets(&error.to_string());

    // PostgreSQL destinations have no mode.
    let mut body = postgres_destination_body("pg");
    body["config"]["mode"] = json!("mirror");
    let error = app
        .post(PATH, &body)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.config.mode"]);
    assert_eq!(error["details"][0]["type"], "extra_forbidden");
    let listed = app.get(PATH).await.expect(200).json();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn the_first_version_flat_snowflake_body_creates_a_snowflake_destination() {
    let app = spawn_app().await;
    let legacy = json!({
        "name": "Legacy",
        "snowflake_account": "acme-eu",
        "snowflake_user": "LOADER",
        "snowflake_database": "RAW",
        "snowflake_schema": "CDC",
        "snowflake_role": "LOADER_ROLE",
        "snowflake_warehouse": "LOAD_WH",
        "snowflake_private_key_path": "/keys/loader.p8",
        "snowflake_private_key_passphrase": SNOWFLAKE_PASSPHRASE,
        "snowflake_host": "acme-eu.snowflakecomputing.com"
    });
    let reply = app.post(PATH, &legacy).await.expect(201);
    assert_no_secrets(&reply.text);
    let created = reply.json();
    assert_eq!(created["name"], "legacy");
    assert_eq!(created["type"], "SNOWFLAKE");
    assert_eq!(created["config"]["account"], "acme-eu");
    assert_eq!(created["config"]["warehouse"], "LOAD_WH");
    assert_eq!(created["config"]["host"], "acme-eu.snowflakecomputing.com");
    let stored = stored_config(&app, &created["id"]).await;
    assert_eq!(stored["private_key_passphrase"], SNOWFLAKE_PASSPHRASE);

    let incomplete = json!({"name": "legacy2", "snowflake_account": "", "snowflake_user": "u"});
    let body = app
        .post(PATH, &incomplete)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(
        failing_locations(&body),
        [
            "body.snowflake_account",
            "body.snowflake_database",
            "body.snowflake_schema"
        ]
    );
}

#[tokio::test]
async fn an_unknown_config_field_is_refused_at_its_location() {
    let app = spawn_app().await;
    let mut body = postgres_destination_body("pg");
    body["config"]["sslmode"] = json!("require");
    let error = app
        .post(PATH, &body)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.config.sslmode"]);
    assert_eq!(error["details"][0]["type"], "extra_forbidden");
    assert_no_secrets(&error.to_string());

    // A Snowflake field in a PostgreSQL config is unknown there too.
    let mut body = postgres_destination_body("pg");
    body["config"]["warehouse"] = json!("LOAD_WH");
    let error = app
        .post(PATH, &body)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.config.warehouse"]);
}

#[tokio::test]
async fn every_failing_value_of_name_and_config_is_listed_in_one_422() {
    let app = spawn_app().await;
    let bad = json!({
        "name": "not a name!",
        "type": "postgres",
        "config": {
            "host": "",
            "port": 70000,
            "username": 12,
            "password": "x".repeat(256),
            "colour": "blue"
        }
    });
    let body = app
        .post(PATH, &bad)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(body["message"], "Request validation failed");
    assert_eq!(
        failing_locations(&body),
        [
            "body.name",
            "body.config.host",
            "body.config.port",
            "body.config.database",
            "body.config.username",
            "body.config.password",
            "body.config.colour"
        ]
    );
    assert!(
        !body.to_string().contains(&"x".repeat(256)),
        "the rejected password is echoed"
    );
}

#[tokio::test]
async fn a_wrong_or_missing_type_or_config_is_a_422() {
    let app = spawn_app().await;
    let mut body = postgres_destination_body("pg");
    body["type"] = json!("mysql");
    let error = app
        .post(PATH, &body)
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.type"]);
    assert_eq!(error["details"][0]["type"], "enum");

    let error = app
        .post(PATH, &json!({"name": "bare"}))
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.type", "body.config"]);

    let error = app
        .post(
            PATH,
            &json!({"name": "pg", "type": "POSTGRES", "config": "host=db"}),
        )
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.config"]);
    assert_eq!(error["details"][0]["type"], "model_attributes_type");

    let error = app
        .post(PATH, &json!({"name": "pg", "type": "POSTGRES"}))
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.config"]);
    assert_eq!(error["details"][0]["type"], "missing");
}
