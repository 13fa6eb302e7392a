//! `PgDestinationWriter`: opens pipeline runs on PostgreSQL destinations, and checks them.

use async_trait::async_trait;
use rosetta_domain::ports::{DestinationError, DestinationSession, DestinationWriter};
use rosetta_domain::{Destination, DestinationConfig, DiagnosticCheck, PipelineId, PostgresConfig};
use rosetta_postgres_tls::TlsConnectors;

use crate::bookkeeping::{self, Run};
use crate::check;
use crate::connection::Connector;
use crate::session::PgDestinationSession;
use crate::PgDestinationSettings;

/// Writes pipelines' tables and changes into PostgreSQL destinations.
#[derive(Debug, Clone)]
pub struct PgDestinationWriter {
    settings: PgDestinationSettings,
    /// Built once for every connection. Should building fail (it cannot with ring), the
    /// writer connects without TLS, as `prefer` does when the server offers none.
    tls: Option<TlsConnectors>,
}

impl PgDestinationWriter {
    /// A writer bounded by `settings`.
    pub fn new(settings: PgDestinationSettings) -> Self {
        let tls = match TlsConnectors::new() {
            Ok(connectors) => Some(connectors),
            Err(e) => {
                tracing::warn!(error = %e, "TLS is unavailable: destinations are reached over plain TCP");
                None
            }
        };
        Self { settings, tls }
    }
}

#[async_trait]
impl DestinationWriter for PgDestinationWriter {
    #[tracing::instrument(
        skip(self, destination),
        fields(destination_id = %destination.id),
        err(level = "info")
    )]
    async fn open(
        &self,
        destination: &Destination,
        pipeline: PipelineId,
        epoch: u64,
    ) -> Result<Box<dyn DestinationSession>, DestinationError> {
        let config = postgres(destination).map_err(|reason| DestinationError::Rejected {
            table: format!("destination {}", destination.name),
            reason,
        })?;
        let connector = Connector::new(config, pipeline, &self.settings, self.tls.as_ref());
        let connection = connector.session().await?;
        bookkeeping::ensure(&connection.client, &connector.host).await?;
        let run = Run { pipeline, epoch };
        bookkeeping::fence(&connection.client, &connector.host, run).await?;
        let schema = config.schema.as_str().to_owned();
        Ok(Box::new(PgDestinationSession::new(
            connector, connection, run, schema,
        )))
    }

    #[tracing::instrument(skip(self, destination), fields(destination_id = %destination.id))]
    async fn check(&self, destination: &Destination) -> Vec<DiagnosticCheck> {
        match postgres(destination) {
            Ok(config) => check::check(config, &self.settings, self.tls.as_ref()).await,
            Err(reason) => vec![DiagnosticCheck::required("writer", false, reason)],
        }
    }
}

/// The destination's PostgreSQL settings. Destinations of other types go to writers of their
/// own (`rosetta_app::WritersByType` routes them); one handed here is refused.
fn postgres(destination: &Destination) -> Result<&PostgresConfig, String> {
    match &destination.config {
        DestinationConfig::Postgres(config) => Ok(config),
        other => Err(format!(
            "the PostgreSQL writer does not write to a {} destination",
            other.destination_type()
        )),
    }
}
