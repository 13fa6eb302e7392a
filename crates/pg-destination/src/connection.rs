//! Connections to a destination: the login every connection of one session shares, TLS
//! `prefer` through the ring connectors, and the task that drives each connection's I/O.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rosetta_domain::{ports::DestinationError, PipelineId, PostgresConfig, SslMode};
use rosetta_postgres_tls::{self as tls, TlsConnectors};
use tokio_postgres::{Client, Config, NoTls};

use crate::{error, PgDestinationSettings};

/// The GUCs every connection pins, so that the text values the source's output functions
/// wrote read back the same here (dates in ISO order, intervals in the `postgres` style,
/// `bytea` in hex), whatever the destination's defaults are; and notices below warnings (the
/// `CREATE … IF NOT EXISTS` of every start) stay on the server, out of Rosetta's logs.
const PINNED: &str = "-c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 \
-c bytea_output=hex -c client_min_messages=warning";

/// The `application_name` of a check's connection.
pub(crate) const CHECK_APPLICATION: &str = "rosetta-check";

/// How a session reaches its destination. It holds the password (inside the driver's
/// `Config`, whose `Debug` redacts it), and is never logged.
#[derive(Clone)]
pub(crate) struct Connector {
    session: Config,
    copy: Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// `host:port`, for errors and logs.
    pub(crate) host: String,
}

impl Connector {
    /// The logins for `config` on behalf of `pipeline`. TLS is `prefer` (the destination's
    /// configuration has no `ssl_mode` yet): encrypted when the server offers it, plain TCP
    /// otherwise, as libpq's default; `tls` is `None` only if rustls could not be set up.
    pub(crate) fn new(
        config: &PostgresConfig,
        pipeline: PipelineId,
        settings: &PgDestinationSettings,
        tls: Option<&TlsConnectors>,
    ) -> Self {
        let application = format!("rosetta-pipeline:{}", pipeline.get());
        Self::named(config, &application, settings, tls)
    }

    /// The same logins for a check of the destination, which no pipeline runs.
    pub(crate) fn for_check(
        config: &PostgresConfig,
        settings: &PgDestinationSettings,
        tls: Option<&TlsConnectors>,
    ) -> Self {
        Self::named(config, CHECK_APPLICATION, settings, tls)
    }

    /// The logins for `config`, which the server shows as `application`.
    fn named(
        config: &PostgresConfig,
        application: &str,
        settings: &PgDestinationSettings,
        tls: Option<&TlsConnectors>,
    ) -> Self {
        let mut base = Config::new();
        base.host(config.host.as_str())
            .port(config.port.get())
            .dbname(config.database.as_str())
            .user(config.username.as_str())
            .application_name(application)
            .connect_timeout(settings.connect_timeout)
            .keepalives(true);
        if let Some(password) = &config.password {
            base.password(password.expose());
        }
        let mode = if tls.is_some() {
            SslMode::Prefer
        } else {
            SslMode::Disable
        };
        base.ssl_mode(tls::driver_mode(mode));
        let mut session = base.clone();
        session.options(format!(
            "{PINNED} -c statement_timeout={}",
            millis(settings.statement_timeout)
        ));
        let mut copy = base;
        copy.options(format!(
            "{PINNED} -c statement_timeout=0 -c lock_timeout={}",
            millis(settings.statement_timeout)
        ));
        Self {
            session,
            copy,
            tls: tls.and_then(|connectors| connectors.connector(mode)),
            host: format!("{}:{}", config.host, config.port.get()),
        }
    }

    /// Opens the session's connection.
    pub(crate) async fn session(&self) -> Result<Connection, DestinationError> {
        self.open(&self.session).await
    }

    /// Opens a connection for one table copy.
    pub(crate) async fn copy(&self) -> Result<Connection, DestinationError> {
        self.open(&self.copy).await
    }

    async fn open(&self, config: &Config) -> Result<Connection, DestinationError> {
        let host = &self.host;
        let connect = |e: &tokio_postgres::Error| error::connect(host, e);
        match &self.tls {
            Some(connector) => {
                let (client, connection) = config
                    .connect(connector.clone())
                    .await
                    .map_err(|e| connect(&e))?;
                Ok(Connection::new(client, connection, host))
            }
            None => {
                let (client, connection) = config.connect(NoTls).await.map_err(|e| connect(&e))?;
                Ok(Connection::new(client, connection, host))
            }
        }
    }
}

/// A duration as the milliseconds a GUC takes (at least 1: 0 would mean "no limit").
fn millis(duration: Duration) -> u128 {
    duration.as_millis().max(1)
}

/// A logged-in connection. Its I/O runs in a task of its own, which ends once the client is
/// dropped and the server has been told goodbye (the server then rolls back whatever
/// transaction was open).
pub(crate) struct Connection {
    /// Shared with the replies of statements sent ahead (see [`crate::ahead`]).
    pub(crate) client: Arc<Client>,
}

impl Connection {
    fn new<C>(client: Client, connection: C, host: &str) -> Self
    where
        C: Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
    {
        let host = host.to_owned();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(%host, error = %error::describe(&e), "destination connection failed");
            }
        });
        Self {
            client: Arc::new(client),
        }
    }
}
