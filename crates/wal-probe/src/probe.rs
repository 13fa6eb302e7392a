//! `PgWalProbe`: connects to a source over the TLS its `ssl_mode` asks for, within a deadline.

use std::future::Future;

use async_trait::async_trait;
use rosetta_domain::{
    ports::{WalProbe, WalProbeError},
    Source, SslMode, WalReading,
};
use rosetta_postgres_tls::{self as tls, TlsConnectors};
use tokio_postgres::{Config, NoTls};

use crate::{
    query,
    session::{Session, Target},
    ProbeSettings,
};

/// Reads WAL figures from PostgreSQL sources, opening one short-lived connection per probe.
#[derive(Debug, Clone)]
pub struct PgWalProbe {
    settings: ProbeSettings,
    /// Built once for every probe. Should building fail (it cannot with ring), the error is
    /// kept rather than raised, so that probes over plain TCP still work and TLS ones say why
    /// they cannot.
    tls: Result<TlsConnectors, rustls::Error>,
}

impl PgWalProbe {
    /// A probe bounded by `settings`.
    pub fn new(settings: ProbeSettings) -> Self {
        Self {
            settings,
            tls: TlsConnectors::new(),
        }
    }

    /// Runs `work`, abandoning it after the probe timeout. On expiry the future is dropped, and
    /// with it the client, the half-open connection or the connection task (see `Session`),
    /// closing the socket.
    async fn within_deadline<T>(
        &self,
        host: String,
        work: impl Future<Output = Result<T, WalProbeError>>,
    ) -> Result<T, WalProbeError> {
        let after = self.settings.probe_timeout;
        tokio::time::timeout(after, work)
            .await
            .unwrap_or(Err(WalProbeError::TimedOut { host, after }))
    }

    /// Connects to `source` over plain TCP or TLS, as its `ssl_mode` says.
    async fn open(&self, source: &Source, host: &str) -> Result<Session, WalProbeError> {
        let config = connection_config(source, &self.settings);
        let connector = match (&self.tls, source.ssl_mode) {
            (_, SslMode::Disable) => None,
            (Ok(connectors), mode) => connectors.connector(mode),
            (Err(e), _) => {
                return Err(WalProbeError::Connect {
                    host: host.to_owned(),
                    reason: format!("TLS is unavailable: {e}"),
                })
            }
        };
        let target = target(source, &self.settings);
        match connector {
            Some(connector) => Session::open(&config, target, connector, host).await,
            None => Session::open(&config, target, NoTls, host).await,
        }
    }
}

#[async_trait]
impl WalProbe for PgWalProbe {
    #[tracing::instrument(
        skip(self, source),
        fields(source_id = %source.id, ssl_mode = %source.ssl_mode),
        err(level = "info")
    )]
    async fn probe(&self, source: &Source) -> Result<WalReading, WalProbeError> {
        let host = source.address();
        self.within_deadline(host.clone(), async {
            let session = self.open(source, &host).await?;
            let reading = query::read(&session.client, session.major_version, source, &host).await;
            session.close().await;
            reading
        })
        .await
    }
}

/// Where a probe of `source` connects, and how long opening the socket may take.
fn target<'a>(source: &'a Source, settings: &ProbeSettings) -> Target<'a> {
    Target {
        host: source.pg_host.as_str(),
        port: source.pg_port.get(),
        connect_timeout: settings.connect_timeout,
    }
}

/// The driver's configuration for logging in to `source` on a socket the probe opened itself
/// (`connect_raw` reads only the login fields and the TLS mode; the host, port and connect
/// timeout are the [`Target`]'s).
///
/// `application_name` lets the source's DBA tell the probe apart in `pg_stat_activity`;
/// `statement_timeout` makes the server cancel a stuck probe query even after the probe has
/// given up waiting for it.
fn connection_config(source: &Source, settings: &ProbeSettings) -> Config {
    let mut config = Config::new();
    config
        .dbname(source.pg_database.as_str())
        .user(source.pg_username.as_str())
        .application_name(format!("rosetta-probe:{}", source.id))
        .options(format!(
            "-c statement_timeout={}",
            settings.statement_timeout.as_millis()
        ))
        .ssl_mode(tls::driver_mode(source.ssl_mode));
    if let Some(password) = &source.pg_password {
        config.password(password.expose());
    }
    config
}

#[cfg(test)]
mod tls_tests;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Utc;
    use rosetta_domain::{
        Name, PortNumber, PublicationName, ReplicationId, Secret, SourceId, Text,
    };
    use tokio_postgres::config::SslMode as DriverSslMode;

    use super::*;

    fn source() -> Source {
        Source {
            id: SourceId::new(42),
            name: Name::parse("orders").unwrap(),
            pg_host: Text::parse("db.example.internal").unwrap(),
            pg_port: PortNumber::new(6543).unwrap(),
            pg_database: Text::parse("shop").unwrap(),
            pg_username: Text::parse("replicator").unwrap(),
            pg_password: Some(Secret::parse("hunter2-secret").unwrap()),
            publication_name: PublicationName::parse("orders_pub").unwrap(),
            replication_id: ReplicationId::new(1).unwrap(),
            ssl_mode: SslMode::VerifyFull,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_connection_names_the_probe_and_bounds_its_statements() {
        let settings = ProbeSettings {
            connect_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_millis(2500),
            probe_timeout: Duration::from_secs(9),
        };
        let source = source();
        let config = connection_config(&source, &settings);
        assert_eq!(config.get_application_name(), Some("rosetta-probe:42"));
        assert_eq!(config.get_options(), Some("-c statement_timeout=2500"));
        assert_eq!(config.get_dbname(), Some("shop"));
        assert_eq!(config.get_user(), Some("replicator"));
        assert_eq!(config.get_password(), Some(&b"hunter2-secret"[..]));
        assert!(!format!("{config:?}").contains("hunter2"));
        // The socket is the probe's own: where it goes and how long it may take are the
        // target's, which is what `Session::open` connects to.
        let target = target(&source, &settings);
        assert_eq!(
            (target.host, target.port, target.connect_timeout),
            ("db.example.internal", 6543, Duration::from_secs(3))
        );
    }

    #[test]
    fn the_connection_asks_for_tls_as_the_source_says() {
        let settings = ProbeSettings::within(Duration::from_secs(30));
        for (mode, expected) in [
            (SslMode::Disable, DriverSslMode::Disable),
            (SslMode::Prefer, DriverSslMode::Prefer),
            (SslMode::Require, DriverSslMode::Require),
            (SslMode::VerifyFull, DriverSslMode::Require),
        ] {
            let source = Source {
                ssl_mode: mode,
                ..source()
            };
            assert_eq!(
                connection_config(&source, &settings).get_ssl_mode(),
                expected
            );
        }
    }

    #[test]
    fn a_probe_gives_up_at_its_deadline_and_has_its_tls_connectors() {
        let probe = PgWalProbe::new(ProbeSettings::within(Duration::from_secs(7)));
        assert_eq!(probe.settings.probe_timeout, Duration::from_secs(7));
        assert!(probe.tls.is_ok());
    }

    #[test]
    fn errors_name_the_source_as_host_and_port() {
        assert_eq!(source().address(), "db.example.internal:6543");
    }
}
