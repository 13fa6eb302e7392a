//! Secrets at rest, seen from both sides: through the repositories they read back in clear; in
//! the raw tables there is no secret in clear, and a ciphertext moved by SQL does not decrypt.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use rosetta_domain::ports::{
    DestinationRepository, DestinationRepositoryError, PipelineRepository, PipelineRepositoryError,
    SourceRepository, SourceRepositoryError,
};
use rosetta_domain::{
    DestinationConfig, DestinationUpdate, InitialPipelineStatus, PageRequest, SourceUpdate,
};
use rosetta_metadata_store::{
    count_plaintext_secrets, reencrypt_secrets, PgDestinationRepository, PgPipelineRepository,
    PgSourceRepository, RotationMode, RotationOptions, RotationReport, SecretCipher,
};
use rosetta_test_support::TestDb;

/// Every secret the fixtures store.
const SECRETS: [&str; 3] = [
    "source-password-1",
    "destination-password-1",
    "passphrase-1",
];

fn assert_nothing_in_clear(dump: &[String]) {
    for row in dump {
        for secret in SECRETS {
            assert!(!row.contains(secret), "{secret} in clear: {row}");
        }
    }
}

/// Every column of every row of the tables holding secrets, as text.
async fn dump(db: &TestDb) -> Vec<String> {
    let mut rows = raw_texts(db, "SELECT t::text AS value FROM sources t").await;
    rows.extend(raw_texts(db, "SELECT t::text AS value FROM destinations t").await);
    rows
}

#[tokio::test]
async fn secrets_are_stored_encrypted_and_read_back_in_clear() {
    let db = TestDb::new().await;
    let sources = PgSourceRepository::new(db.pool(), cipher());
    let destinations = PgDestinationRepository::new(db.pool(), cipher());
    let pipelines = PgPipelineRepository::new(db.pool(), cipher());
    let source = sources.create(new_source("orders")).await.unwrap();
    let postgres = destinations
        .create(new_destination("pg", postgres_config()))
        .await
        .unwrap();
    let snowflake = destinations
        .create(new_destination("sf", snowflake_config()))
        .await
        .unwrap();

    let passwords = raw_texts(&db, "SELECT pg_password AS value FROM sources").await;
    assert_eq!(passwords.len(), 1);
    assert!(passwords[0].starts_with("rosetta:v1:1:"), "{passwords:?}");
    let configs = raw_texts(&db, "SELECT config::text AS value FROM destinations").await;
    assert_eq!(configs.len(), 2);
    for config in &configs {
        assert!(config.contains("\"rosetta:v1:1:"), "{config}");
    }
    assert_nothing_in_clear(&dump(&db).await);

    // What the repositories return carries the secrets in clear, from every read path.
    assert_eq!(
        source.pg_password.as_ref().map(|p| p.expose()),
        Some("source-password-1")
    );
    assert_eq!(sources.get(source.id).await.unwrap(), Some(source.clone()));
    assert_eq!(
        sources.list(PageRequest::default()).await.unwrap(),
        vec![source.clone()]
    );
    assert_eq!(
        destinations.get(postgres.id).await.unwrap(),
        Some(postgres.clone())
    );
    assert_eq!(
        destinations.list(PageRequest::default()).await.unwrap(),
        vec![postgres.clone(), snowflake.clone()]
    );
    assert_eq!(postgres.config, postgres_config());
    assert_eq!(snowflake.config, snowflake_config());
    let pipeline = pipelines
        .create(new_pipeline(
            "p",
            source.id,
            snowflake.id,
            InitialPipelineStatus::Pause,
        ))
        .await
        .unwrap();
    assert_eq!(pipeline.source, source);
    assert_eq!(pipeline.destination, snowflake);
}

#[tokio::test]
async fn updated_secrets_are_stored_encrypted_too() {
    let db = TestDb::new().await;
    let sources = PgSourceRepository::new(db.pool(), cipher());
    let destinations = PgDestinationRepository::new(db.pool(), cipher());
    let source = sources.create(new_source("orders")).await.unwrap();
    let destination = destinations
        .create(new_destination("dw", postgres_config()))
        .await
        .unwrap();
    let update = SourceUpdate {
        pg_password: Some(secret("source-password-1")),
        ..SourceUpdate::default()
    };
    let updated = sources.update(source.id, update).await.unwrap();
    assert_eq!(updated.pg_password, source.pg_password);
    let update = DestinationUpdate {
        config: Some(snowflake_config()),
        ..DestinationUpdate::default()
    };
    let updated = destinations.update(destination.id, update).await.unwrap();
    assert_eq!(updated.config, snowflake_config());
    assert_nothing_in_clear(&dump(&db).await);
}

#[tokio::test]
async fn a_ciphertext_copied_to_another_row_does_not_decrypt() {
    let db = TestDb::new().await;
    let sources = PgSourceRepository::new(db.pool(), cipher());
    let destinations = PgDestinationRepository::new(db.pool(), cipher());
    let pipelines = PgPipelineRepository::new(db.pool(), cipher());
    let a = sources.create(new_source("a")).await.unwrap();
    let b = sources.create(new_source("b")).await.unwrap();
    let pg = destinations
        .create(new_destination("pg", postgres_config()))
        .await
        .unwrap();
    let pg2 = destinations
        .create(new_destination("pg2", postgres_config()))
        .await
        .unwrap();
    pipelines
        .create(new_pipeline("p", b.id, pg.id, InitialPipelineStatus::Pause))
        .await
        .unwrap();
    raw_execute(
        &db,
        &format!(
            "UPDATE sources SET pg_password = (SELECT pg_password FROM sources WHERE id = {a})
             WHERE id = {b};
             UPDATE destinations SET config = (SELECT config FROM destinations WHERE id = {pg})
             WHERE id = {pg2};",
            a = a.id.get(),
            b = b.id.get(),
            pg = pg.id.get(),
            pg2 = pg2.id.get(),
        ),
    )
    .await;

    let expected = format!(
        "cannot decrypt sources {} pg_password: tampered with, or copied from another row \
         (or key 1 is not the key that encrypted it)",
        b.id.get()
    );
    match sources.get(b.id).await {
        Err(SourceRepositoryError::Unknown(e)) => assert_eq!(e.to_string(), expected),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        sources.list(PageRequest::default()).await,
        Err(SourceRepositoryError::Unknown(_))
    ));
    match pipelines.list(PageRequest::default(), None).await {
        Err(PipelineRepositoryError::Unknown(e)) => assert_eq!(e.to_string(), expected),
        other => panic!("{other:?}"),
    }
    match destinations.get(pg2.id).await {
        Err(DestinationRepositoryError::Unknown(e)) => assert_eq!(
            e.to_string(),
            format!(
                "cannot decrypt destinations {} config.password: tampered with, or copied from \
                 another row (or key 1 is not the key that encrypted it)",
                pg2.id.get()
            )
        ),
        other => panic!("{other:?}"),
    }
    // The rows the ciphertexts came from still read.
    assert_eq!(sources.get(a.id).await.unwrap(), Some(a));
    assert_eq!(destinations.get(pg.id).await.unwrap(), Some(pg));
}

#[tokio::test]
async fn a_secret_under_a_key_no_longer_configured_fails_clearly() {
    let db = TestDb::new().await;
    let newer = Arc::new(SecretCipher::new([(1, TEST_KEY), (2, [0x77; 32])]).unwrap());
    let source = PgSourceRepository::new(db.pool(), newer)
        .create(new_source("orders"))
        .await
        .unwrap();
    let error = PgSourceRepository::new(db.pool(), cipher())
        .get(source.id)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot decrypt sources {} pg_password: encrypted with key 2, which is not configured",
            source.id.get()
        )
    );
}

/// Rows as a version without encryption at rest wrote them.
async fn insert_legacy_rows(db: &TestDb) {
    raw_execute(
        db,
        r#"INSERT INTO sources (name, pg_host, pg_database, pg_username, pg_password,
                                publication_name, replication_id)
           VALUES ('legacy', 'db.example.com', 'shop', 'replicator', 'source-password-1',
                   'shop_pub', 7),
                  ('nopassword', 'db.example.com', 'shop', 'replicator', NULL, 'shop_pub', 7);
           INSERT INTO destinations (name, type, config) VALUES
             ('legacy-pg', 'POSTGRES', '{"host": "warehouse", "port": 5432, "database": "dw",
               "username": "loader", "schema": "public", "password": "destination-password-1"}'),
             ('legacy-sf', 'SNOWFLAKE', '{"account": "acme-eu", "user": "LOADER",
               "database": "RAW", "schema": "CDC", "private_key_passphrase": "passphrase-1"}');"#,
    )
    .await;
}

#[tokio::test]
async fn legacy_plaintext_rows_read_and_the_start_up_pass_encrypts_them() {
    let db = TestDb::new().await;
    insert_legacy_rows(&db).await;
    // One value already encrypted, under an older key: the plaintext pass leaves it alone.
    let current = PgSourceRepository::new(db.pool(), cipher())
        .create(new_source("current"))
        .await
        .unwrap();
    let newer = Arc::new(SecretCipher::new([(1, TEST_KEY), (2, [0x77; 32])]).unwrap());
    let sources = PgSourceRepository::new(db.pool(), newer.clone());
    let destinations = PgDestinationRepository::new(db.pool(), newer.clone());
    let before_sources = sources.list(PageRequest::default()).await.unwrap();
    let before_destinations = destinations.list(PageRequest::default()).await.unwrap();
    assert_eq!(
        before_sources[0].pg_password.as_ref().map(|p| p.expose()),
        Some("source-password-1")
    );
    assert_eq!(before_destinations[0].config, postgres_config());
    assert!(matches!(
        before_destinations[1].config,
        DestinationConfig::Snowflake(ref c)
            if c.private_key_passphrase.as_ref().map(|p| p.expose()) == Some("passphrase-1")
    ));
    assert_eq!(count_plaintext_secrets(&db.pool()).await.unwrap(), 3);

    let report = reencrypt_secrets(
        &db.pool(),
        &newer,
        RotationOptions::new(RotationMode::PlaintextOnly),
    )
    .await
    .unwrap();
    assert_eq!(
        report,
        RotationReport {
            examined: 3,
            reencrypted: 0,
            plaintext_encrypted: 3,
            remaining: 0
        }
    );
    assert_eq!(count_plaintext_secrets(&db.pool()).await.unwrap(), 0);
    assert_nothing_in_clear(&dump(&db).await);
    let passwords = raw_texts(
        &db,
        "SELECT pg_password AS value FROM sources WHERE pg_password IS NOT NULL ORDER BY id",
    )
    .await;
    assert!(passwords[0].starts_with("rosetta:v1:2:"), "{passwords:?}");
    assert!(passwords[1].starts_with("rosetta:v1:1:"), "{passwords:?}");
    assert_eq!(
        sources.list(PageRequest::default()).await.unwrap(),
        before_sources
    );
    assert_eq!(
        destinations.list(PageRequest::default()).await.unwrap(),
        before_destinations
    );
    assert_eq!(sources.get(current.id).await.unwrap(), Some(current));
}
