//! Checking a destination on demand: each step a first run takes, stopping at the first that
//! fails with a detail that says why (never the password), and leaving nothing but the
//! destination's schema behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rosetta_domain::ports::DestinationWriter;
use rosetta_domain::{
    Destination, DestinationConfig, DiagnosticCheck, PipelineId, PortNumber, Text,
};

/// A login role of one test's own, without any privilege, dropped when this is (declare it
/// before the database, so that the database, holding its grants, goes first).
struct TestRole {
    name: String,
}

impl TestRole {
    async fn new() -> Self {
        let name = format!(
            "rosetta_check_role_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_subsec_nanos()
        );
        connect("postgres")
            .await
            .batch_execute(&format!("CREATE ROLE {name} LOGIN"))
            .await
            .unwrap();
        Self { name }
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        if !execute_from_drop(format!("DROP ROLE IF EXISTS {}", self.name)) {
            eprintln!("could not drop the test role {}", self.name);
        }
    }
}

fn postgres_config(destination: &mut Destination) -> &mut rosetta_domain::PostgresConfig {
    match &mut destination.config {
        DestinationConfig::Postgres(config) => config,
        DestinationConfig::Snowflake(_) => unreachable!("a PostgreSQL destination"),
    }
}

/// `destination` signing in as `role`.
fn as_role(mut destination: Destination, role: &TestRole) -> Destination {
    postgres_config(&mut destination).username = Text::parse(&role.name).unwrap();
    destination
}

fn names(checks: &[DiagnosticCheck]) -> Vec<&'static str> {
    checks.iter().map(|check| check.name).collect()
}

/// Asserts the checks passed up to the last, which failed; returns its detail.
#[track_caller]
fn failed_at<'a>(checks: &'a [DiagnosticCheck], expected: &[&str]) -> &'a str {
    assert_eq!(names(checks), expected, "{checks:#?}");
    let (last, passed) = checks.split_last().unwrap();
    assert!(passed.iter().all(|check| check.passed), "{checks:#?}");
    assert!(!last.passed && last.required, "{checks:#?}");
    assert!(
        checks.iter().all(|check| !check.detail.contains(PASSWORD)),
        "{checks:#?}"
    );
    &last.detail
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    db.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_destination_the_role_may_write_passes_every_step_and_keeps_only_its_schema() {
    let db = TestDatabase::new().await;

    let checks = writer().check(&db.destination("mirror")).await;

    assert_eq!(
        names(&checks),
        ["connect", "create_schema", "create_table", "bookkeeping"]
    );
    assert!(
        checks.iter().all(|check| check.passed && check.required),
        "{checks:#?}"
    );
    assert!(checks[0].detail.contains(&db.name), "{}", checks[0].detail);
    assert_eq!(
        checks[1].detail,
        "created schema mirror, as the first run would"
    );
    assert!(checks.iter().all(|check| !check.detail.contains(PASSWORD)));
    // The schema stays; the trial table and the bookkeeping were rolled back.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'mirror'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'rosetta_check_%'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'rosetta'"
        )
        .await,
        0
    );

    // Checked again, the schema exists.
    let again = writer().check(&db.destination("mirror")).await;
    assert!(again.iter().all(|check| check.passed), "{again:#?}");
    assert_eq!(again[1].detail, "schema mirror exists");
}

#[tokio::test]
async fn a_destination_whose_bookkeeping_exists_passes_when_the_role_may_write_it() {
    let db = TestDatabase::new().await;
    // A first run creates the bookkeeping.
    drop(db.open(1).await);

    let checks = writer().check(&db.destination("mirror")).await;

    assert!(checks.iter().all(|check| check.passed), "{checks:#?}");
    let user = server().get_user().unwrap_or("postgres").to_owned();
    assert_eq!(
        checks[3].detail,
        format!("Rosetta's bookkeeping (schema rosetta) exists and role {user} may write it")
    );
}

#[tokio::test]
async fn an_unreachable_destination_fails_connect_naming_it_without_the_password() {
    let db = TestDatabase::new().await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut closed = db.destination("mirror");
    let config = postgres_config(&mut closed);
    config.host = Text::parse("127.0.0.1").unwrap();
    config.port = PortNumber::new(port.into()).unwrap();
    let mut unknown = db.destination("mirror");
    postgres_config(&mut unknown).host = Text::parse("no-such-host.invalid").unwrap();

    let detail = failed_at(&writer().check(&closed).await, &["connect"]).to_owned();
    assert!(
        detail.starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")),
        "{detail}"
    );
    let detail = failed_at(&writer().check(&unknown).await, &["connect"]).to_owned();
    assert!(
        detail.starts_with("cannot connect to no-such-host.invalid:"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_login_the_server_refuses_fails_connect_without_the_password() {
    let db = TestDatabase::new().await;
    let mut destination = db.destination("mirror");
    postgres_config(&mut destination).username = Text::parse("rosetta_no_such_role").unwrap();

    let checks = writer().check(&destination).await;

    let detail = failed_at(&checks, &["connect"]);
    assert!(detail.contains("rosetta_no_such_role"), "{detail}");
    assert!(detail.contains("SQLSTATE"), "{detail}");
}

#[tokio::test]
async fn a_role_without_create_on_the_database_fails_create_schema() {
    let role = TestRole::new().await;
    let db = TestDatabase::new().await;

    let checks = writer()
        .check(&as_role(db.destination("mirror"), &role))
        .await;

    let detail = failed_at(&checks, &["connect", "create_schema"]);
    assert!(
        detail.starts_with(&format!(
            "cannot create schema mirror (the role needs CREATE on database {}, or the schema \
             created for it): permission denied for database {}",
            db.name, db.name
        )),
        "{detail}"
    );
}

#[tokio::test]
async fn a_role_without_create_on_an_existing_schema_fails_create_table_leaving_nothing() {
    let role = TestRole::new().await;
    let db = TestDatabase::new().await;
    db.client()
        .await
        .batch_execute(&format!(
            "CREATE SCHEMA mirror; GRANT USAGE ON SCHEMA mirror TO {}",
            role.name
        ))
        .await
        .unwrap();

    let checks = writer()
        .check(&as_role(db.destination("mirror"), &role))
        .await;

    let detail = failed_at(&checks, &["connect", "create_schema", "create_table"]);
    assert!(
        detail.starts_with(
            "cannot create a table in schema mirror (the role needs CREATE on it): \
             permission denied for schema mirror"
        ),
        "{detail}"
    );
    assert_eq!(checks[1].detail, "schema mirror exists");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'rosetta_check_%'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_role_that_may_write_its_schema_but_not_create_the_bookkeeping_fails_bookkeeping() {
    let role = TestRole::new().await;
    let db = TestDatabase::new().await;
    db.client()
        .await
        .batch_execute(&format!("CREATE SCHEMA mirror AUTHORIZATION {}", role.name))
        .await
        .unwrap();

    let checks = writer()
        .check(&as_role(db.destination("mirror"), &role))
        .await;

    let detail = failed_at(
        &checks,
        &["connect", "create_schema", "create_table", "bookkeeping"],
    );
    assert!(
        detail.starts_with("cannot create Rosetta's bookkeeping in schema rosetta"),
        "{detail}"
    );
    assert!(detail.contains("permission denied"), "{detail}");
}

#[tokio::test]
async fn a_role_that_may_not_write_the_existing_bookkeeping_fails_bookkeeping() {
    let role = TestRole::new().await;
    let db = TestDatabase::new().await;
    db.client()
        .await
        .batch_execute(&format!("CREATE SCHEMA mirror AUTHORIZATION {}", role.name))
        .await
        .unwrap();
    drop(
        writer()
            .open(&db.destination("mirror"), PipelineId::new(7), 1)
            .await
            .unwrap(),
    );

    let checks = writer()
        .check(&as_role(db.destination("mirror"), &role))
        .await;

    let detail = failed_at(
        &checks,
        &["connect", "create_schema", "create_table", "bookkeeping"],
    );
    assert!(
        detail.contains(&format!("role {} may not write it", role.name)),
        "{detail}"
    );
}

#[tokio::test]
async fn a_destination_of_another_type_is_refused_by_the_postgres_writer() {
    let db = TestDatabase::new().await;
    let mut destination = db.destination("mirror");
    destination.config = DestinationConfig::Snowflake(rosetta_domain::SnowflakeConfig {
        account: Text::parse("acme").unwrap(),
        user: Text::parse("loader").unwrap(),
        database: Text::parse("raw").unwrap(),
        schema: Text::parse("cdc").unwrap(),
        role: None,
        warehouse: None,
        host: None,
        private_key_path: None,
        private_key_passphrase: None,
        mode: rosetta_domain::SnowflakeMode::Mirror,
    });

    let checks = writer().check(&destination).await;

    assert_eq!(names(&checks), ["writer"]);
    assert!(!checks[0].passed);
}
