//! Creating and editing sources, destinations and pipelines with the dashboard's forms: the
//! API's validation messages next to their fields, what was typed kept (but secrets), and
//! secrets that are never shown and kept when their field is left empty.

use super::visitor::Visitor;
use crate::helpers::{open_stored_secret, spawn_app};
use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

const PASSWORD: &str = "dash-src-pw-5e1f";
const DESTINATION_PASSWORD: &str = "dash-dst-pw-77a0";
const PASSPHRASE: &str = "dash-sf-pp-c3d9";

fn source_fields<'a>(name: &'a str, port: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("pg_host", "db.example.com"),
        ("pg_port", port),
        ("pg_database", "shop"),
        ("pg_username", "replicator"),
        ("pg_password", PASSWORD),
        ("publication_name", "shop_pub"),
        ("replication_id", "3"),
        ("ssl_mode", "require"),
    ]
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    secret: String,
}

async fn stored(app: &crate::helpers::TestApp, sql: &str) -> String {
    let mut conn = app.db.pool().get().await.unwrap();
    diesel::sql_query(sql)
        .get_result::<Stored>(&mut conn)
        .await
        .unwrap()
        .secret
}

#[tokio::test]
async fn a_source_form_shows_each_validation_error_at_its_field_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    let mut browser = Visitor::new(&app.address);
    browser
        .get("/sources/new")
        .await
        .expect(200)
        .shows("Add a source");
    let mut fields = source_fields("bad name!", "70000");
    fields.retain(|(name, _)| *name != "pg_host");
    let page = browser.post("/sources", &fields).await.expect(422);
    page.shows("The form has 3 problems.");
    assert!(page
        .field_error("name")
        .unwrap()
        .contains("letters, digits"));
    assert_eq!(
        page.field_error("pg_host").as_deref(),
        Some("Field required")
    );
    assert!(
        page.field_error("pg_port").unwrap().contains("65535"),
        "{:?}",
        page.field_error("pg_port")
    );
    assert_eq!(page.field_error("pg_database"), None);
    // What was typed is kept, the password is not.
    assert_eq!(page.input_value("name").as_deref(), Some("bad name!"));
    assert_eq!(page.input_value("pg_database").as_deref(), Some("shop"));
    assert_eq!(page.input_value("pg_password").as_deref(), Some(""));
    page.hides(PASSWORD);
    // Nothing was created.
    assert_eq!(
        app.get("/api/v1/sources").await.json(),
        serde_json::json!([])
    );
}

#[tokio::test]
async fn a_source_created_and_edited_in_the_dashboard_keeps_its_password_unless_a_new_one_is_typed()
{
    let app = spawn_app().await;
    let mut browser = Visitor::new(&app.address);
    browser.get("/sources/new").await.expect(200);
    let created = browser
        .post("/sources", &source_fields("Orders", "5433"))
        .await
        .expect(303);
    let page_path = created.location().to_owned();
    assert!(page_path.starts_with("/sources/"), "{page_path}");
    let id = page_path.trim_start_matches("/sources/").to_owned();
    let page = browser.get(&page_path).await.expect(200);
    page.shows("Source orders")
        .shows("db.example.com:5433")
        .shows("stored (never shown)")
        .hides(PASSWORD);
    let secret_sql = format!("SELECT pg_password AS secret FROM sources WHERE id = {id}");
    let before = stored(&app, &secret_sql).await;
    assert_eq!(
        open_stored_secret(
            &before,
            rosetta_metadata_store::SecretField::source_password(id.parse().unwrap())
        ),
        PASSWORD
    );

    // The edit form: filled with the stored values, the password empty.
    let edit = browser
        .get(&format!("/sources/{id}/edit"))
        .await
        .expect(200);
    assert_eq!(
        edit.input_value("pg_host").as_deref(),
        Some("db.example.com")
    );
    assert_eq!(edit.input_value("pg_password").as_deref(), Some(""));
    edit.shows("leave this empty to keep it").hides(PASSWORD);

    // Saved with the password left empty: kept.
    let mut fields = source_fields("orders", "6543");
    fields.retain(|(name, _)| *name != "pg_password");
    fields.push(("pg_password", ""));
    browser
        .post(&format!("/sources/{id}"), &fields)
        .await
        .expect(303);
    assert_eq!(stored(&app, &secret_sql).await, before);
    let api = app
        .get(&format!("/api/v1/sources/{id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(api["pg_port"], 6543);

    // An emptied required field is an error, not "unchanged".
    let mut emptied = source_fields("orders", "6543");
    for field in &mut emptied {
        if field.0 == "pg_host" {
            field.1 = "";
        }
    }
    let refused = browser
        .post(&format!("/sources/{id}"), &emptied)
        .await
        .expect(422);
    assert!(refused.field_error("pg_host").is_some(), "{}", refused.html);
    refused.hides(PASSWORD);

    // A name already taken is shown at the name.
    browser
        .post("/sources", &source_fields("other", "5432"))
        .await
        .expect(303);
    let taken = browser
        .post(&format!("/sources/{id}"), &source_fields("other", "5432"))
        .await
        .expect(422);
    assert!(
        taken
            .field_error("name")
            .unwrap()
            .contains("already exists"),
        "{}",
        taken.html
    );
}

#[tokio::test]
async fn destinations_have_typed_forms_whose_secrets_are_write_only() {
    let app = spawn_app().await;
    let mut browser = Visitor::new(&app.address);
    let chooser = browser.get("/destinations/new").await.expect(200);
    chooser
        .shows("/destinations/new?type=postgres")
        .shows("/destinations/new?type=snowflake");
    browser
        .get("/destinations/new?type=postgres")
        .await
        .expect(200)
        .shows("PostgreSQL server");
    browser
        .get("/destinations/new?type=snowflake")
        .await
        .expect(200)
        .shows("Private key file")
        .shows("changelog");

    // PostgreSQL: a missing host and a bad port, at their fields.
    let refused = browser
        .post(
            "/destinations",
            &[
                ("type", "POSTGRES"),
                ("name", "dw"),
                ("config.port", "0"),
                ("config.database", "dw"),
                ("config.username", "loader"),
                ("config.password", DESTINATION_PASSWORD),
            ],
        )
        .await
        .expect(422);
    assert_eq!(
        refused.field_error("config.host").as_deref(),
        Some("Field required")
    );
    assert!(
        refused.field_error("config.port").is_some(),
        "{}",
        refused.html
    );
    refused.hides(DESTINATION_PASSWORD);

    let created = browser
        .post(
            "/destinations",
            &[
                ("type", "POSTGRES"),
                ("name", "dw"),
                ("config.host", "warehouse.example.com"),
                ("config.port", "5432"),
                ("config.database", "dw"),
                ("config.username", "loader"),
                ("config.schema", "raw"),
                ("config.password", DESTINATION_PASSWORD),
            ],
        )
        .await
        .expect(303);
    let path = created.location().to_owned();
    let id = path.trim_start_matches("/destinations/").to_owned();
    browser
        .get(&path)
        .await
        .expect(200)
        .shows("warehouse.example.com")
        .shows("raw")
        .shows("stored (never shown)")
        .hides(DESTINATION_PASSWORD);
    let secret_sql =
        format!("SELECT config->>'password' AS secret FROM destinations WHERE id = {id}");
    let field = rosetta_metadata_store::SecretField::new(
        "destinations",
        id.parse().unwrap(),
        "config.password",
    );
    assert_eq!(
        open_stored_secret(&stored(&app, &secret_sql).await, field),
        DESTINATION_PASSWORD
    );
    let edit = browser.get(&format!("{path}/edit")).await.expect(200);
    assert_eq!(edit.input_value("config.password").as_deref(), Some(""));
    edit.hides(DESTINATION_PASSWORD);
    browser
        .post(
            &path,
            &[
                ("type", "POSTGRES"),
                ("name", "dw"),
                ("config.host", "replica.example.com"),
                ("config.port", "5432"),
                ("config.database", "dw"),
                ("config.username", "loader"),
                ("config.schema", "raw"),
                ("config.password", ""),
            ],
        )
        .await
        .expect(303);
    assert_eq!(
        open_stored_secret(&stored(&app, &secret_sql).await, field),
        DESTINATION_PASSWORD,
        "an empty password field keeps the stored one"
    );
    let api = app
        .get(&format!("/api/v1/destinations/{id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(api["config"]["host"], "replica.example.com");

    // Snowflake: mode chosen from the form, passphrase write-only.
    let created = browser
        .post(
            "/destinations",
            &[
                ("type", "SNOWFLAKE"),
                ("name", "sf"),
                ("config.account", "myorg-acct"),
                ("config.user", "LOADER"),
                ("config.database", "RAW"),
                ("config.schema", "PUBLIC"),
                ("config.private_key_path", "/etc/rosetta/key.p8"),
                ("config.private_key_passphrase", PASSPHRASE),
                ("config.mode", "changelog"),
            ],
        )
        .await
        .expect(303);
    let page = browser.get(created.location()).await.expect(200);
    page.shows("myorg-acct")
        .shows("changelog")
        .shows("/etc/rosetta/key.p8")
        .hides(PASSPHRASE);
    let list = browser.get("/destinations").await.expect(200);
    list.shows("dw")
        .shows("sf")
        .shows("SNOWFLAKE")
        .hides(PASSPHRASE)
        .hides(DESTINATION_PASSWORD);
}

#[tokio::test]
async fn a_pipeline_is_created_from_the_catalogue_and_its_missing_ends_are_named() {
    let app = spawn_app().await;
    let mut browser = Visitor::new(&app.address);
    // With nothing to link, the form says what to add first.
    browser
        .get("/pipelines/new")
        .await
        .expect(200)
        .shows("Add a source")
        .shows("Add a destination");
    let source = app.create_source("src").await;
    let destination = app.create_destination("dst").await;
    let form = browser.get("/pipelines/new").await.expect(200);
    form.shows("src (db.example.com/shop)")
        .shows("dst (POSTGRES)");
    let (sid, did) = (source["id"].to_string(), destination["id"].to_string());

    let refused = browser
        .post(
            "/pipelines",
            &[
                ("name", ""),
                ("source_id", ""),
                ("destination_id", &did),
                ("status", "PAUSE"),
            ],
        )
        .await
        .expect(422);
    assert_eq!(
        refused.field_error("name").as_deref(),
        Some("Field required")
    );
    assert_eq!(
        refused.field_error("source_id").as_deref(),
        Some("Field required")
    );

    let missing = browser
        .post(
            "/pipelines",
            &[
                ("name", "p"),
                ("source_id", "999999"),
                ("destination_id", &did),
            ],
        )
        .await
        .expect(422);
    assert!(
        missing
            .field_error("source_id")
            .unwrap()
            .contains("does not exist"),
        "{}",
        missing.html
    );

    let created = browser
        .post(
            "/pipelines",
            &[
                ("name", "orders-to-dw"),
                ("source_id", &sid),
                ("destination_id", &did),
                ("status", "PAUSE"),
            ],
        )
        .await
        .expect(303);
    let page = browser.get(created.location()).await.expect(200);
    page.shows("Pipeline orders-to-dw")
        .shows("PAUSE")
        .shows("badge paused");
    let list = browser.get("/pipelines").await.expect(200);
    list.shows("orders-to-dw").shows("id=\"pipeline-");

    // Edited: a new name; the source emptied is an error.
    let path = created.location().to_owned();
    browser
        .post(
            &path,
            &[
                ("name", "renamed"),
                ("source_id", &sid),
                ("destination_id", &did),
            ],
        )
        .await
        .expect(303);
    browser
        .get(&path)
        .await
        .expect(200)
        .shows("Pipeline renamed");
    let emptied = browser
        .post(
            &path,
            &[
                ("name", "renamed"),
                ("source_id", ""),
                ("destination_id", &did),
            ],
        )
        .await
        .expect(422);
    assert!(
        emptied.field_error("source_id").is_some(),
        "{}",
        emptied.html
    );
}
