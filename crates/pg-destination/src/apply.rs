//! Writing a batch of changes: keyed tables' changes are folded to their net effect and
//! written set-based ([`Staged`]); keyless tables' changes are written row by row, in order
//! ([`RowWriter`]); a TRUNCATE is a barrier (what came before it is written first).
//!
//! Tables are written one after the other, not in the source's interleaving: the destination
//! tables Rosetta creates have no foreign keys, so no table's rows depend on another's. A
//! destination with foreign keys between replicated tables needs them `DEFERRABLE INITIALLY
//! DEFERRED` (checked at commit, when every table is written).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::anyhow;
use rosetta_domain::ports::DestinationError;
use rosetta_domain::replication::{Change, RelationId};
use tokio_postgres::Client;

use crate::error;
use crate::fold::{Fold, Folded, Misfit};
use crate::layout::{join, TableLayout};
use crate::rowwise::RowWriter;
use crate::stage::Staged;

/// The statements made for each table in this session.
#[derive(Default)]
pub(crate) struct Applier {
    staged: HashMap<RelationId, Staged>,
    rows: HashMap<RelationId, RowWriter>,
    /// Staging tables made so far: each gets a name of its own, so that one left over from a
    /// layout that changed never collides with its successor.
    stages_made: u64,
}

/// The changes of a batch not written yet.
#[derive(Default)]
struct Pending<'a> {
    /// Tables in the order their first change came, so that writes are reproducible.
    order: Vec<RelationId>,
    folds: HashMap<RelationId, Fold<'a>>,
    rows: HashMap<RelationId, Vec<&'a Change>>,
}

impl<'a> Pending<'a> {
    fn fold(&mut self, layout: &TableLayout) -> &mut Fold<'a> {
        if !self.folds.contains_key(&layout.relation) {
            self.order.push(layout.relation);
        }
        self.folds
            .entry(layout.relation)
            .or_insert_with(|| Fold::new(&layout.key, layout.columns.len()))
    }

    fn rows(&mut self, relation: RelationId) -> &mut Vec<&'a Change> {
        if !self.rows.contains_key(&relation) {
            self.order.push(relation);
        }
        self.rows.entry(relation).or_default()
    }
}

impl Applier {
    /// Forgets every statement and staging table: after a rollback, which takes the staging
    /// tables it created with it.
    pub(crate) fn forget(&mut self) {
        self.staged.clear();
        self.rows.clear();
    }

    /// Forgets `relation`'s statements, made for a layout that changed.
    pub(crate) fn forget_table(&mut self, relation: RelationId) {
        self.staged.remove(&relation);
        self.rows.remove(&relation);
    }

    /// The open transaction committed: the staging tables are empty again.
    pub(crate) fn ended(&mut self) {
        for staged in self.staged.values_mut() {
            staged.ended();
        }
    }

    /// Writes `changes` in the open transaction, each table with the layout in `layouts`.
    pub(crate) async fn apply(
        &mut self,
        client: &Client,
        host: &str,
        layouts: &HashMap<RelationId, Arc<TableLayout>>,
        changes: &[Change],
    ) -> Result<(), DestinationError> {
        let mut pending = Pending::default();
        for change in changes {
            let relation = match change {
                Change::Insert { relation, .. }
                | Change::Update { relation, .. }
                | Change::Delete { relation, .. } => *relation,
                Change::Truncate {
                    relations,
                    restart_identity,
                } => {
                    self.flush(client, host, layouts, &mut pending).await?;
                    truncate(client, host, layouts, relations, *restart_identity).await?;
                    continue;
                }
            };
            let layout = layout(layouts, relation)?;
            if !layout.keyed() {
                pending.rows(relation).push(change);
                continue;
            }
            let fold = pending.fold(layout);
            match fold.fold(change).map_err(|m| misfit(layout, &m))? {
                Folded::Done => {}
                Folded::Move { from, row } => {
                    self.staged(client, host, layout)
                        .await?
                        .write(client, host, fold)
                        .await?;
                    fold.clear();
                    self.row_writer(layout)
                        .move_row(client, host, &from, &row)
                        .await?;
                }
            }
        }
        self.flush(client, host, layouts, &mut pending).await
    }

    /// Writes everything pending, table by table.
    async fn flush(
        &mut self,
        client: &Client,
        host: &str,
        layouts: &HashMap<RelationId, Arc<TableLayout>>,
        pending: &mut Pending<'_>,
    ) -> Result<(), DestinationError> {
        for relation in std::mem::take(&mut pending.order) {
            let layout = layout(layouts, relation)?;
            if let Some(fold) = pending.folds.remove(&relation) {
                self.staged(client, host, layout)
                    .await?
                    .write(client, host, &fold)
                    .await?;
            }
            if let Some(changes) = pending.rows.remove(&relation) {
                self.row_writer(layout)
                    .write(client, host, &changes)
                    .await?;
            }
        }
        Ok(())
    }

    /// The staging table and statements of `layout`, made when missing or outdated.
    async fn staged(
        &mut self,
        client: &Client,
        host: &str,
        layout: &Arc<TableLayout>,
    ) -> Result<&mut Staged, DestinationError> {
        let current = self
            .staged
            .get(&layout.relation)
            .is_some_and(|staged| Arc::ptr_eq(staged.layout(), layout));
        if !current {
            self.stages_made += 1;
            let staged = Staged::create(client, host, Arc::clone(layout), self.stages_made).await?;
            self.staged.insert(layout.relation, staged);
        }
        self.staged
            .get_mut(&layout.relation)
            .ok_or_else(|| DestinationError::Unknown(anyhow!("the staging table vanished")))
    }

    /// The row-at-a-time statements of `layout`.
    fn row_writer(&mut self, layout: &Arc<TableLayout>) -> &mut RowWriter {
        let writer = self
            .rows
            .entry(layout.relation)
            .or_insert_with(|| RowWriter::new(Arc::clone(layout)));
        if !Arc::ptr_eq(writer.layout(), layout) {
            *writer = RowWriter::new(Arc::clone(layout));
        }
        writer
    }
}

/// Empties `relations` at once, as the source did.
async fn truncate(
    client: &Client,
    host: &str,
    layouts: &HashMap<RelationId, Arc<TableLayout>>,
    relations: &[RelationId],
    restart_identity: bool,
) -> Result<(), DestinationError> {
    let mut tables: Vec<&TableLayout> = Vec::with_capacity(relations.len());
    for &relation in relations {
        let table = layout(layouts, relation)?;
        if !tables.iter().any(|t| t.relation == relation) {
            tables.push(table);
        }
    }
    if tables.is_empty() {
        return Ok(());
    }
    let names = join(tables.iter().map(|t| t.sql_name.as_str()));
    let restart = if restart_identity {
        " RESTART IDENTITY"
    } else {
        ""
    };
    let display = join(tables.iter().map(|t| t.display.as_str()));
    client
        .batch_execute(&format!("TRUNCATE {names}{restart}"))
        .await
        .map_err(|e| error::statement(host, &display, &e))
}

fn layout(
    layouts: &HashMap<RelationId, Arc<TableLayout>>,
    relation: RelationId,
) -> Result<&Arc<TableLayout>, DestinationError> {
    layouts.get(&relation).ok_or_else(|| {
        DestinationError::Unknown(anyhow!(
            "a change to the source table with oid {relation}, which was not prepared \
             (prepare_table comes first)"
        ))
    })
}

fn misfit(layout: &TableLayout, misfit: &Misfit) -> DestinationError {
    DestinationError::Unknown(anyhow!(
        "cannot write a change of {}: {}",
        layout.display,
        misfit.0
    ))
}
