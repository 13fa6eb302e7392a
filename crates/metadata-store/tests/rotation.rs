//! Key rotation against a real PostgreSQL: everything moves to the newest key so that old keys
//! can go, a dry run writes nothing, an interrupted run resumes, and nothing is lost or garbled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use rosetta_domain::ports::{DestinationRepository, SourceRepository};
use rosetta_domain::{Destination, PageRequest, Source};
use rosetta_metadata_store::{
    reencrypt_secrets, CipherError, PgDestinationRepository, PgSourceRepository, RotationError,
    RotationMode, RotationOptions, RotationReport, SecretCipher,
};
use rosetta_test_support::TestDb;

const KEY_2: [u8; 32] = [0x77; 32];

fn keys(ids: &[u32]) -> Arc<SecretCipher> {
    let all = [(1, TEST_KEY), (2, KEY_2)];
    Arc::new(SecretCipher::new(all.into_iter().filter(|(id, _)| ids.contains(id))).unwrap())
}

/// Three sources with a password, one without, and two destinations with a secret each, all
/// under key 1: five secret values.
async fn stored_under_key_1(db: &TestDb) -> (Vec<Source>, Vec<Destination>) {
    let sources = PgSourceRepository::new(db.pool(), keys(&[1]));
    for name in ["a", "b", "c"] {
        sources.create(new_source(name)).await.unwrap();
    }
    let mut without = new_source("d");
    without.pg_password = None;
    sources.create(without).await.unwrap();
    let destinations = PgDestinationRepository::new(db.pool(), keys(&[1]));
    destinations
        .create(new_destination("pg", postgres_config()))
        .await
        .unwrap();
    destinations
        .create(new_destination("sf", snowflake_config()))
        .await
        .unwrap();
    read_all(db, keys(&[1])).await
}

async fn read_all(db: &TestDb, cipher: Arc<SecretCipher>) -> (Vec<Source>, Vec<Destination>) {
    let sources = PgSourceRepository::new(db.pool(), cipher.clone())
        .list(PageRequest::default())
        .await
        .unwrap();
    let destinations = PgDestinationRepository::new(db.pool(), cipher)
        .list(PageRequest::default())
        .await
        .unwrap();
    (sources, destinations)
}

/// The key ids of the stored secrets, sources first.
async fn stored_key_ids(db: &TestDb) -> Vec<String> {
    raw_texts(
        db,
        "SELECT split_part(v, ':', 3) AS value FROM (
           (SELECT pg_password AS v, 0 AS t, id FROM sources WHERE pg_password IS NOT NULL)
           UNION ALL
           (SELECT s.v, 1, id FROM destinations,
              LATERAL (SELECT config->>'password' UNION ALL
                       SELECT config->>'private_key_passphrase') AS s(v)
            WHERE s.v IS NOT NULL)
         ) x ORDER BY t, id",
    )
    .await
}

/// Every column of every source, as text, in id order.
async fn raw_sources(db: &TestDb) -> Vec<String> {
    raw_texts(db, "SELECT t::text AS value FROM sources t ORDER BY id").await
}

/// Rotates the secrets of `db` to key 2, with keys 1 and 2 configured.
async fn rotate(db: &TestDb, options: RotationOptions) -> RotationReport {
    reencrypt_secrets(&db.pool(), &keys(&[1, 2]), options)
        .await
        .unwrap()
}

/// What a run reports that examined and moved values, none of them plaintext.
fn moved(examined: u64, reencrypted: u64, remaining: u64) -> RotationReport {
    RotationReport {
        examined,
        reencrypted,
        plaintext_encrypted: 0,
        remaining,
    }
}

fn options(batch_size: u32) -> RotationOptions {
    RotationOptions {
        batch_size,
        ..RotationOptions::new(RotationMode::AllToNewest)
    }
}

#[tokio::test]
async fn rotation_moves_every_secret_to_the_newest_key_and_the_old_key_can_go() {
    let db = TestDb::new().await;
    let before = stored_under_key_1(&db).await;
    assert_eq!(stored_key_ids(&db).await, ["1"; 5]);

    let report = rotate(&db, options(2)).await;
    assert_eq!(report, moved(5, 5, 0));
    assert_eq!(stored_key_ids(&db).await, ["2"; 5]);
    assert_eq!(read_all(&db, keys(&[2])).await, before);

    // Nothing is left to do: a second run changes nothing.
    let raw = raw_sources(&db).await;
    let again = rotate(&db, options(2)).await;
    assert_eq!(again, RotationReport::default());
    assert_eq!(raw_sources(&db).await, raw);
}

#[tokio::test]
async fn a_dry_run_counts_and_writes_nothing() {
    let db = TestDb::new().await;
    stored_under_key_1(&db).await;
    let raw = raw_sources(&db).await;
    let report = rotate(
        &db,
        RotationOptions {
            dry_run: true,
            ..options(1)
        },
    )
    .await;
    assert_eq!(report, moved(5, 5, 5));
    assert_eq!(stored_key_ids(&db).await, ["1"; 5]);
    assert_eq!(raw_sources(&db).await, raw);
}

#[tokio::test]
async fn an_interrupted_rotation_resumes_where_it_stopped() {
    let db = TestDb::new().await;
    let before = stored_under_key_1(&db).await;
    let interrupted = rotate(
        &db,
        RotationOptions {
            max_batches: Some(1),
            ..options(1)
        },
    )
    .await;
    assert_eq!(interrupted, moved(1, 1, 4));
    assert_eq!(stored_key_ids(&db).await, ["2", "1", "1", "1", "1"]);
    // Mid-rotation, both keys are needed and everything reads.
    assert_eq!(read_all(&db, keys(&[1, 2])).await, before);

    let resumed = rotate(&db, options(1)).await;
    assert_eq!(resumed, moved(4, 4, 0));
    assert_eq!(read_all(&db, keys(&[2])).await, before);
}

#[tokio::test]
async fn rows_another_writer_holds_are_left_for_the_next_run() {
    let db = TestDb::new().await;
    let before = stored_under_key_1(&db).await;
    let mut holder = AsyncPgConnection::establish(db.url()).await.unwrap();
    holder
        .batch_execute("BEGIN; SELECT * FROM sources WHERE name = 'b' FOR UPDATE;")
        .await
        .unwrap();
    let report = rotate(&db, options(10)).await;
    assert_eq!((report.reencrypted, report.remaining), (4, 1));
    assert_eq!(stored_key_ids(&db).await, ["2", "1", "2", "2", "2"]);
    holder.batch_execute("COMMIT").await.unwrap();
    let report = rotate(&db, options(10)).await;
    assert_eq!((report.reencrypted, report.remaining), (1, 0));
    assert_eq!(read_all(&db, keys(&[2])).await, before);
}

#[tokio::test]
async fn a_secret_that_does_not_decrypt_stops_the_rotation_and_names_it() {
    let db = TestDb::new().await;
    stored_under_key_1(&db).await;
    raw_execute(
        &db,
        "UPDATE sources SET pg_password = (SELECT pg_password FROM sources WHERE name = 'a')
         WHERE name = 'c'",
    )
    .await;
    let c = raw_texts(
        &db,
        "SELECT id::text AS value FROM sources WHERE name = 'c'",
    )
    .await;
    let error = reencrypt_secrets(&db.pool(), &keys(&[1, 2]), options(1))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RotationError::Cipher(CipherError::Tampered { .. })),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "cannot decrypt sources {} pg_password: tampered with, or copied from another row \
             (or key 1 is not the key that encrypted it)",
            c[0]
        )
    );
    // The batches before it are kept; the failing one wrote nothing.
    assert_eq!(stored_key_ids(&db).await, ["2", "2", "1", "1", "1"]);
}
