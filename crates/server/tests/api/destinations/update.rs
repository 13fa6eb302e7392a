//! Updating destinations: renames, replacement configs that keep their secret, type changes.

use serde_json::json;

use super::*;

#[tokio::test]
async fn a_rename_keeps_the_config_and_a_taken_name_is_a_409() {
    let app = spawn_app().await;
    let taken = app.create_destination("taken").await;
    let created = app.create_destination("pg").await;
    let reply = app
        .put(&path_of(&created), &json!({"name": "Renamed"}))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    let renamed = reply.json();
    assert_eq!(renamed["name"], "renamed");
    assert_eq!(renamed["type"], created["type"]);
    assert_eq!(renamed["config"], created["config"]);
    assert_ne!(renamed["updated_at"], created["updated_at"]);

    let body = app
        .put(&path_of(&created), &json!({"name": "TAKEN"}))
        .await
        .expect_error(409, "DuplicateEntityError");
    assert_eq!(
        body["details"],
        json!({"entity_type": "Destination", "field": "name", "value": "taken"})
    );
    let body = app
        .post(PATH, &snowflake_destination_body("Taken"))
        .await
        .expect_error(409, "DuplicateEntityError");
    assert_eq!(body["details"]["value"], "taken");
    assert_eq!(app.get(&path_of(&taken)).await.expect(200).json(), taken);
}

#[tokio::test]
async fn a_replacement_config_without_its_secret_keeps_the_stored_secret() {
    let app = spawn_app().await;
    let created = app.create_destination("pg").await;
    let replacement = json!({"config": {"host": "replica.example.com", "database": "dw2", "username": "loader2", "port": 6432}});
    let reply = app.put(&path_of(&created), &replacement).await.expect(200);
    assert_no_secrets(&reply.text);
    let updated = reply.json();
    assert_eq!(updated["type"], "POSTGRES");
    assert_eq!(
        updated["config"],
        json!({"host": "replica.example.com", "port": 6432, "database": "dw2", "username": "loader2", "schema": "public"})
    );
    let stored = stored_config(&app, &created["id"]).await;
    assert_eq!(stored["password"], DESTINATION_PASSWORD);
    assert_eq!(stored["host"], "replica.example.com");

    let rotated = json!({"type": "POSTGRES", "config": {"host": "h", "database": "d", "username": "u", "password": "rotated-pw"}});
    app.put(&path_of(&created), &rotated).await.expect(200);
    assert_eq!(
        stored_config(&app, &created["id"]).await["password"],
        "rotated-pw"
    );

    // Snowflake too, and a replaced config drops the optional fields it leaves out.
    let snowflake = app
        .post(PATH, &snowflake_destination_body("snow"))
        .await
        .expect(201)
        .json();
    let replacement =
        json!({"config": {"account": "acme-us", "user": "L", "database": "R", "schema": "C"}});
    let updated = app
        .put(&path_of(&snowflake), &replacement)
        .await
        .expect(200)
        .json();
    assert_eq!(updated["config"]["account"], "acme-us");
    assert!(updated["config"]["role"].is_null());
    let stored = stored_config(&app, &snowflake["id"]).await;
    assert_eq!(stored["private_key_passphrase"], SNOWFLAKE_PASSPHRASE);
}

#[tokio::test]
async fn an_update_config_is_checked_against_the_stored_type_with_every_failing_value() {
    let app = spawn_app().await;
    let created = app.create_destination("pg").await;
    let body = app
        .put(
            &path_of(&created),
            &json!({"name": "", "config": {"account": "acme", "host": ""}}),
        )
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(
        failing_locations(&body),
        [
            "body.name",
            "body.config.host",
            "body.config.database",
            "body.config.username",
            "body.config.account"
        ]
    );
    let body = app
        .put(&path_of(&created), &json!({"type": "oracle"}))
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&body), ["body.type"]);
    assert_eq!(
        app.get(&path_of(&created)).await.expect(200).json(),
        created
    );
}

#[tokio::test]
async fn changing_the_type_needs_a_full_config_of_the_new_type() {
    let app = spawn_app().await;
    let created = app.create_destination("pg").await;
    let body = app
        .put(&path_of(&created), &json!({"type": "snowflake"}))
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&body), ["body.config"]);
    assert_eq!(
        body["details"][0]["msg"],
        "config is required when type is given"
    );

    // The stored type alone changes nothing.
    let same = app
        .put(&path_of(&created), &json!({"type": "Postgres"}))
        .await
        .expect(200)
        .json();
    assert_eq!(same["config"], created["config"]);

    let body = app
        .put(
            &path_of(&created),
            &json!({"type": "SNOWFLAKE", "config": {"host": "h", "database": "d", "username": "u"}}),
        )
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(
        failing_locations(&body),
        [
            "body.config.account",
            "body.config.user",
            "body.config.schema",
            "body.config.username"
        ]
    );

    let full = json!({"type": "snowflake", "config": {"account": "acme", "user": "L", "database": "R", "schema": "C"}});
    let reply = app.put(&path_of(&created), &full).await.expect(200);
    assert_no_secrets(&reply.text);
    let changed = reply.json();
    assert_eq!(changed["type"], "SNOWFLAKE");
    assert_eq!(changed["config"]["account"], "acme");
    assert!(changed["config"].get("port").is_none());
    // The PostgreSQL password does not follow the destination into its new type.
    let stored = stored_config(&app, &created["id"]).await;
    assert!(stored.get("password").is_none(), "{stored}");
    assert!(stored.get("private_key_passphrase").is_none(), "{stored}");
}

#[tokio::test]
async fn a_replacement_config_sets_the_snowflake_mode_and_a_rename_keeps_it() {
    let app = spawn_app().await;
    let created = app
        .post(PATH, &snowflake_destination_body("snow"))
        .await
        .expect(201)
        .json();
    assert_eq!(created["config"]["mode"], "mirror");
    let without_mode = json!({"account": "acme-eu", "user": "L", "database": "R", "schema": "C"});
    let config = |mode: &str| {
        let mut config = without_mode.clone();
        config["mode"] = json!(mode);
        config
    };

    let updated = app
        .put(&path_of(&created), &json!({"config": config("CHANGELOG")}))
        .await
        .expect(200)
        .json();
    assert_eq!(updated["config"]["mode"], "changelog");
    assert_eq!(
        app.get(&path_of(&created)).await.expect(200).json()["config"]["mode"],
        "changelog"
    );
    let stored = stored_config(&app, &created["id"]).await;
    assert_eq!(stored["mode"], "changelog");
    assert_eq!(stored["private_key_passphrase"], SNOWFLAKE_PASSPHRASE);

    // A rename leaves the configuration, and its mode, as they are.
    let renamed = app
        .put(&path_of(&created), &json!({"name": "landing"}))
        .await
        .expect(200)
        .json();
    assert_eq!(renamed["config"]["mode"], "changelog");

    // A refused mode changes nothing.
    let error = app
        .put(&path_of(&created), &json!({"config": config("append")}))
        .await
        .expect_error(422, "ValidationError");
    assert_eq!(failing_locations(&error), ["body.config.mode"]);
    assert_eq!(
        error["details"][0]["msg"],
        "must be one of mirror, changelog"
    );
    assert_eq!(
        app.get(&path_of(&created)).await.expect(200).json(),
        renamed
    );

    // A replacement that leaves the mode out is a mirror, as it takes every default it leaves out.
    let replaced = app
        .put(&path_of(&created), &json!({"config": without_mode}))
        .await
        .expect(200)
        .json();
    assert_eq!(replaced["config"]["mode"], "mirror");

    // A PostgreSQL destination turned into a Snowflake one takes the mode it is given.
    let postgres = app.create_destination("pg").await;
    let changed = app
        .put(
            &path_of(&postgres),
            &json!({"type": "snowflake", "config": config("changelog")}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(changed["type"], "SNOWFLAKE");
    assert_eq!(changed["config"]["mode"], "changelog");
}
