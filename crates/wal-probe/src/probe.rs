//! `PgWalProbe`: connects to a source with tokio-postgres and reads its WAL figures.

use std::future::Future;

use async_trait::async_trait;
use rosetta_domain::{
    ports::{WalProbe, WalProbeError},
    Source, WalReading,
};
use tokio::task::JoinHandle;
use tokio_postgres::{Config, NoTls};

use crate::{error, query, ProbeSettings};

/// Reads WAL figures from PostgreSQL sources, opening one short-lived connection per probe.
#[derive(Debug, Clone, Default)]
pub struct PgWalProbe {
    settings: ProbeSettings,
}

impl PgWalProbe {
    /// A probe bounded by `settings`.
    pub fn new(settings: ProbeSettings) -> Self {
        Self { settings }
    }
}

#[async_trait]
impl WalProbe for PgWalProbe {
    #[tracing::instrument(skip(self, source), fields(source_id = %source.id), err(level = "info"))]
    async fn probe(&self, source: &Source) -> Result<WalReading, WalProbeError> {
        let host = host_label(source);
        let config = connection_config(source, &self.settings);
        let after = self.settings.probe_timeout;
        // On expiry the inner future is dropped, and with it the client, the half-open
        // connection or the connection task (see `ConnectionTask`), closing the socket.
        tokio::time::timeout(after, probe_once(&config, &host))
            .await
            .unwrap_or(Err(WalProbeError::TimedOut { host, after }))
    }
}

/// Connects, reads, and closes the connection.
async fn probe_once(config: &Config, host: &str) -> Result<WalReading, WalProbeError> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| error::connect(host, &e))?;
    let task = ConnectionTask::spawn(connection, host);
    let reading = query::read_wal(&client, host).await;
    // Dropping the client tells the connection to say goodbye to the server and finish.
    drop(client);
    task.finish().await;
    reading
}

/// `host:port`, as errors name a source.
fn host_label(source: &Source) -> String {
    format!("{}:{}", source.pg_host, source.pg_port.get())
}

/// The driver's configuration for probing `source`.
///
/// `application_name` lets the source's DBA tell the probe apart in `pg_stat_activity`;
/// `statement_timeout` makes the server cancel a stuck probe query even after the probe has
/// given up waiting for it.
fn connection_config(source: &Source, settings: &ProbeSettings) -> Config {
    let mut config = Config::new();
    config
        .host(source.pg_host.as_str())
        .port(source.pg_port.get())
        .dbname(source.pg_database.as_str())
        .user(source.pg_username.as_str())
        .application_name(format!("rosetta-probe:{}", source.id))
        .connect_timeout(settings.connect_timeout)
        .options(format!(
            "-c statement_timeout={}",
            settings.statement_timeout.as_millis()
        ));
    if let Some(password) = &source.pg_password {
        config.password(password.expose());
    }
    config
}

/// The spawned task that drives a connection's I/O. It is aborted when dropped — on every path,
/// a timeout or a cancelled caller included — so no connection outlives its probe.
struct ConnectionTask(JoinHandle<()>);

impl ConnectionTask {
    /// Spawns `connection` (any stream, so TLS can slot in), logging how it failed, if it does.
    fn spawn<C>(connection: C, host: &str) -> Self
    where
        C: Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
    {
        let host = host.to_owned();
        Self(tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(%host, error = %error::reason(&e), "probe connection failed");
            }
        }))
    }

    /// Waits for the connection to close after its client was dropped; the probe's deadline
    /// bounds the wait.
    async fn finish(mut self) {
        // The task logs its own failure, and it is neither aborted nor panicking here.
        let _ = (&mut self.0).await;
    }
}

impl Drop for ConnectionTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::Utc;
    use rosetta_domain::{
        Name, PortNumber, PublicationName, ReplicationId, Secret, SourceId, Text,
    };

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
        let config = connection_config(&source(), &settings);
        assert_eq!(config.get_application_name(), Some("rosetta-probe:42"));
        assert_eq!(config.get_options(), Some("-c statement_timeout=2500"));
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(config.get_dbname(), Some("shop"));
        assert_eq!(config.get_user(), Some("replicator"));
        assert_eq!(config.get_ports(), &[6543]);
        assert_eq!(config.get_password(), Some(&b"hunter2-secret"[..]));
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn errors_name_the_source_as_host_and_port() {
        assert_eq!(host_label(&source()), "db.example.internal:6543");
    }
}
