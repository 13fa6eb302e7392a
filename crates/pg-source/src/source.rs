//! `PgReplicationSource`: the domain's `ReplicationSource` port for PostgreSQL sources.

use std::time::Duration;

use async_trait::async_trait;
use rosetta_domain::ports::{ChangeStream, ReplicationError, ReplicationSource, Snapshot};
use rosetta_domain::replication::{Lsn, RelationId, SourceFacts, TableSchema};
use rosetta_domain::Source;
use tokio_postgres::types::Type;

use crate::error::{self, OBJECT_IN_USE, UNDEFINED_OBJECT};
use crate::sql::{Limits, SqlSession, Tls};
use crate::{catalog, PgChangeStream, PgSnapshot, PgSourceSettings};

/// How many times dropping a slot is tried while the process that streamed from it ends.
const DROP_ATTEMPTS: u32 = 25;
/// The pause between two tries.
const DROP_PAUSE: Duration = Duration::from_millis(200);

/// Reads PostgreSQL sources for replication: their catalogue over normal connections, their
/// slots' snapshots and changes over replication sessions.
#[derive(Debug, Clone)]
pub struct PgReplicationSource {
    settings: PgSourceSettings,
    tls: Tls,
}

impl PgReplicationSource {
    /// A source adapter bounded and paced by `settings`. The TLS configurations are built
    /// here, once.
    pub fn new(settings: PgSourceSettings) -> Self {
        Self {
            settings,
            tls: Tls::new(),
        }
    }

    async fn session(
        &self,
        source: &Source,
        purpose: &str,
    ) -> Result<SqlSession, ReplicationError> {
        SqlSession::open(source, purpose, Limits::Bounded, &self.tls, &self.settings).await
    }
}

#[async_trait]
impl ReplicationSource for PgReplicationSource {
    #[tracing::instrument(skip(self, source), fields(source_id = %source.id), err(level = "info"))]
    async fn facts(&self, source: &Source, slot: &str) -> Result<SourceFacts, ReplicationError> {
        let session = self.session(source, &format!("facts:{slot}")).await?;
        catalog::facts(
            &session.client,
            session.major,
            &source.address(),
            source.publication_name.as_str(),
            slot,
        )
        .await
    }

    #[tracing::instrument(skip(self, source), fields(source_id = %source.id), err(level = "info"))]
    async fn describe(
        &self,
        source: &Source,
        table: RelationId,
    ) -> Result<Option<TableSchema>, ReplicationError> {
        let session = self.session(source, &format!("describe:{table}")).await?;
        catalog::describe(
            &session.client,
            session.major,
            &source.address(),
            source.publication_name.as_str(),
            table,
        )
        .await
    }

    #[tracing::instrument(skip(self, source), fields(source_id = %source.id), err(level = "info"))]
    async fn create_slot(
        &self,
        source: &Source,
        slot: &str,
        temporary: bool,
    ) -> Result<Box<dyn Snapshot>, ReplicationError> {
        let snapshot =
            PgSnapshot::create(source, slot, temporary, &self.tls, &self.settings).await?;
        Ok(Box::new(snapshot))
    }

    #[tracing::instrument(skip(self, source), fields(source_id = %source.id), err(level = "info"))]
    async fn drop_slot(&self, source: &Source, slot: &str) -> Result<bool, ReplicationError> {
        let host = source.address();
        let session = self.session(source, &format!("drop:{slot}")).await?;
        let client = &session.client;
        let what = format!("dropping replication slot {slot}");
        let fail = |e: tokio_postgres::Error| error::sql(&host, &what, &e);
        // From 14 the server can wait for the process it signals to end.
        let terminate = if session.major >= 14 {
            "SELECT pg_terminate_backend($1, 5000)"
        } else {
            "SELECT pg_terminate_backend($1)"
        };
        for attempt in 1..=DROP_ATTEMPTS {
            let rows = client
                .query_typed(
                    // Only the source database's own: a slot of that name for another database
                    // belongs to someone else (another Rosetta with the same replication id).
                    "SELECT active_pid FROM pg_replication_slots \
                     WHERE slot_name = $1 AND database = current_database()",
                    &[(&slot, Type::TEXT)],
                )
                .await
                .map_err(fail)?;
            let Some(row) = rows.first() else {
                return Ok(false);
            };
            if let Some(pid) = row.try_get::<_, Option<i32>>(0).map_err(fail)? {
                tracing::info!(%host, slot, pid, "ending the process that streams from the slot");
                client
                    .query_typed(terminate, &[(&pid, Type::INT4)])
                    .await
                    .map_err(fail)?;
            }
            match client
                .query_typed(
                    "SELECT pg_drop_replication_slot($1)",
                    &[(&slot, Type::TEXT)],
                )
                .await
            {
                Ok(_) => return Ok(true),
                Err(e) => {
                    let refused = fail(e);
                    match error::code(&refused) {
                        Some(UNDEFINED_OBJECT) => return Ok(false),
                        // The ended process has not released the slot yet, or a new one took it.
                        Some(OBJECT_IN_USE) if attempt < DROP_ATTEMPTS => {
                            tokio::time::sleep(DROP_PAUSE).await;
                        }
                        _ => return Err(refused),
                    }
                }
            }
        }
        Err(ReplicationError::SlotInUse {
            slot: slot.to_owned(),
        })
    }

    #[tracing::instrument(skip(self, source), fields(source_id = %source.id, %start), err(level = "info"))]
    async fn stream(
        &self,
        source: &Source,
        slot: &str,
        start: Lsn,
    ) -> Result<Box<dyn ChangeStream>, ReplicationError> {
        let stream = PgChangeStream::start(source, slot, start, &self.tls, &self.settings).await?;
        Ok(Box::new(stream))
    }
}
