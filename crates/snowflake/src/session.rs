//! `SnowflakeSession`: one run of a pipeline on a Snowflake destination. A batch's changes are
//! turned into statements as they come and sent at `commit`, in one Snowflake transaction with
//! the checkpoint: `BEGIN`, the statements, the fenced checkpoint `UPDATE`, `COMMIT`. Table
//! definitions are written by `prepare_table`, outside it (Snowflake commits DDL at once).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use rosetta_domain::ports::{
    Checkpoint, DestinationError, DestinationSession, DestinationState, TableCopy,
};
use rosetta_domain::replication::fold::Fold;
use rosetta_domain::replication::{Change, RelationId, TableName, TableSchema};
use rosetta_domain::SnowflakeMode;

use crate::bookkeeping::{self, run, run_statement, Run};
use crate::client::{Client, Session};
use crate::copy::SnowflakeTableCopy;
use crate::layout::TableLayout;
use crate::statements::{self, Statement};

/// A run of a pipeline on a Snowflake destination (see [`crate::SnowflakeWriter`]).
pub struct SnowflakeSession {
    client: Client,
    session: Session,
    /// The account's address, as errors name it.
    host: String,
    run: Run,
    /// `"DB"."SCHEMA"`.
    schema: String,
    mode: SnowflakeMode,
    layouts: HashMap<RelationId, Arc<TableLayout>>,
    /// The source table behind each destination table, to refuse two landing on one.
    targets: HashMap<String, TableName>,
    /// The open batch's statements, sent at commit.
    pending: Vec<Statement>,
    /// The open batch's changes so far (their places in a changelog).
    sequence: u64,
}

impl std::fmt::Debug for SnowflakeSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnowflakeSession")
            .field("host", &self.host)
            .field("pipeline", &self.run.pipeline)
            .field("epoch", &self.run.epoch)
            .field("schema", &self.schema)
            .field("mode", &self.mode)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// A changelog's sequence numbers: the checkpoint's end LSN × 10⁹ plus the change's place in
/// its batch, so that they grow from batch to batch.
pub(crate) const SEQUENCE_SCALE: u128 = 1_000_000_000;

impl SnowflakeSession {
    /// Opens run `run`: creates the bookkeeping when missing and fences older runs.
    pub(crate) async fn open(
        client: Client,
        mut session: Session,
        host: String,
        run_: Run,
        mode: SnowflakeMode,
    ) -> Result<Self, DestinationError> {
        let target = client.target();
        let schema = crate::sql::schema(&target.database, &target.schema);
        if let Some(warehouse) = target.warehouse.clone() {
            run(
                &mut session,
                &host,
                "warehouse",
                &format!("USE WAREHOUSE {}", crate::sql::identifier(&warehouse)),
                &[],
            )
            .await?;
        }
        run(
            &mut session,
            &host,
            &schema,
            &format!("CREATE SCHEMA IF NOT EXISTS {schema}"),
            &[],
        )
        .await?;
        for definition in bookkeeping::definitions(&schema) {
            run(
                &mut session,
                &host,
                bookkeeping::CHECKPOINTS,
                &definition,
                &[],
            )
            .await?;
        }
        bookkeeping::fence(&mut session, &host, &schema, run_).await?;
        Ok(Self {
            client,
            session,
            host,
            run: run_,
            schema,
            mode,
            layouts: HashMap::new(),
            targets: HashMap::new(),
            pending: Vec::new(),
            sequence: 0,
        })
    }

    fn layout(&self, relation: RelationId) -> Result<&Arc<TableLayout>, DestinationError> {
        self.layouts.get(&relation).ok_or_else(|| {
            DestinationError::Unknown(anyhow::anyhow!(
                "a change to table {relation}, which was not prepared"
            ))
        })
    }

    /// The existing table's columns and their types (upper-cased names), empty when the
    /// table does not exist.
    async fn existing_columns(
        &mut self,
        layout: &TableLayout,
    ) -> Result<Vec<(String, String)>, DestinationError> {
        let target = self.client.target();
        let (database, schema) = (
            unquote(&crate::sql::identifier(&target.database)),
            unquote(&crate::sql::identifier(&target.schema)),
        );
        let catalog = crate::sql::identifier(&target.database);
        let outcome = run(
            &mut self.session,
            &self.host,
            &layout.shown,
            &format!(
                "SELECT COLUMN_NAME, DATA_TYPE FROM {catalog}.INFORMATION_SCHEMA.COLUMNS \
                 WHERE TABLE_CATALOG = ? AND TABLE_SCHEMA = ? AND TABLE_NAME = ?"
            ),
            &[Some(database), Some(schema), Some(unquote(&layout.shown))],
        )
        .await?;
        Ok(outcome
            .rows
            .into_iter()
            .map(|row| {
                let mut values = row.into_iter().map(Option::unwrap_or_default);
                (
                    values.next().unwrap_or_default(),
                    values.next().unwrap_or_default(),
                )
            })
            .collect())
    }

    /// Sends the batch in one transaction with `checkpoint`.
    async fn send(&mut self, checkpoint: Checkpoint) -> Result<(), DestinationError> {
        let host = self.host.clone();
        run(&mut self.session, &host, "transaction", "BEGIN", &[]).await?;
        let base = u128::from(checkpoint.end_lsn.get()) * SEQUENCE_SCALE;
        for statement in &self.pending {
            run_statement(&mut self.session, &host, statement, base).await?;
        }
        bookkeeping::write_checkpoint(&mut self.session, &host, &self.schema, self.run, checkpoint)
            .await?;
        run(&mut self.session, &host, "transaction", "COMMIT", &[]).await?;
        Ok(())
    }

    /// Rolls back what a failed batch left open (Snowflake would keep its locks until the
    /// session ends).
    async fn roll_back(&mut self) {
        let host = self.host.clone();
        if let Err(error) = run(&mut self.session, &host, "transaction", "ROLLBACK", &[]).await {
            tracing::debug!(%error, "could not roll back on Snowflake");
        }
    }
}

fn unquote(quoted: &str) -> String {
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(quoted)
        .replace("\"\"", "\"")
}

#[async_trait]
impl DestinationSession for SnowflakeSession {
    async fn state(&mut self) -> Result<Option<DestinationState>, DestinationError> {
        bookkeeping::state(
            &mut self.session,
            &self.host,
            &self.schema,
            self.run.pipeline,
            self.mode,
        )
        .await
    }

    async fn reset(&mut self, slot: &str) -> Result<(), DestinationError> {
        let host = self.host.clone();
        run(&mut self.session, &host, "transaction", "BEGIN", &[]).await?;
        let outcome =
            bookkeeping::reset(&mut self.session, &host, &self.schema, self.run, slot).await;
        match outcome {
            Ok(()) => run(&mut self.session, &host, "transaction", "COMMIT", &[])
                .await
                .map(drop),
            Err(error) => {
                self.roll_back().await;
                Err(error)
            }
        }
    }

    async fn prepare_table(&mut self, table: &TableSchema) -> Result<(), DestinationError> {
        let layout = TableLayout::new(&self.schema, table, self.mode);
        if self.mode == SnowflakeMode::Mirror && !table.has_key() {
            return Err(DestinationError::Incompatible {
                table: layout.shown.clone(),
                reason: format!(
                    "{} has no primary key (nor replica identity index), and a mirror keeps \
                     rows by key: add one, or use the changelog mode",
                    table.name
                ),
            });
        }
        let mut seen = std::collections::HashSet::new();
        if let Some((name, _)) = layout.columns.iter().find(|(name, _)| !seen.insert(name)) {
            return Err(DestinationError::Incompatible {
                table: layout.shown.clone(),
                reason: format!(
                    "two columns of {} are both {name} in Snowflake (names differing only in \
                     case)",
                    table.name
                ),
            });
        }
        if let Some(other) = self.targets.get(&layout.target) {
            if *other != table.name {
                return Err(DestinationError::Incompatible {
                    table: layout.shown.clone(),
                    reason: format!("both {other} and {} would land in it", table.name),
                });
            }
        }
        let host = self.host.clone();
        let existing = self.existing_columns(&layout).await?;
        if existing.is_empty() {
            run(
                &mut self.session,
                &host,
                &layout.shown,
                &layout.create(),
                &[],
            )
            .await?;
        } else {
            for (name, kind) in &layout.columns {
                let bare = unquote(name);
                match existing.iter().find(|(column, _)| *column == bare) {
                    Some((_, data_type)) if kind.accepts(data_type) => {}
                    Some((_, data_type)) => {
                        return Err(DestinationError::Incompatible {
                            table: layout.shown.clone(),
                            reason: format!(
                                "column {name} is {data_type}, and {} needs {}",
                                table.name,
                                kind.ddl()
                            ),
                        })
                    }
                    None => {
                        run(
                            &mut self.session,
                            &host,
                            &layout.shown,
                            &format!(
                                "ALTER TABLE {} ADD COLUMN {name} {}",
                                layout.target,
                                kind.ddl()
                            ),
                            &[],
                        )
                        .await?;
                    }
                }
            }
        }
        self.targets
            .insert(layout.target.clone(), table.name.clone());
        self.layouts.insert(table.id, Arc::new(layout));
        Ok(())
    }

    async fn copy_table(
        &self,
        table: &TableSchema,
    ) -> Result<Box<dyn TableCopy>, DestinationError> {
        let layout = self.layouts.get(&table.id).cloned().ok_or_else(|| {
            DestinationError::Unknown(anyhow::anyhow!("{} was not prepared", table.name))
        })?;
        let copy = SnowflakeTableCopy::begin(
            &self.client,
            self.host.clone(),
            self.schema.clone(),
            self.run,
            table.name.clone(),
            layout,
        )
        .await?;
        Ok(Box::new(copy))
    }

    async fn apply(&mut self, changes: &[Change]) -> Result<(), DestinationError> {
        let mut folds: HashMap<RelationId, Fold<'_>> = HashMap::new();
        let mut logged: HashMap<RelationId, Vec<Vec<statements::Bound>>> = HashMap::new();
        let mut out = Vec::new();
        for change in changes {
            let relations: Vec<RelationId> = match change {
                Change::Insert { relation, .. }
                | Change::Update { relation, .. }
                | Change::Delete { relation, .. } => vec![*relation],
                Change::Truncate { relations, .. } => relations.clone(),
            };
            for relation in relations {
                let layout = Arc::clone(self.layout(relation)?);
                match (self.mode, change) {
                    (SnowflakeMode::Mirror, Change::Truncate { .. }) => {
                        if let Some(fold) = folds.get_mut(&relation) {
                            statements::write_fold(&layout, fold, &mut out);
                        }
                        out.push(statements::truncate(&layout));
                    }
                    (SnowflakeMode::Mirror, change) => {
                        let fold = folds
                            .entry(relation)
                            .or_insert_with(|| Fold::new(&layout.key, layout.columns.len()));
                        statements::mirror_change(&layout, fold, change, &mut out).map_err(
                            |reason| DestinationError::Rejected {
                                table: layout.shown.clone(),
                                reason,
                            },
                        )?;
                    }
                    (SnowflakeMode::Changelog, change) => {
                        let rows = logged.entry(relation).or_default();
                        statements::changelog_rows(&layout, change, &mut self.sequence, rows);
                    }
                }
            }
        }
        for (relation, mut fold) in folds {
            let layout = Arc::clone(self.layout(relation)?);
            statements::write_fold(&layout, &mut fold, &mut out);
        }
        for (relation, rows) in logged {
            let layout = Arc::clone(self.layout(relation)?);
            out.extend(statements::append_changelog(&layout, rows));
        }
        self.pending.extend(out);
        Ok(())
    }

    async fn commit(&mut self, checkpoint: Checkpoint) -> Result<(), DestinationError> {
        let sent = self.send(checkpoint).await;
        self.pending.clear();
        self.sequence = 0;
        if sent.is_err() {
            self.roll_back().await;
        }
        sent
    }

    async fn committed(&mut self) -> Result<(), DestinationError> {
        // `commit` returns once Snowflake has committed.
        Ok(())
    }
}
