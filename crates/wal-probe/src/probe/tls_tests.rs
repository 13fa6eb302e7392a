//! Tests of the TLS modes against the local PostgreSQL, which must have `ssl = on` with a
//! self-signed certificate (Debian's snakeoil one): the server's own `pg_stat_ssl` tells
//! whether a connection the probe opened is encrypted. They live inside the crate so that they
//! can open a connection exactly as a probe does (`PgWalProbe::open`) without a test hook in
//! the public API.

#[path = "../../tests/common/mod.rs"]
mod common;

use common::{admin, local_host, local_port, local_source, PASSWORD};
use rosetta_domain::ports::{WalProbe, WalProbeError};
use rosetta_domain::{Source, SslMode};

use crate::{PgWalProbe, ProbeSettings};

/// Whether a connection to `source`, opened exactly as a probe opens it, is encrypted, as the
/// server sees it in `pg_stat_ssl`.
async fn opened_encrypted(probe: &PgWalProbe, source: &Source) -> Result<bool, WalProbeError> {
    let host = source.address();
    probe
        .within_deadline(host.clone(), async {
            let session = probe.open(source, &host).await?;
            let outcome = session
                .client
                .query_typed_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await;
            session.close().await;
            let row = outcome.map_err(|e| crate::error::query(&host, &e))?;
            Ok(row.try_get(0).map_err(anyhow::Error::from)?)
        })
        .await
}

/// The local source in `mode`, after making sure the server offers TLS at all: without it
/// these tests would prove nothing, so they fail and say how to turn it on.
async fn source_in(mode: SslMode) -> Source {
    let row = admin().await.query_one("SHOW ssl", &[]).await.unwrap();
    let ssl: String = row.get(0);
    assert_eq!(
        ssl,
        "on",
        "the TLS tests need TLS on the PostgreSQL at {}:{}: set `ssl = on` with \
         `ssl_cert_file` and `ssl_key_file` (on Debian, the snakeoil pair from the ssl-cert \
         package) in postgresql.conf, then `SELECT pg_reload_conf()`",
        local_host(),
        local_port()
    );
    Source {
        ssl_mode: mode,
        ..local_source()
    }
}

#[tokio::test]
async fn disable_connects_over_plain_tcp() {
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));
    let source = source_in(SslMode::Disable).await;

    assert!(!opened_encrypted(&probe, &source).await.unwrap());
}

#[tokio::test]
async fn prefer_encrypts_when_the_server_offers_tls() {
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));
    let source = source_in(SslMode::Prefer).await;

    assert!(opened_encrypted(&probe, &source).await.unwrap());
}

#[tokio::test]
async fn require_encrypts_and_accepts_a_self_signed_certificate() {
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));
    let source = source_in(SslMode::Require).await;

    assert!(opened_encrypted(&probe, &source).await.unwrap());
    let reading = probe.probe(&source).await.unwrap();
    assert!(reading.position_bytes > 0, "{reading:?}");
}

#[tokio::test]
async fn verify_full_refuses_a_self_signed_certificate_and_says_why() {
    let probe = PgWalProbe::new(ProbeSettings::within(common::PROBE_TIMEOUT));
    let source = source_in(SslMode::VerifyFull).await;

    let error = probe.probe(&source).await.unwrap_err();

    let WalProbeError::Connect { host, reason } = &error else {
        panic!("expected a connect error, got {error:?}");
    };
    assert_eq!(*host, format!("{}:{}", local_host(), local_port()));
    assert!(reason.contains("invalid peer certificate"), "{reason}");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    assert!(!error.to_string().contains(PASSWORD), "{error}");
    assert!(!format!("{error:?}").contains(PASSWORD), "{error:?}");
    let checked = opened_encrypted(&probe, &source).await.unwrap_err();
    assert!(
        matches!(checked, WalProbeError::Connect { .. }),
        "{checked:?}"
    );
}
