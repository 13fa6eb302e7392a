//! Row-at-a-time writes, for what the set-based path cannot do: tables without a key (each
//! change finds its row by all its old values, and touches one such row, in order) and a row
//! moved to a new key keeping values only the destination holds. The statements are prepared
//! once per shape and pipelined.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::{stream, StreamExt};
use rosetta_domain::ports::DestinationError;
use rosetta_domain::replication::{Change, Datum};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Statement};

use crate::error;
use crate::layout::{ColumnLayout, TableLayout};
use crate::sql::TextParam;
use rosetta_domain::replication::fold::Key;

/// How many statements are in flight at once: enough to hide the round trips, few enough
/// that a failure wastes little.
const DEPTH: usize = 256;

/// What a statement does, and which columns it leaves out (positions of `Unchanged` values).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Shape {
    Insert,
    Delete { old: Box<[u16]> },
    Update { old: Box<[u16]>, new: Box<[u16]> },
    Move { new: Box<[u16]> },
}

/// One table's row-at-a-time statements.
pub(crate) struct RowWriter {
    layout: Arc<TableLayout>,
    statements: HashMap<Shape, Statement>,
}

impl RowWriter {
    /// No statement prepared yet for `layout`.
    pub(crate) fn new(layout: Arc<TableLayout>) -> Self {
        Self {
            layout,
            statements: HashMap::new(),
        }
    }

    /// The layout the statements are made for.
    pub(crate) fn layout(&self) -> &Arc<TableLayout> {
        &self.layout
    }

    /// Writes `changes` (inserts, updates, deletes of this keyless table) in order.
    pub(crate) async fn write(
        &mut self,
        client: &Client,
        host: &str,
        changes: &[&Change],
    ) -> Result<(), DestinationError> {
        let mut work = Vec::with_capacity(changes.len());
        for change in changes {
            if let Some(statement) = self.row_statement(change)? {
                work.push(statement);
            }
        }
        self.run(client, host, work).await
    }

    /// Moves the row at key `from` to the values `row` (its new key among them), keeping the
    /// destination's values where `row` is `Unchanged`.
    pub(crate) async fn move_row(
        &mut self,
        client: &Client,
        host: &str,
        from: &Key,
        row: &[Datum],
    ) -> Result<(), DestinationError> {
        let new = unchanged(row);
        let mut params: Vec<TextParam<'_>> = (0..self.layout.key.len())
            .map(|k| TextParam(from.value(k).map(|v| &v[..])))
            .collect();
        params.extend(supplied(row, &new));
        let new = new.clone();
        self.run(client, host, vec![(Shape::Move { new }, params)])
            .await
    }

    /// The statement and parameters that write `change`; `None` when it changes nothing.
    fn row_statement<'c>(
        &self,
        change: &'c Change,
    ) -> Result<Option<(Shape, Vec<TextParam<'c>>)>, DestinationError> {
        let width = self.layout.columns.len();
        let misfit = |what: &str| {
            DestinationError::Unknown(anyhow::anyhow!(
                "cannot write a change of {}: {what}",
                self.layout.display
            ))
        };
        let fits = |values: &[Datum]| {
            if values.len() == width {
                Ok(())
            } else {
                Err(misfit("its row does not have the table's columns"))
            }
        };
        Ok(match change {
            Change::Insert { new, .. } => {
                fits(&new.0)?;
                Some((Shape::Insert, new.0.iter().map(TextParam::of).collect()))
            }
            Change::Delete { old, .. } => {
                fits(&old.0)?;
                let skip = unchanged(&old.0);
                if skip.len() == width {
                    return Err(misfit("its old row holds no value to find it by"));
                }
                let params = supplied(&old.0, &skip);
                Some((Shape::Delete { old: skip }, params))
            }
            Change::Update {
                old: Some(old),
                new,
                ..
            } => {
                fits(&old.0)?;
                fits(&new.0)?;
                let skip_old = unchanged(&old.0);
                if skip_old.len() == width {
                    return Err(misfit("its old row holds no value to find it by"));
                }
                // An unchanged value is the old row's, which the old row holds under FULL.
                let skip_new: Box<[u16]> = unchanged(&new.0)
                    .iter()
                    .copied()
                    .filter(|&i| !matches!(old.0[usize::from(i)], Datum::Text(_)))
                    .collect();
                if skip_new.len() == width {
                    return Ok(None);
                }
                let mut params = supplied(&old.0, &skip_old);
                params.extend(
                    new.0
                        .iter()
                        .zip(&old.0)
                        .enumerate()
                        .filter_map(|(i, (n, o))| {
                            let i = u16::try_from(i).unwrap_or(u16::MAX);
                            if skip_new.contains(&i) {
                                None
                            } else if *n == Datum::Unchanged {
                                Some(TextParam::of(o))
                            } else {
                                Some(TextParam::of(n))
                            }
                        }),
                );
                Some((
                    Shape::Update {
                        old: skip_old,
                        new: skip_new,
                    },
                    params,
                ))
            }
            Change::Update { old: None, .. } => {
                return Err(misfit(
                    "an update without the old row, and the table has no key to find it by",
                ))
            }
            Change::Truncate { .. } => return Err(misfit("a TRUNCATE is not a row change")),
        })
    }

    /// Prepares the shapes `work` needs, then runs it in order, pipelined.
    async fn run(
        &mut self,
        client: &Client,
        host: &str,
        work: Vec<(Shape, Vec<TextParam<'_>>)>,
    ) -> Result<(), DestinationError> {
        let fail = |e: tokio_postgres::Error| error::statement(host, &self.layout.display, &e);
        for (shape, params) in &work {
            if !self.statements.contains_key(shape) {
                let sql = self.sql(shape);
                let types = vec![Type::TEXT; params.len()];
                let statement = client.prepare_typed(&sql, &types).await.map_err(fail)?;
                self.statements.insert(shape.clone(), statement);
            }
        }
        let statements = &self.statements;
        let executions: Vec<_> = work
            .iter()
            .filter_map(|(shape, params)| {
                statements
                    .get(shape)
                    .map(|statement| client.execute_raw(statement, params.iter().copied()))
            })
            .collect();
        // `buffered` first polls the statements in order, and each is sent when first
        // polled, so the server runs them in order.
        let mut results = stream::iter(executions).buffered(DEPTH);
        while let Some(result) = results.next().await {
            result.map_err(|e| error::statement(host, &self.layout.display, &e))?;
        }
        Ok(())
    }

    /// The statement of `shape`, its parameters numbered as `row_statement` orders them.
    fn sql(&self, shape: &Shape) -> String {
        let layout = &self.layout;
        let table = &layout.sql_name;
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        match shape {
            Shape::Insert => {
                let values: Vec<String> = layout
                    .columns
                    .iter()
                    .map(|c| format!("${}::{}", next(), c.sql_type))
                    .collect();
                format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    layout.column_list(),
                    values.join(", ")
                )
            }
            Shape::Delete { old } => {
                let find = locate(layout, &matching(layout, old, &mut next));
                format!("DELETE FROM {table} WHERE {find}")
            }
            Shape::Update { old, new } => {
                let find = locate(layout, &matching(layout, old, &mut next));
                let sets = assignments(layout, new, &mut next);
                format!("UPDATE {table} SET {sets} WHERE {find}")
            }
            Shape::Move { new } => {
                let key: Vec<String> = layout
                    .key
                    .iter()
                    .map(|&i| {
                        let c = &layout.columns[i];
                        format!("{} = ${}::{}", c.sql_name, next(), c.sql_type)
                    })
                    .collect();
                let sets = assignments(layout, new, &mut next);
                format!("UPDATE {table} SET {sets} WHERE {}", key.join(" AND "))
            }
        }
    }
}

/// The positions of `values` that are `Unchanged`.
fn unchanged(values: &[Datum]) -> Box<[u16]> {
    values
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == Datum::Unchanged)
        .map(|(i, _)| u16::try_from(i).unwrap_or(u16::MAX))
        .collect()
}

/// The parameters of `values` but those at `skip`.
fn supplied<'c>(values: &'c [Datum], skip: &[u16]) -> Vec<TextParam<'c>> {
    values
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.iter().any(|&s| usize::from(s) == *i))
        .map(|(_, d)| TextParam::of(d))
        .collect()
}

fn kept<'l>(layout: &'l TableLayout, skip: &'l [u16]) -> impl Iterator<Item = &'l ColumnLayout> {
    layout
        .columns
        .iter()
        .enumerate()
        .filter(move |(i, _)| !skip.iter().any(|&s| usize::from(s) == *i))
        .map(|(_, c)| c)
}

/// `c1 IS NOT DISTINCT FROM $1::t1 AND …` over the columns not at `skip`; a column whose type
/// has no equality (`json`, …) is compared as text.
fn matching(layout: &TableLayout, skip: &[u16], next: &mut impl FnMut() -> usize) -> String {
    kept(layout, skip)
        .map(|c| {
            if c.comparable {
                format!(
                    "{} IS NOT DISTINCT FROM ${}::{}",
                    c.sql_name,
                    next(),
                    c.sql_type
                )
            } else {
                format!("{}::text IS NOT DISTINCT FROM ${}", c.sql_name, next())
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `c1 = $n::t1, …` over the columns not at `skip`.
fn assignments(layout: &TableLayout, skip: &[u16], next: &mut impl FnMut() -> usize) -> String {
    kept(layout, skip)
        .map(|c| format!("{} = ${}::{}", c.sql_name, next(), c.sql_type))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The condition that picks one row matching `condition` (by its physical address, so that
/// of several equal rows only one changes, as on the source).
fn locate(layout: &TableLayout, condition: &str) -> String {
    let table = &layout.sql_name;
    if layout.partitioned {
        // A row's ctid is unique only within its partition.
        format!("(tableoid, ctid) = (SELECT tableoid, ctid FROM {table} WHERE {condition} LIMIT 1)")
    } else {
        format!("ctid = (SELECT ctid FROM {table} WHERE {condition} LIMIT 1)")
    }
}
