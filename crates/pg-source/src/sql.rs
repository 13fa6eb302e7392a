//! Normal (SQL) connections to a source over tokio-postgres: the catalogue reads, the snapshot's
//! anchor transaction, the copies and dropping slots. One helper opens them all, so each gets
//! its `application_name`, its timeouts, the pinned output formats and the source's TLS.

use std::future::Future;
use std::time::Duration;

use rosetta_domain::ports::ReplicationError;
use rosetta_domain::{Source, SslMode};
use rosetta_postgres_tls::{self as tls, TlsConnectors};
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{error, PgSourceSettings};

/// The output formats every session of the adapter pins, so that the text it reads (COPY rows,
/// streamed values) means the same whatever the source's or the role's defaults are, and the
/// destination reads it back as written. `client_encoding` is UTF8 on every session too.
pub(crate) const PINNED_OPTIONS: &str =
    "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c bytea_output=hex";

/// How long statements of a session may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limits {
    /// Catalogue reads and slot drops: the settings' statement timeout.
    Bounded,
    /// Copies and the anchor transaction, which stay open as long as the copy takes: no
    /// statement timeout and no idle-in-transaction timeout, whatever the role's defaults.
    Unbounded,
}

/// The TLS connectors, built once per adapter. Should building them fail (it cannot with
/// ring), the error is kept, so that sources over plain TCP still work and TLS ones say why not.
#[derive(Debug, Clone)]
pub(crate) struct Tls(Result<TlsConnectors, String>);

impl Tls {
    pub(crate) fn new() -> Self {
        Self(TlsConnectors::new().map_err(|e| e.to_string()))
    }

    /// The connector `source`'s `ssl_mode` asks for, `None` for plain TCP.
    pub(crate) fn connector(
        &self,
        source: &Source,
    ) -> Result<Option<MakeRustlsConnect>, ReplicationError> {
        match (&self.0, source.ssl_mode) {
            (_, SslMode::Disable) => Ok(None),
            (Ok(connectors), mode) => Ok(connectors.connector(mode)),
            (Err(e), _) => Err(ReplicationError::Connect {
                host: source.address(),
                reason: format!("TLS is unavailable: {e}"),
            }),
        }
    }
}

/// How long a dropped session's connection may take to say goodbye before it is cut.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// An open SQL connection: its client, and the task driving its I/O. Dropping it, on any path,
/// lets the connection end cleanly (`Terminate`, so the source logs no "unexpected EOF") but
/// cuts it after a grace period, so no connection outlives its use for long.
pub(crate) struct SqlSession {
    /// Sends the statements.
    pub(crate) client: Client,
    /// The server's major version (`15`), from the login parameters.
    pub(crate) major: i32,
    task: Option<JoinHandle<()>>,
}

impl SqlSession {
    /// Opens a connection to `source` as `rosetta:<purpose>`.
    ///
    /// # Errors
    ///
    /// `Connect` when the server cannot be reached or refuses the login, or after the connect
    /// timeout.
    pub(crate) async fn open(
        source: &Source,
        purpose: &str,
        limits: Limits,
        tls: &Tls,
        settings: &PgSourceSettings,
    ) -> Result<Self, ReplicationError> {
        let host = source.address();
        let config = config(source, purpose, limits, settings);
        let connecting = async {
            match tls.connector(source)? {
                Some(connector) => Self::start(config.connect(connector), &host).await,
                None => Self::start(config.connect(NoTls), &host).await,
            }
        };
        tokio::time::timeout(settings.connect_timeout, connecting)
            .await
            .unwrap_or_else(|_| {
                Err(ReplicationError::Connect {
                    host: host.clone(),
                    reason: format!("no connection within {:?}", settings.connect_timeout),
                })
            })
    }

    async fn start<S, T>(
        connecting: impl Future<
            Output = Result<(Client, tokio_postgres::Connection<S, T>), tokio_postgres::Error>,
        >,
        host: &str,
    ) -> Result<Self, ReplicationError>
    where
        tokio_postgres::Connection<S, T>: Future<Output = Result<(), tokio_postgres::Error>>,
        tokio_postgres::Connection<S, T>: Send + 'static,
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let (client, connection) = connecting.await.map_err(|e| error::connect(host, &e))?;
        let major = connection
            .parameter("server_version")
            .and_then(major_version)
            .unwrap_or(0);
        let label = host.to_owned();
        let task = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(host = %label, error = %e, "source connection ended");
            }
        });
        Ok(Self {
            client,
            major,
            task: Some(task),
        })
    }
}

impl Drop for SqlSession {
    fn drop(&mut self) {
        let Some(task) = self.task.take() else {
            return;
        };
        // The client is dropped right after this, which makes the connection send Terminate
        // and end; a watcher gives it the grace period, then cuts it.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let cut = task.abort_handle();
                runtime.spawn(async move {
                    if tokio::time::timeout(CLOSE_GRACE, task).await.is_err() {
                        cut.abort();
                    }
                });
            }
            Err(_) => task.abort(),
        }
    }
}

/// The driver's configuration for `source`: the login, the session's name, its settings.
fn config(source: &Source, purpose: &str, limits: Limits, settings: &PgSourceSettings) -> Config {
    let mut config = Config::new();
    config
        .host(source.pg_host.as_str())
        .port(source.pg_port.get())
        .dbname(source.pg_database.as_str())
        .user(source.pg_username.as_str())
        .application_name(format!("rosetta:{purpose}"))
        .connect_timeout(settings.connect_timeout)
        .ssl_mode(tls::driver_mode(source.ssl_mode));
    let timeouts = match limits {
        Limits::Bounded => format!(
            "-c statement_timeout={}",
            settings.statement_timeout.as_millis()
        ),
        Limits::Unbounded => {
            "-c statement_timeout=0 -c idle_in_transaction_session_timeout=0".to_owned()
        }
    };
    config.options(format!("{PINNED_OPTIONS} {timeouts}"));
    if let Some(password) = &source.pg_password {
        config.password(password.expose());
    }
    config
}

/// The leading number of `server_version` (`15.20 (Debian 15.20-0+deb12u1)`).
fn major_version(version: &str) -> Option<i32> {
    let digits = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    version[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rosetta_domain::{
        Name, PortNumber, PublicationName, ReplicationId, Secret, SourceId, Text,
    };

    use super::*;

    #[test]
    fn sessions_are_named_pinned_and_bounded_as_their_use_needs() {
        let source = Source {
            id: SourceId::new(3),
            name: Name::parse("shop").unwrap(),
            pg_host: Text::parse("db.internal").unwrap(),
            pg_port: PortNumber::new(6543).unwrap(),
            pg_database: Text::parse("shop").unwrap(),
            pg_username: Text::parse("replicator").unwrap(),
            pg_password: Some(Secret::parse("hunter2-secret").unwrap()),
            publication_name: PublicationName::parse("pub").unwrap(),
            replication_id: ReplicationId::new(1).unwrap(),
            ssl_mode: SslMode::Require,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let settings = PgSourceSettings {
            statement_timeout: Duration::from_millis(2500),
            ..PgSourceSettings::new()
        };
        let bounded = config(&source, "facts:3", Limits::Bounded, &settings);
        assert_eq!(bounded.get_application_name(), Some("rosetta:facts:3"));
        let options = bounded.get_options().unwrap();
        assert!(options.starts_with(PINNED_OPTIONS), "{options}");
        assert!(options.ends_with("-c statement_timeout=2500"), "{options}");
        assert_eq!(bounded.get_password(), Some(&b"hunter2-secret"[..]));
        assert!(!format!("{bounded:?}").contains("hunter2"));
        let unbounded = config(&source, "copy", Limits::Unbounded, &settings);
        assert!(unbounded
            .get_options()
            .unwrap()
            .contains("statement_timeout=0 -c idle_in_transaction_session_timeout=0"));
        assert_eq!(major_version("15.20 (Debian)"), Some(15));
    }
}
