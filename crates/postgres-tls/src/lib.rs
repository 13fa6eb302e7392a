//! TLS for Rosetta's connections to PostgreSQL servers (the WAL probe, the replication stream,
//! the destination writer): the rustls connectors each [`SslMode`] uses, on the ring provider,
//! built once and shared by every connection of their owner.
//!
//! `disable` is plain TCP; `prefer` encrypts when the server offers TLS and `require` always
//! does, both accepting any certificate as libpq does for them; `verify-full` requires a
//! certificate chaining to a webpki root and naming the host.

use std::{fmt, sync::Arc};

use rosetta_domain::SslMode;
use rustls::{
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{self, CryptoProvider},
    pki_types::{CertificateDer, ServerName, UnixTime},
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The two rustls client configurations a connection may need. Building one parses every root
/// certificate, so it is done once per owner rather than once per connection.
#[derive(Clone)]
pub struct TlsConnectors {
    /// `prefer` and `require`: encrypts, but accepts any certificate, as libpq does for them.
    unverified: MakeRustlsConnect,
    /// `verify-full`: the chain must lead to a webpki root and name the source's host.
    verified: MakeRustlsConnect,
}

impl TlsConnectors {
    /// Both configurations, on the ring provider passed explicitly: a process-wide default
    /// provider may be missing, or be another one that some other crate installed.
    ///
    /// # Errors
    ///
    /// When the provider cannot offer the default protocol versions, which ring always does.
    pub fn new() -> Result<Self, rustls::Error> {
        let provider = Arc::new(crypto::ring::default_provider());
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let verified = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let unverified = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider }))
            .with_no_client_auth();
        Ok(Self {
            unverified: MakeRustlsConnect::new(unverified),
            verified: MakeRustlsConnect::new(verified),
        })
    }

    /// The connector for `mode`, or `None` when the connection stays plain TCP.
    pub fn connector(&self, mode: SslMode) -> Option<MakeRustlsConnect> {
        match mode {
            SslMode::Disable => None,
            SslMode::Prefer | SslMode::Require => Some(self.unverified.clone()),
            SslMode::VerifyFull => Some(self.verified.clone()),
        }
    }
}

impl fmt::Debug for TlsConnectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnectors").finish_non_exhaustive()
    }
}

/// What the driver does before the handshake. tokio-postgres knows no `verify-full`: it is
/// `require`, with the verifying connector doing the checking.
pub const fn driver_mode(mode: SslMode) -> DriverSslMode {
    match mode {
        SslMode::Disable => DriverSslMode::Disable,
        SslMode::Prefer => DriverSslMode::Prefer,
        SslMode::Require | SslMode::VerifyFull => DriverSslMode::Require,
    }
}

/// Accepts whatever certificate the server shows, for `prefer` and `require`.
///
/// Only the certificate's chain and host name go unchecked: the handshake signatures are still
/// verified, so the session key really is shared with the holder of that certificate's key.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_picks_its_driver_mode_and_connector() {
        let connectors = TlsConnectors::new().unwrap();
        assert!(connectors.connector(SslMode::Disable).is_none());
        for mode in [SslMode::Prefer, SslMode::Require, SslMode::VerifyFull] {
            assert!(connectors.connector(mode).is_some(), "{mode}");
        }
        assert_eq!(driver_mode(SslMode::Disable), DriverSslMode::Disable);
        assert_eq!(driver_mode(SslMode::Prefer), DriverSslMode::Prefer);
        assert_eq!(driver_mode(SslMode::Require), DriverSslMode::Require);
        assert_eq!(driver_mode(SslMode::VerifyFull), DriverSslMode::Require);
    }

    /// `prefer` and `require` take any certificate (as libpq does), and still check handshake
    /// signatures in the schemes PostgreSQL servers sign with (RSA for the usual self-signed
    /// certificates, ECDSA and Ed25519 for the rest); the TLS tests against the local server
    /// show a real handshake passing those checks.
    #[test]
    fn the_unverified_connector_accepts_any_certificate_and_the_common_signatures() {
        let verifier = AnyCertificate {
            provider: Arc::new(crypto::ring::default_provider()),
        };
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        let host = ServerName::try_from("db.example.internal").unwrap();
        assert!(verifier
            .verify_server_cert(&garbage, &[], &host, &[], UnixTime::now())
            .is_ok());
        let schemes = verifier.supported_verify_schemes();
        for scheme in [
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ED25519,
        ] {
            assert!(
                schemes.contains(&scheme),
                "{scheme:?} missing from {schemes:?}"
            );
        }
    }
}
