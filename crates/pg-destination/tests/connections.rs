//! Connections: TLS when the server offers it, and failures that say where and whether
//! trying again may help, never with the password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rosetta_domain::ports::{DestinationError, DestinationWriter};
use rosetta_domain::{DestinationConfig, PipelineId, PortNumber};

#[tokio::test]
async fn the_session_is_encrypted_when_the_server_offers_tls() {
    let db = TestDatabase::new().await;
    let client = db.client().await;
    let offered: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    let _session = db.open(1).await;
    let encrypted: Vec<bool> = client
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'rosetta-pipeline:7' AND a.datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(encrypted, [offered == "on"]);
}

#[tokio::test]
async fn an_unreachable_destination_is_a_transient_connect_error_naming_it() {
    let db = TestDatabase::new().await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut destination = db.destination("mirror");
    if let DestinationConfig::Postgres(config) = &mut destination.config {
        config.port = PortNumber::new(port.into()).unwrap();
    }
    let error = writer()
        .open(&destination, PipelineId::new(7), 1)
        .await
        .map(|_| ())
        .unwrap_err();
    let expected = format!("{}:{port}", db_host());
    assert!(
        matches!(&error, DestinationError::Connect { host, .. } if *host == expected),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(!format!("{error} {error:?}").contains(PASSWORD));
}

#[tokio::test]
async fn a_connection_the_server_ends_is_lost_and_transient() {
    let db = TestDatabase::new().await;
    let orders = table(16_400, "orders", vec![column("id", "bigint", true)]);
    let mut session = db.open(1).await;
    session.prepare_table(&orders).await.unwrap();
    db.client()
        .await
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'rosetta-pipeline:7' AND datname = current_database()",
            &[],
        )
        .await
        .unwrap();
    let error = session
        .apply(&[insert(&orders, &[text("1")])])
        .await
        .unwrap_err();
    assert!(matches!(error, DestinationError::Lost { .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(error.to_string().contains(&db_host()), "{error}");
}

fn db_host() -> String {
    match server().get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    }
}
