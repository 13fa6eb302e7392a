//! TLS against the logical cluster, which has `ssl = on` with Debian's self-signed snakeoil
//! certificate: the server's own `pg_stat_ssl` says whether a session the adapter opened (found
//! by its `application_name`) is encrypted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{unique, Scratch};
use rosetta_domain::ports::{ReplicationError, ReplicationSource};
use rosetta_domain::replication::Lsn;
use rosetta_domain::SslMode;
use rosetta_pg_source::{PgReplicationSource, PgSourceSettings};
use tokio_postgres::Client;

/// Whether the session named `application_name` is encrypted, `None` when there is none.
async fn encrypted(admin: &Client, application_name: &str) -> Option<bool> {
    admin
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = $1",
            &[&application_name],
        )
        .await
        .unwrap()
        .first()
        .map(|row| row.get(0))
}

async fn scratch_with_tls() -> (Scratch, Client) {
    let scratch = Scratch::new().await;
    let db = scratch.client().await;
    let ssl: String = db.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    assert_eq!(
        ssl, "on",
        "the TLS tests need ssl = on on the logical cluster (with the snakeoil certificate)"
    );
    db.batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pub FOR TABLE t;")
        .await
        .unwrap();
    (scratch, db)
}

#[tokio::test]
async fn each_ssl_mode_encrypts_the_stream_and_the_snapshot_as_it_says() {
    let (scratch, db) = scratch_with_tls().await;
    let adapter = PgReplicationSource::new(PgSourceSettings::new());
    for (mode, expected) in [
        (SslMode::Disable, false),
        (SslMode::Prefer, true),
        (SslMode::Require, true),
    ] {
        let source = rosetta_domain::Source {
            ssl_mode: mode,
            ..scratch.source("pub")
        };
        let slot = unique("tls");
        let snapshot = adapter.create_slot(&source, &slot, false).await.unwrap();
        let anchor = encrypted(&db, &format!("rosetta:snapshot:{slot}")).await;
        assert_eq!(anchor, Some(expected), "the anchor under {mode}");
        snapshot.close().await;
        let mut stream = adapter.stream(&source, &slot, Lsn::ZERO).await.unwrap();
        let streaming = encrypted(&db, &format!("rosetta:{slot}")).await;
        assert_eq!(streaming, Some(expected), "the stream under {mode}");
        stream.close().await;
        assert!(adapter.drop_slot(&source, &slot).await.unwrap());
    }
}

#[tokio::test]
async fn verify_full_refuses_a_self_signed_certificate() {
    let (scratch, _db) = scratch_with_tls().await;
    let adapter = PgReplicationSource::new(PgSourceSettings::new());
    let source = rosetta_domain::Source {
        ssl_mode: SslMode::VerifyFull,
        ..scratch.source("pub")
    };
    let streaming = adapter
        .stream(&source, "tls_slot", Lsn::ZERO)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(streaming, ReplicationError::Connect { .. }),
        "{streaming:?}"
    );
    let message = streaming.to_string();
    assert!(message.contains("certificate"), "{message}");
    assert!(!message.contains(common::PASSWORD), "{message}");
    let facts = adapter.facts(&source, "tls_slot").await.unwrap_err();
    assert!(
        matches!(facts, ReplicationError::Connect { .. }),
        "{facts:?}"
    );
}
