//! Writing a batch of changes: keyed tables' changes are folded to their net effect and
//! written set-based ([`Staged`]); keyless tables' changes are written row by row, in order
//! ([`RowWriter`]); a TRUNCATE is a barrier (what came before it is written first).
//!
//! Tables are written one after the other, not in the source's interleaving: the destination
//! tables Rosetta creates have no foreign keys, so no table's rows depend on another's. A
//! destination with foreign keys between replicated tables needs them `DEFERRABLE INITIALLY
//! DEFERRED` (checked at commit, when every table is written).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use anyhow::anyhow;
use rosetta_domain::ports::DestinationError;
use rosetta_domain::replication::{Change, Datum, RelationId};
use tokio_postgres::Client;

use crate::ahead::Ahead;
use crate::error;
use crate::layout::{join, TableLayout};
use crate::rowwise::RowWriter;
use crate::stage::{self, Encoded, Staged};
use rosetta_domain::replication::fold::{Fold, Folded, Key, Misfit};

/// The statements made for each table in this session.
#[derive(Default)]
pub(crate) struct Applier {
    staged: HashMap<RelationId, Staged>,
    rows: HashMap<RelationId, RowWriter>,
    /// Staging tables made so far: each gets a name of its own, so that one left over from a
    /// layout that changed never collides with its successor.
    stages_made: u64,
}

/// What writing a batch takes, in order: worked out from the changes alone (folding them,
/// encoding the staged rows), before anything is sent, so that it is done while the
/// destination is still busy with the batch before.
pub(crate) struct Plan<'a> {
    steps: Vec<Step<'a>>,
}

/// One step of a [`Plan`].
enum Step<'a> {
    /// A keyed table's net rows: the new ones copied into it, the others through its staging
    /// table.
    Stage {
        layout: Arc<TableLayout>,
        rows: Encoded,
    },
    /// A keyless table's changes, row by row.
    Rows {
        layout: Arc<TableLayout>,
        changes: Vec<&'a Change>,
    },
    /// A row moved to a new key, keeping values only the destination's row has.
    Move {
        layout: Arc<TableLayout>,
        from: Key,
        row: Cow<'a, [Datum]>,
    },
    /// A TRUNCATE of these tables.
    Truncate {
        relations: &'a [RelationId],
        restart_identity: bool,
    },
}

/// The changes of a plan not made into steps yet.
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

    /// Turns everything pending into steps, table by table.
    fn flush(
        &mut self,
        layouts: &HashMap<RelationId, Arc<TableLayout>>,
        steps: &mut Vec<Step<'a>>,
    ) -> Result<(), DestinationError> {
        for relation in std::mem::take(&mut self.order) {
            let layout = layout(layouts, relation)?;
            if let Some(fold) = self.folds.remove(&relation).filter(|f| !f.is_empty()) {
                steps.push(Step::Stage {
                    layout: Arc::clone(layout),
                    rows: stage::encode(layout, &fold),
                });
            }
            if let Some(changes) = self.rows.remove(&relation) {
                steps.push(Step::Rows {
                    layout: Arc::clone(layout),
                    changes,
                });
            }
        }
        Ok(())
    }
}

impl<'a> Plan<'a> {
    /// The plan that writes `changes`, each table with the layout in `layouts`.
    ///
    /// # Errors
    ///
    /// `Unknown` when a change is to a table not prepared or does not fit its layout.
    pub(crate) fn new(
        layouts: &HashMap<RelationId, Arc<TableLayout>>,
        changes: &'a [Change],
    ) -> Result<Self, DestinationError> {
        let mut steps = Vec::new();
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
                    pending.flush(layouts, &mut steps)?;
                    steps.push(Step::Truncate {
                        relations,
                        restart_identity: *restart_identity,
                    });
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
                    if !fold.is_empty() {
                        steps.push(Step::Stage {
                            layout: Arc::clone(layout),
                            rows: stage::encode(layout, fold),
                        });
                        fold.clear();
                    }
                    steps.push(Step::Move {
                        layout: Arc::clone(layout),
                        from,
                        row,
                    });
                }
            }
        }
        pending.flush(layouts, &mut steps)?;
        Ok(Self { steps })
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

    /// Writes `plan` in the open transaction; the replies of the statements sent ahead come
    /// to `ahead`.
    pub(crate) async fn write(
        &mut self,
        client: &Arc<Client>,
        host: &str,
        layouts: &HashMap<RelationId, Arc<TableLayout>>,
        plan: Plan<'_>,
        ahead: &mut Ahead,
    ) -> Result<(), DestinationError> {
        for step in plan.steps {
            match step {
                Step::Stage { layout, rows } => {
                    self.staged(client, host, &layout)
                        .await?
                        .write(client, host, rows, ahead)
                        .await?;
                }
                Step::Rows { layout, changes } => {
                    self.row_writer(&layout)
                        .write(client, host, &changes)
                        .await?;
                }
                Step::Move { layout, from, row } => {
                    self.row_writer(&layout)
                        .move_row(client, host, &from, &row)
                        .await?;
                }
                Step::Truncate {
                    relations,
                    restart_identity,
                } => truncate(client, host, layouts, relations, restart_identity).await?,
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
