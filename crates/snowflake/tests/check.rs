//! The destination check against the Snowflake emulator (fakesnow) at `$SNOWFLAKE_EMULATOR_URL`
//! (`scripts/test.sh` starts it): a good key signs in and every step passes; a missing key, a
//! wrong passphrase, a PKCS#1 key and an unreachable account fail their step with a clear
//! message that holds no secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use chrono::Utc;
use rosetta_domain::ports::DestinationWriter;
use rosetta_domain::{
    Destination, DestinationConfig, DestinationId, DiagnosticCheck, Name, Secret, SnowflakeConfig,
    SnowflakeMode, Text,
};
use rosetta_snowflake::SnowflakeWriter;

use rosetta_test_support::snowflake::{emulator, Keys, PASSPHRASE};

fn text(value: &str) -> Text {
    Text::parse(value).unwrap()
}

fn destination(host: &str, key: Option<&Path>, passphrase: Option<&str>) -> Destination {
    let now = Utc::now();
    Destination {
        id: DestinationId::new(1),
        name: Name::parse("warehouse").unwrap(),
        config: DestinationConfig::Snowflake(SnowflakeConfig {
            account: text("xy12345.us-east-2.aws"),
            user: text("loader"),
            database: text(&format!("check_{}", std::process::id())),
            schema: text("raw"),
            role: Some(text("loader_role")),
            warehouse: Some(text("load_wh")),
            host: Some(text(host)),
            private_key_path: key.map(|path| text(path.to_str().unwrap())),
            private_key_passphrase: passphrase.map(|p| Secret::parse(p).unwrap()),
            mode: SnowflakeMode::Mirror,
        }),
        created_at: now,
        updated_at: now,
    }
}

async fn check(destination: &Destination) -> Vec<DiagnosticCheck> {
    SnowflakeWriter::new().check(destination).await
}

fn names(checks: &[DiagnosticCheck]) -> Vec<(&str, bool)> {
    checks.iter().map(|c| (c.name, c.passed)).collect()
}

fn no_secret_in(checks: &[DiagnosticCheck], key: &Path) {
    let key_text = std::fs::read_to_string(key).unwrap();
    let key_body = key_text.lines().nth(1).unwrap();
    for check in checks {
        assert!(!check.detail.contains(PASSPHRASE), "{check:?}");
        assert!(!check.detail.contains(key_body), "{check:?}");
    }
}

#[tokio::test]
async fn an_encrypted_key_signs_in_and_every_step_passes() {
    let keys = Keys::new("snowflake-check");
    let (_, encrypted) = keys.pkcs8();
    let checks = check(&destination(
        &emulator(),
        Some(&encrypted),
        Some(PASSPHRASE),
    ))
    .await;
    assert_eq!(
        names(&checks),
        [
            ("private_key", true),
            ("sign_in", true),
            ("warehouse", true),
            ("create_schema", true),
            ("create_table", true),
        ],
        "{checks:#?}"
    );
    assert!(checks[0].detail.contains("SHA256:"), "{}", checks[0].detail);
    assert!(
        checks[1].detail.contains("account XY12345") && checks[1].detail.contains("LOADER"),
        "{}",
        checks[1].detail
    );
    no_secret_in(&checks, &encrypted);
}

#[tokio::test]
async fn a_plain_key_needs_no_passphrase_and_no_warehouse_is_only_advice() {
    let keys = Keys::new("snowflake-check");
    let (plain, _) = keys.pkcs8();
    let mut destination = destination(&emulator(), Some(&plain), None);
    if let DestinationConfig::Snowflake(config) = &mut destination.config {
        config.warehouse = None;
    }
    let checks = check(&destination).await;
    assert_eq!(
        names(&checks),
        [
            ("private_key", true),
            ("sign_in", true),
            ("warehouse", false),
            ("create_schema", true),
            ("create_table", true),
        ],
        "{checks:#?}"
    );
    assert!(!checks[2].required);
}

#[tokio::test]
async fn a_wrong_or_missing_passphrase_fails_reading_the_key_without_showing_it() {
    let keys = Keys::new("snowflake-check");
    let (_, encrypted) = keys.pkcs8();
    for passphrase in [Some("not the passphrase"), None] {
        let checks = check(&destination(&emulator(), Some(&encrypted), passphrase)).await;
        assert_eq!(names(&checks), [("private_key", false)], "{checks:#?}");
        assert!(checks[0].required);
        assert!(
            checks[0].detail.to_lowercase().contains("passphrase"),
            "{}",
            checks[0].detail
        );
        no_secret_in(&checks, &encrypted);
        if let Some(wrong) = passphrase {
            assert!(!checks[0].detail.contains(wrong), "{}", checks[0].detail);
        }
    }
}

#[tokio::test]
async fn a_key_snowflake_cannot_use_or_no_key_at_all_is_a_clear_failure() {
    let keys = Keys::new("snowflake-check");
    let pkcs1 = keys.pkcs1();
    let checks = check(&destination(&emulator(), Some(&pkcs1), None)).await;
    assert_eq!(names(&checks), [("private_key", false)], "{checks:#?}");
    assert!(checks[0].detail.contains("PKCS#8"), "{}", checks[0].detail);
    no_secret_in(&checks, &pkcs1);

    let missing = keys.dir().join("nowhere.p8");
    let checks = check(&destination(&emulator(), Some(&missing), None)).await;
    assert_eq!(names(&checks), [("private_key", false)], "{checks:#?}");
    assert!(
        checks[0].detail.contains("nowhere.p8"),
        "{}",
        checks[0].detail
    );

    let checks = check(&destination(&emulator(), None, None)).await;
    assert_eq!(names(&checks), [("private_key", false)], "{checks:#?}");
    assert!(
        checks[0].detail.contains("private_key_path"),
        "{}",
        checks[0].detail
    );
}

#[tokio::test]
async fn an_unreachable_account_or_a_plain_http_host_fails_the_sign_in() {
    let keys = Keys::new("snowflake-check");
    let (plain, _) = keys.pkcs8();
    // A port nothing listens on: the sign-in retries with backoff, then reports the failure.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let checks = check(&destination(
        &format!("http://127.0.0.1:{closed}"),
        Some(&plain),
        None,
    ))
    .await;
    assert_eq!(
        names(&checks),
        [("private_key", true), ("sign_in", false)],
        "{checks:#?}"
    );
    assert!(
        checks[1]
            .detail
            .contains(&format!("cannot reach http://127.0.0.1:{closed}/")),
        "{}",
        checks[1].detail
    );

    let checks = check(&destination("http://sf.example.com", Some(&plain), None)).await;
    assert_eq!(
        names(&checks),
        [("private_key", true), ("sign_in", false)],
        "{checks:#?}"
    );
    assert!(
        checks[1].detail.contains("loopback"),
        "{}",
        checks[1].detail
    );
}

#[tokio::test]
async fn a_statement_snowflake_refuses_carries_its_code_and_message() {
    let keys = Keys::new("snowflake-check");
    let (plain, _) = keys.pkcs8();
    let DestinationConfig::Snowflake(config) = destination(&emulator(), Some(&plain), None).config
    else {
        unreachable!()
    };
    let key = rosetta_snowflake::KeyPair::read(&plain, None).unwrap();
    let issuer = rosetta_snowflake::JwtIssuer::new(config.account.as_str(), "loader", key);
    let target = rosetta_snowflake::Target {
        base: rosetta_snowflake::base_url("a", Some(&emulator())).unwrap(),
        database: config.database.as_str().to_owned(),
        schema: "raw".to_owned(),
        role: None,
        warehouse: None,
    };
    let http = rosetta_snowflake::http_client().unwrap();
    let client = rosetta_snowflake::Client::new(http, target, issuer);
    let mut session = client.sign_in().await.unwrap();
    let error = session
        .execute("SELECT * FROM \"NO_SUCH_TABLE\"", &[])
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("code 002003"), "{message}");
    assert!(message.contains("NO_SUCH_TABLE"), "{message}");
    assert!(!error.is_transient());
    let outcome = session
        .execute(
            "CREATE TABLE IF NOT EXISTS \"COUNTED\" (\"ID\" NUMBER(38,0))",
            &[],
        )
        .await
        .unwrap();
    assert!(!outcome.query_id.is_empty());
    let inserted = session
        .execute(
            "INSERT INTO \"COUNTED\" (\"ID\") SELECT C1::NUMBER(38,0) FROM (VALUES (?), (?), (?)) AS V (C1)",
            &[Some("1"), Some("2"), None],
        )
        .await
        .unwrap();
    assert_eq!(inserted.count(), Some(3));
    session.close().await;
}
