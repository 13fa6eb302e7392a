//! `PgDestinationSession`: one run of a pipeline on a PostgreSQL destination, holding the
//! connection whose transaction accumulates the changes until they commit with the checkpoint.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::anyhow;
use async_trait::async_trait;
use rosetta_domain::ports::{
    Checkpoint, DestinationError, DestinationSession, DestinationState, TableCopy,
};
use rosetta_domain::replication::{Change, RelationId, TableName, TableSchema};
use tokio_postgres::{Client, Statement};

use crate::ahead::Ahead;
use crate::apply::{Applier, Plan};
use crate::bookkeeping::{self, Hold, Run};
use crate::connection::{Connection, Connector};
use crate::copy::PgTableCopy;
use crate::error;
use crate::layout::{self, TableLayout};
use crate::sql::ident;

/// A run of a pipeline on a PostgreSQL destination (see [`crate::PgDestinationWriter`]).
pub struct PgDestinationSession {
    connector: Connector,
    connection: Connection,
    run: Run,
    /// The destination schema every table goes to.
    schema: String,
    schema_ready: bool,
    layouts: HashMap<RelationId, Arc<TableLayout>>,
    /// The source table behind each destination table prepared in this session, to refuse two
    /// source tables landing on one.
    targets: HashMap<String, TableName>,
    applier: Applier,
    /// The open transaction, if any.
    open: Option<OpenTransaction>,
    /// The transaction whose `COMMIT` was sent and is not known to be done.
    committing: Option<OpenTransaction>,
    /// The statements sent ahead whose replies are not checked yet: the batch written last,
    /// its checkpoint and its `COMMIT`.
    ahead: Ahead,
    /// The statement that writes the checkpoint, once prepared.
    write_checkpoint: Option<Statement>,
}

/// Creates `schema` unless it exists; says whether it created it. Looking first spares a role
/// that may not create schemas once the schema is there (`CREATE SCHEMA IF NOT EXISTS` checks
/// the privilege before it looks).
///
/// # Errors
///
/// `Rejected` without the privilege to create it, `Lost`, `Unknown`.
pub(crate) async fn create_schema_if_missing(
    client: &Client,
    host: &str,
    schema: &str,
) -> Result<bool, DestinationError> {
    let exists = client
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await
        .map_err(|e| error::statement(host, schema, &e))?
        .is_some();
    if exists {
        return Ok(false);
    }
    client
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", ident(schema)))
        .await
        .map_err(|e| error::statement(host, schema, &e))?;
    Ok(true)
}

impl std::fmt::Debug for PgDestinationSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDestinationSession")
            .field("host", &self.connector.host)
            .field("pipeline", &self.run.pipeline)
            .field("epoch", &self.run.epoch)
            .field("schema", &self.schema)
            .field("tables", &self.layouts.len())
            .field("in_transaction", &self.open.is_some())
            .finish_non_exhaustive()
    }
}

/// What the open transaction changed in the session's memory, undone if it rolls back.
#[derive(Default)]
struct OpenTransaction {
    /// The layouts `prepare_table` replaced in it, with those they replaced.
    replaced: Vec<(RelationId, Option<Arc<TableLayout>>)>,
}

impl PgDestinationSession {
    /// A session on `connection`, already fenced for `run`.
    pub(crate) fn new(
        connector: Connector,
        connection: Connection,
        run: Run,
        schema: String,
    ) -> Self {
        Self {
            connector,
            connection,
            run,
            schema,
            schema_ready: false,
            layouts: HashMap::new(),
            targets: HashMap::new(),
            applier: Applier::default(),
            open: None,
            committing: None,
            ahead: Ahead::default(),
            write_checkpoint: None,
        }
    }

    fn host(&self) -> &str {
        &self.connector.host
    }

    /// Begins a transaction unless one is open (sent ahead: its reply is checked with the
    /// rest).
    async fn begin(&mut self) -> Result<(), DestinationError> {
        if self.open.is_none() {
            self.ahead.send(self.simple("BEGIN", "BEGIN")).await?;
            self.open = Some(OpenTransaction::default());
        }
        Ok(())
    }

    /// Waits for the statements sent ahead. The commit under way (if any) is then over: done
    /// when they all succeeded; else its transaction failed, and becomes the open one for
    /// [`Self::rollback`] to undo in the session's memory (a later settle, with nothing left
    /// to wait for, must not take it for committed).
    async fn settle(&mut self) -> Result<(), DestinationError> {
        let result = self.ahead.settle().await;
        if let Some(committing) = self.committing.take() {
            if result.is_err() && self.open.is_none() {
                self.open = Some(committing);
            }
        }
        result
    }

    /// `sql` as a simple query sent ahead (see [`Ahead`]); errors name `what`.
    fn simple(
        &self,
        sql: &'static str,
        what: &'static str,
    ) -> impl std::future::Future<Output = Result<(), DestinationError>> + Send + 'static {
        let client = Arc::clone(&self.connection.client);
        let host = self.connector.host.clone();
        async move {
            client
                .batch_execute(sql)
                .await
                .map_err(|e| error::statement(&host, what, &e))
        }
    }

    /// Rolls the open transaction back (when the connection still works) and forgets what it
    /// made: its staging tables, the layouts prepared in it, perhaps the schema. A commit
    /// that failed after it was sent is undone the same way in the session's memory.
    async fn rollback(&mut self) {
        let _ = self.settle().await;
        let Some(open) = self.open.take().or_else(|| self.committing.take()) else {
            return;
        };
        // Fails only when the connection is gone, which rolls back as well.
        let _ = self.connection.client.batch_execute("ROLLBACK").await;
        for (relation, previous) in open.replaced.into_iter().rev() {
            match previous {
                Some(layout) => {
                    self.layouts.insert(relation, layout);
                }
                None => {
                    self.layouts.remove(&relation);
                }
            }
        }
        self.targets = self
            .layouts
            .values()
            .map(|l| (l.source.name.clone(), l.source.clone()))
            .collect();
        self.applier.forget();
        // The schema may have been created in the transaction.
        self.schema_ready = false;
    }

    /// Runs `result`'s work's aftermath: an error rolls the open transaction back. The error
    /// reported is the first one: a statement sent ahead that failed before this work did
    /// (which then failed only because the transaction was aborted) wins.
    async fn or_roll_back<T>(
        &mut self,
        result: Result<T, DestinationError>,
    ) -> Result<T, DestinationError> {
        match result {
            Ok(value) => Ok(value),
            Err(error) => {
                let earlier = self.settle().await.err();
                self.rollback().await;
                Err(earlier.unwrap_or(error))
            }
        }
    }

    async fn ensure_schema(&mut self) -> Result<(), DestinationError> {
        if self.schema_ready {
            return Ok(());
        }
        create_schema_if_missing(&self.connection.client, &self.connector.host, &self.schema)
            .await?;
        self.schema_ready = true;
        Ok(())
    }

    async fn prepare(&mut self, table: &TableSchema) -> Result<(), DestinationError> {
        if let Some(other) = self.targets.get(&table.name.name) {
            if *other != table.name {
                return Err(DestinationError::Incompatible {
                    table: format!("{}.{}", self.schema, table.name.name),
                    reason: format!(
                        "the source tables {other} and {} both go to it (every source table \
                         goes to the destination's schema {}): publish only one of them, or \
                         give each source schema a destination of its own",
                        table.name, self.schema
                    ),
                });
            }
        }
        self.ensure_schema().await?;
        let layout = layout::prepare(
            &self.connection.client,
            &self.connector.host,
            &self.schema,
            table,
        )
        .await?;
        let previous = self.layouts.get(&table.id).cloned();
        if previous.as_deref() == Some(&layout) {
            return Ok(());
        }
        for column in layout.columns.iter().filter(|c| c.as_text) {
            tracing::info!(
                table = %layout.display, column = %column.name,
                "the source's type does not exist on the destination: the column is text"
            );
        }
        if let Some(open) = &mut self.open {
            if !open.replaced.iter().any(|(r, _)| *r == table.id) {
                open.replaced.push((table.id, previous));
            }
        }
        self.applier.forget_table(table.id);
        self.targets
            .insert(table.name.name.clone(), table.name.clone());
        self.layouts.insert(table.id, Arc::new(layout));
        Ok(())
    }

    /// Sends the checkpoint and the `COMMIT` ahead; [`DestinationSession::committed`] checks
    /// their replies.
    async fn commit_now(&mut self, checkpoint: Checkpoint) -> Result<(), DestinationError> {
        let host = self.connector.host.clone();
        let statement = match &self.write_checkpoint {
            Some(statement) => statement.clone(),
            None => {
                let statement =
                    bookkeeping::prepare_checkpoint(&self.connection.client, &host).await?;
                self.write_checkpoint = Some(statement.clone());
                statement
            }
        };
        self.begin().await?;
        let client = &self.connection.client;
        self.ahead
            .send(bookkeeping::send_checkpoint(
                Arc::clone(client),
                host.clone(),
                self.run,
                statement,
                checkpoint,
            ))
            .await?;
        self.ahead
            .send(self.simple("COMMIT", bookkeeping::CHECKPOINTS))
            .await?;
        self.committing = self.open.take();
        self.applier.ended();
        Ok(())
    }

    /// Writes `changes`: works out the plan first (folding, encoding), while the destination
    /// may still be committing the batch before; then waits for that commit, and sends.
    async fn write(&mut self, changes: &[Change]) -> Result<(), DestinationError> {
        let started = std::time::Instant::now();
        let plan = Plan::new(&self.layouts, changes)?;
        let planned = started.elapsed();
        self.settle().await?;
        let settled = started.elapsed();
        self.begin().await?;
        self.applier
            .write(
                &self.connection.client,
                &self.connector.host,
                &self.layouts,
                plan,
                &mut self.ahead,
            )
            .await?;
        // Where a write's time goes: planning it (folding, encoding), waiting for the commit
        // before it, sending it (only keyless tables' rows, moved rows, TRUNCATEs and a
        // statement prepared for the first time wait for their replies).
        tracing::debug!(
            changes = changes.len(),
            planned_ms = planned.as_millis(),
            waited_ms = (settled - planned).as_millis(),
            sent_ms = (started.elapsed() - settled).as_millis(),
            "changes written"
        );
        Ok(())
    }

    async fn reset_now(&mut self, slot: &str) -> Result<(), DestinationError> {
        self.settle().await?;
        self.begin().await?;
        let host = self.connector.host.clone();
        let client = &self.connection.client;
        bookkeeping::check(&**client, &host, self.run, Hold::Exclusive).await?;
        bookkeeping::reset(client, &host, self.run, slot).await?;
        client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| error::statement(&host, bookkeeping::CHECKPOINTS, &e))?;
        self.open = None;
        self.applier.ended();
        Ok(())
    }
}

#[async_trait]
impl DestinationSession for PgDestinationSession {
    #[tracing::instrument(skip(self), fields(pipeline = %self.run.pipeline), err(level = "info"))]
    async fn state(&mut self) -> Result<Option<DestinationState>, DestinationError> {
        let result = match self.settle().await {
            Ok(()) => bookkeeping::state(&self.connection.client, self.host(), self.run).await,
            Err(e) => Err(e),
        };
        self.or_roll_back(result).await
    }

    #[tracing::instrument(skip(self), fields(pipeline = %self.run.pipeline), err(level = "info"))]
    async fn reset(&mut self, slot: &str) -> Result<(), DestinationError> {
        // Changes not committed belong to the stream being abandoned.
        self.rollback().await;
        let result = self.reset_now(slot).await;
        self.or_roll_back(result).await
    }

    #[tracing::instrument(
        skip(self, table),
        fields(pipeline = %self.run.pipeline, table = %table.name),
        err(level = "info")
    )]
    async fn prepare_table(&mut self, table: &TableSchema) -> Result<(), DestinationError> {
        let result = match self.settle().await {
            Ok(()) => self.prepare(table).await,
            Err(e) => Err(e),
        };
        self.or_roll_back(result).await
    }

    #[tracing::instrument(
        skip(self, table),
        fields(pipeline = %self.run.pipeline, table = %table.name),
        err(level = "info")
    )]
    async fn copy_table(
        &self,
        table: &TableSchema,
    ) -> Result<Box<dyn TableCopy>, DestinationError> {
        let layout = self.layouts.get(&table.id).cloned().ok_or_else(|| {
            DestinationError::Unknown(anyhow!(
                "copying {}, which was not prepared (prepare_table comes first)",
                table.name
            ))
        })?;
        let copy = PgTableCopy::start(&self.connector, self.run, layout).await?;
        Ok(Box::new(copy))
    }

    #[tracing::instrument(
        skip(self, changes),
        fields(pipeline = %self.run.pipeline, changes = changes.len()),
        err(level = "info")
    )]
    async fn apply(&mut self, changes: &[Change]) -> Result<(), DestinationError> {
        let result = self.write(changes).await;
        self.or_roll_back(result).await
    }

    #[tracing::instrument(skip(self), fields(pipeline = %self.run.pipeline), err(level = "info"))]
    async fn commit(&mut self, checkpoint: Checkpoint) -> Result<(), DestinationError> {
        let result = self.commit_now(checkpoint).await;
        self.or_roll_back(result).await
    }

    #[tracing::instrument(skip(self), fields(pipeline = %self.run.pipeline), err(level = "info"))]
    async fn committed(&mut self) -> Result<(), DestinationError> {
        // Nothing is sent after a COMMIT before the next call waits for it, so its replies are
        // the last ones; without a commit under way, the statements sent ahead belong to the
        // open transaction and are checked by the next call.
        if self.committing.is_none() {
            return Ok(());
        }
        let result = self.settle().await;
        self.or_roll_back(result).await
    }
}
