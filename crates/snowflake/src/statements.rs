//! The statements that write a batch of changes into Snowflake, set-based: rows travel as
//! text bindings of a `VALUES` list, cast to their columns' types in a `SELECT` over it.
//!
//! - **mirror**: a batch's changes to a table are folded into one net operation per key;
//!   the keys are deleted (one `DELETE … USING`), the rows inserted (one `INSERT … SELECT`),
//!   and rows holding values the stream did not repeat updated in place (`UPDATE … FROM`).
//!   Snowflake's `MERGE` would do the same in one statement, but its emulator cannot run one
//!   inside a transaction, and every batch commits with its checkpoint.
//! - **changelog**: every change is a row of its own, appended with its operation, the time it
//!   was written and its place in the stream.

use rosetta_domain::replication::fold::{Fold, Folded, Key, Net};
use rosetta_domain::replication::{Change, Datum};

use crate::layout::{Kind, TableLayout};

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bound {
    /// Text, or NULL.
    Text(Option<String>),
    /// The change's place in its batch: bound as the batch's base sequence plus this, once the
    /// batch's checkpoint is known.
    Sequence(u64),
}

/// A statement and its bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    /// The SQL, with `?` placeholders.
    pub(crate) sql: String,
    /// One value per placeholder.
    pub(crate) bindings: Vec<Bound>,
    /// The table it writes, as errors name it.
    pub(crate) table: String,
}

/// At most this many values are bound to one statement.
const MAX_BINDINGS: usize = 16_000;
/// Snowflake's limit on the rows of one `VALUES` list.
const MAX_ROWS: usize = 16_384;

/// How many rows of `width` values one statement carries.
pub(crate) fn rows_per_statement(width: usize) -> usize {
    (MAX_BINDINGS / width.max(1)).clamp(1, MAX_ROWS)
}

/// `(VALUES (?, ?), (?, ?)) AS V (C1, C2)` for `rows` rows of `width` values.
fn values(rows: usize, width: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    let names: Vec<String> = (1..=width).map(|i| format!("C{i}")).collect();
    format!(
        "(VALUES {}) AS V ({})",
        vec![row.as_str(); rows].join(", "),
        names.join(", ")
    )
}

/// The statements that run `template` (which names the `VALUES` list `{values}`) over `rows`,
/// as many rows per statement as the bindings allow.
fn chunked(
    layout: &TableLayout,
    rows: Vec<Vec<Bound>>,
    template: impl Fn(&str) -> String,
) -> Vec<Statement> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Vec::new();
    };
    rows.chunks(rows_per_statement(width))
        .map(|chunk| Statement {
            sql: template(&values(chunk.len(), width)),
            bindings: chunk.iter().flatten().cloned().collect(),
            table: layout.shown.clone(),
        })
        .collect()
}

/// `"A" = ROSETTA_S."A" AND …` over the key columns.
fn key_match(layout: &TableLayout) -> String {
    layout
        .key
        .iter()
        .map(|&i| {
            let name = &layout.columns[i].0;
            format!("{}.{name} = ROSETTA_S.{name}", layout.shown)
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `V.C1::NUMBER(38,0) AS "ID", …` for `positions` (their values bound in that order).
fn casts(layout: &TableLayout, positions: &[usize]) -> String {
    positions
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let (name, kind) = &layout.columns[i];
            format!("{} AS {name}", kind.cast(&format!("V.C{}", n + 1)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn bind(kind: Kind, datum: &Datum) -> Bound {
    Bound::Text(kind.bind(datum))
}

fn key_bindings(layout: &TableLayout, key: &Key) -> Vec<Bound> {
    layout
        .key
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let kind = layout.columns[i].1;
            Bound::Text(
                key.value(n)
                    .map(|value| kind.text(&String::from_utf8_lossy(value))),
            )
        })
        .collect()
}

/// Deletes the rows of `keys`.
fn delete_keys(layout: &TableLayout, keys: Vec<Vec<Bound>>) -> Vec<Statement> {
    chunked(layout, keys, |values| {
        format!(
            "DELETE FROM {} USING (SELECT {} FROM {values}) AS ROSETTA_S WHERE {}",
            layout.target,
            casts(layout, &layout.key),
            key_match(layout)
        )
    })
}

/// Inserts whole rows (every column, in order): a mirror's batch, or a copy's.
pub(crate) fn insert_rows(layout: &TableLayout, rows: Vec<Vec<Bound>>) -> Vec<Statement> {
    let all: Vec<usize> = (0..layout.columns.len()).collect();
    chunked(layout, rows, |values| {
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {values}",
            layout.target,
            layout.column_list(),
            casts(layout, &all)
        )
    })
}

/// Updates the columns at `present` (key columns first, then the others) of existing rows.
fn update_rows(layout: &TableLayout, present: &[usize], rows: Vec<Vec<Bound>>) -> Vec<Statement> {
    let set: Vec<String> = present
        .iter()
        .filter(|i| !layout.key.contains(i))
        .map(|&i| {
            let name = &layout.columns[i].0;
            format!("{name} = ROSETTA_S.{name}")
        })
        .collect();
    if set.is_empty() {
        return Vec::new();
    }
    chunked(layout, rows, |values| {
        format!(
            "UPDATE {} SET {} FROM (SELECT {} FROM {values}) AS ROSETTA_S WHERE {}",
            layout.target,
            set.join(", "),
            casts(layout, present),
            key_match(layout)
        )
    })
}

/// The statements that make the table hold what `fold` says, then empty the fold.
pub(crate) fn write_fold(layout: &TableLayout, fold: &mut Fold<'_>, out: &mut Vec<Statement>) {
    let mut gone = Vec::new();
    let mut whole = Vec::new();
    // Rows holding values the stream did not repeat, grouped by which columns they carry.
    let mut partial: Vec<(Vec<usize>, Vec<Vec<Bound>>)> = Vec::new();
    for (key, net, _) in fold.iter() {
        match net {
            Net::Delete => gone.push(key_bindings(layout, key)),
            Net::Upsert(row) if !row.contains(&Datum::Unchanged) => {
                gone.push(key_bindings(layout, key));
                whole.push(
                    row.iter()
                        .zip(&layout.columns)
                        .map(|(datum, (_, kind))| bind(*kind, datum))
                        .collect(),
                );
            }
            Net::Upsert(row) => {
                let mut present: Vec<usize> = layout.key.clone();
                present.extend(
                    (0..row.len())
                        .filter(|i| !layout.key.contains(i) && row[*i] != Datum::Unchanged),
                );
                let values = present
                    .iter()
                    .map(|&i| bind(layout.columns[i].1, &row[i]))
                    .collect();
                match partial.iter_mut().find(|(p, _)| *p == present) {
                    Some((_, rows)) => rows.push(values),
                    None => partial.push((present, vec![values])),
                }
            }
        }
    }
    out.extend(delete_keys(layout, gone));
    out.extend(insert_rows(layout, whole));
    for (present, rows) in partial {
        out.extend(update_rows(layout, &present, rows));
    }
    fold.clear();
}

/// Moves the row at key `from` to the key `row` holds, keeping the old row's values where
/// `row` has `Unchanged`.
fn move_row(layout: &TableLayout, from: &Key, row: &[Datum], out: &mut Vec<Statement>) {
    let mut bindings = Vec::new();
    let select: Vec<String> = row
        .iter()
        .zip(&layout.columns)
        .map(|(datum, (name, kind))| match datum {
            Datum::Unchanged => format!("{}.{name}", layout.shown),
            other => {
                bindings.push(bind(*kind, other));
                kind.cast("?")
            }
        })
        .collect();
    let matches: Vec<String> = layout
        .key
        .iter()
        .map(|&i| {
            let (name, kind) = &layout.columns[i];
            format!("{}.{name} = {}", layout.shown, kind.cast("?"))
        })
        .collect();
    let key = key_bindings(layout, from);
    bindings.extend(key.iter().cloned());
    out.push(Statement {
        sql: format!(
            "INSERT INTO {} ({}) SELECT {} FROM {} WHERE {}",
            layout.target,
            layout.column_list(),
            select.join(", "),
            layout.target,
            matches.join(" AND ")
        ),
        bindings,
        table: layout.shown.clone(),
    });
    out.push(Statement {
        sql: format!(
            "DELETE FROM {} WHERE {}",
            layout.target,
            matches.join(" AND ")
        ),
        bindings: key,
        table: layout.shown.clone(),
    });
}

/// Empties the table.
pub(crate) fn truncate(layout: &TableLayout) -> Statement {
    Statement {
        sql: format!("DELETE FROM {}", layout.target),
        bindings: Vec::new(),
        table: layout.shown.clone(),
    }
}

/// Folds `change` into `fold`, writing the fold first when the change moves a row whose
/// values only the table has.
///
/// # Errors
///
/// The fold's, when the change does not fit the table.
pub(crate) fn mirror_change<'a>(
    layout: &TableLayout,
    fold: &mut Fold<'a>,
    change: &'a Change,
    out: &mut Vec<Statement>,
) -> Result<(), String> {
    match fold.fold(change).map_err(|misfit| misfit.0)? {
        Folded::Done => Ok(()),
        Folded::Move { from, row } => {
            write_fold(layout, fold, out);
            move_row(layout, &from, &row, out);
            Ok(())
        }
    }
}

/// A changelog's rows for one change: its values, its operation and its place (`sequence`).
/// A key change is logged as the old row's delete then the new row's update; a value the
/// stream did not repeat is the old row's (under `REPLICA IDENTITY FULL`) or NULL.
pub(crate) fn changelog_rows(
    layout: &TableLayout,
    change: &Change,
    sequence: &mut u64,
    rows: &mut Vec<Vec<Bound>>,
) {
    let mut push = |values: &[Datum], fallback: Option<&[Datum]>, operation: &str| {
        let mut row: Vec<Bound> = values
            .iter()
            .enumerate()
            .zip(&layout.columns)
            .map(|((i, datum), (_, kind))| match datum {
                Datum::Unchanged => bind(*kind, fallback.map_or(&Datum::Null, |old| &old[i])),
                other => bind(*kind, other),
            })
            .collect();
        row.push(Bound::Text(Some(operation.to_owned())));
        row.push(Bound::Sequence(*sequence));
        *sequence += 1;
        rows.push(row);
    };
    match change {
        Change::Insert { new, .. } => push(&new.0, None, "INSERT"),
        Change::Update { old, new, .. } => {
            let old = old.as_ref().map(|row| row.0.as_slice());
            let moved = old.is_some_and(|old| {
                layout.key.iter().any(|&i| match (&old[i], &new.0[i]) {
                    (Datum::Text(a), Datum::Text(b)) => a != b,
                    _ => false,
                })
            });
            if let (true, Some(old)) = (moved, old) {
                push(old, None, "DELETE");
            }
            push(&new.0, old, "UPDATE");
        }
        Change::Delete { old, .. } => push(&old.0, None, "DELETE"),
        Change::Truncate { .. } => {
            let empty = vec![Datum::Null; layout.columns.len()];
            push(&empty, None, "TRUNCATE");
        }
    }
}

/// Appends changelog rows (values, operation, sequence), stamped with the time they are
/// written.
pub(crate) fn append_changelog(layout: &TableLayout, rows: Vec<Vec<Bound>>) -> Vec<Statement> {
    let width = layout.columns.len();
    let mut selected: Vec<String> = (0..width)
        .map(|i| {
            let (name, kind) = &layout.columns[i];
            format!("{} AS {name}", kind.cast(&format!("V.C{}", i + 1)))
        })
        .collect();
    selected.push(format!("V.C{}", width + 1));
    selected.push("CURRENT_TIMESTAMP()".to_owned());
    selected.push(format!("CAST(V.C{} AS NUMBER(38,0))", width + 2));
    chunked(layout, rows, |values| {
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {values}",
            layout.target,
            layout.column_list(),
            selected.join(", ")
        )
    })
}

/// One copied row's bindings (with, in changelog mode, its operation and an unset sequence).
pub(crate) fn copied_row(layout: &TableLayout, row: &[Datum]) -> Vec<Bound> {
    let mut bound: Vec<Bound> = row
        .iter()
        .zip(&layout.columns)
        .map(|(datum, (_, kind))| bind(*kind, datum))
        .collect();
    if layout.mode == rosetta_domain::SnowflakeMode::Changelog {
        bound.push(Bound::Text(Some("INSERT".to_owned())));
        bound.push(Bound::Text(None));
    }
    bound
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use rosetta_domain::replication::{
        Column, RelationId, ReplicaIdentity, Row, TableName, TableSchema,
    };
    use rosetta_domain::SnowflakeMode;

    use super::*;

    fn text(value: &str) -> Datum {
        Datum::Text(Bytes::copy_from_slice(value.as_bytes()))
    }

    fn layout(mode: SnowflakeMode) -> TableLayout {
        let column = |name: &str, type_oid, type_name: &str| Column {
            name: name.to_owned(),
            type_oid,
            type_modifier: -1,
            type_name: type_name.to_owned(),
            nullable: name != "id",
            key: name == "id",
        };
        let table = TableSchema {
            id: RelationId::new(1),
            name: TableName::new("public", "t"),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![column("id", 23, "integer"), column("doc", 25, "text")],
        };
        TableLayout::new("\"DB\".\"S\"", &table, mode)
    }

    #[test]
    fn a_folded_batch_deletes_its_keys_then_inserts_its_rows() {
        let layout = layout(SnowflakeMode::Mirror);
        let changes = [
            Change::Insert {
                relation: RelationId::new(1),
                new: Row(vec![text("1"), text("a")]),
            },
            Change::Update {
                relation: RelationId::new(1),
                old: None,
                new: Row(vec![text("2"), Datum::Unchanged]),
            },
            Change::Delete {
                relation: RelationId::new(1),
                old: Row(vec![text("3"), Datum::Null]),
            },
        ];
        let mut fold = Fold::new(&layout.key, 2);
        let mut out = Vec::new();
        for change in &changes {
            mirror_change(&layout, &mut fold, change, &mut out).unwrap();
        }
        write_fold(&layout, &mut fold, &mut out);
        assert_eq!(out.len(), 2, "{out:#?}");
        assert!(out[0].sql.starts_with("DELETE FROM \"DB\".\"S\".\"T\" USING (SELECT CAST(V.C1 AS NUMBER(38,0)) AS \"ID\" FROM (VALUES (?), (?)) AS V (C1)) AS ROSETTA_S WHERE \"T\".\"ID\" = ROSETTA_S.\"ID\""), "{}", out[0].sql);
        assert_eq!(out[0].bindings.len(), 2);
        assert_eq!(
            out[1].sql,
            "INSERT INTO \"DB\".\"S\".\"T\" (\"ID\", \"DOC\") SELECT CAST(V.C1 AS NUMBER(38,0)) AS \"ID\", CAST(V.C2 AS VARCHAR) AS \"DOC\" FROM (VALUES (?, ?)) AS V (C1, C2)"
        );
        // The update with an unchanged value is neither deleted nor inserted, only updated:
        // and with nothing but its key present, there is nothing to set.
        assert!(fold.is_empty());
    }

    #[test]
    fn a_key_change_is_logged_as_a_delete_then_an_update() {
        let layout = layout(SnowflakeMode::Changelog);
        let mut rows = Vec::new();
        let mut sequence = 0;
        changelog_rows(
            &layout,
            &Change::Update {
                relation: RelationId::new(1),
                old: Some(Row(vec![text("1"), Datum::Null])),
                new: Row(vec![text("2"), text("b")]),
            },
            &mut sequence,
            &mut rows,
        );
        assert_eq!(sequence, 2);
        assert_eq!(rows[0][2], Bound::Text(Some("DELETE".to_owned())));
        assert_eq!(rows[1][2], Bound::Text(Some("UPDATE".to_owned())));
        assert_eq!(rows[1][3], Bound::Sequence(1));
        let statements = append_changelog(&layout, rows);
        assert_eq!(statements.len(), 1);
        assert!(statements[0]
            .sql
            .contains("CURRENT_TIMESTAMP(), CAST(V.C4 AS NUMBER(38,0))"));
    }

    #[test]
    fn statements_carry_as_many_rows_as_their_bindings_allow() {
        assert_eq!(rows_per_statement(1), 16_000);
        assert_eq!(rows_per_statement(100), 160);
        assert_eq!(rows_per_statement(100_000), 1);
    }
}
