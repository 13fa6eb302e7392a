//! Where a source table goes on the destination and how its rows are written there: the
//! destination table's name, columns and types, and its key. `prepare` makes the table ready
//! (creating it, or checking and extending an existing one) and returns its layout.

use std::collections::HashSet;

use rosetta_domain::ports::{CopyFormat, DestinationError};
use rosetta_domain::replication::{RelationId, TableName, TableSchema};
use tokio_postgres::Client;

use crate::error;
use crate::row::get;
use crate::sql::ident;

/// One column of a destination table, as the writer's statements use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnLayout {
    /// Its name as the source spells it.
    pub(crate) name: String,
    /// Its name quoted for SQL.
    pub(crate) sql_name: String,
    /// Its type as the destination's `format_type` writes it (safe to put in a statement).
    pub(crate) sql_type: String,
    /// Whether the source's type does not exist on the destination, so that the column is
    /// `text` there.
    pub(crate) as_text: bool,
    /// Whether its type has an equality (a default btree or hash operator class), so that rows
    /// can be matched on it by value; other columns are matched on their text.
    pub(crate) comparable: bool,
    /// Whether the destination type is the source's and built into PostgreSQL (the same
    /// object id on both, below `FirstNormalObjectId`), so that its binary representation is
    /// read back as it was written.
    pub(crate) same_builtin_type: bool,
}

/// A source table's destination and row layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableLayout {
    /// The source table's object id.
    pub(crate) relation: RelationId,
    /// The source table.
    pub(crate) source: TableName,
    /// The destination table, `schema.name` unquoted, for messages.
    pub(crate) display: String,
    /// The destination table quoted for SQL.
    pub(crate) sql_name: String,
    /// The columns, in the order of the source's rows.
    pub(crate) columns: Vec<ColumnLayout>,
    /// The positions of the key columns; empty for a table without a key (matched on every
    /// column).
    pub(crate) key: Vec<usize>,
    /// Whether the destination table is partitioned (a row's `ctid` is then unique only
    /// within its partition).
    pub(crate) partitioned: bool,
}

impl TableLayout {
    /// Whether rows are identified by a key (else by all their values).
    pub(crate) fn keyed(&self) -> bool {
        !self.key.is_empty()
    }

    /// The format a copy into this table takes: binary when every column has its source
    /// column's built-in type, text otherwise (an enum, a domain, a type the destination
    /// spells as `text`).
    pub(crate) fn copy_format(&self) -> CopyFormat {
        if self.columns.iter().all(|c| c.same_builtin_type) {
            CopyFormat::Binary
        } else {
            CopyFormat::Text
        }
    }

    /// The column list, quoted and comma-separated.
    pub(crate) fn column_list(&self) -> String {
        join(self.columns.iter().map(|c| c.sql_name.as_str()))
    }

    /// The key's column list.
    pub(crate) fn key_list(&self) -> String {
        join(self.key.iter().map(|&i| self.columns[i].sql_name.as_str()))
    }
}

/// `items` joined by `, `.
pub(crate) fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// An existing destination table.
struct ExistingTable {
    columns: Vec<Existing>,
    /// The name of its primary key constraint.
    primary_key: Option<String>,
    partitioned: bool,
}

/// A column of an existing destination table.
struct Existing {
    name: String,
    sql_type: String,
    not_null: bool,
    has_default: bool,
    generated: bool,
    in_primary_key: bool,
}

/// Makes the destination ready for `table`, in `schema`: creates the table when missing
/// (its columns, and a primary key on the source's key), else checks it and adds the columns
/// it lacks. Runs in the caller's transaction when one is open.
///
/// # Errors
///
/// `Incompatible` with every difference and its fix, `Rejected` (a privilege), `Lost`,
/// `Unknown`.
pub(crate) async fn prepare(
    client: &Client,
    host: &str,
    schema: &str,
    table: &TableSchema,
) -> Result<TableLayout, DestinationError> {
    let display = format!("{schema}.{}", table.name.name);
    let sql_name = format!("{}.{}", ident(schema), ident(&table.name.name));
    let fail = |e: tokio_postgres::Error| error::statement(host, &display, &e);
    let columns = resolve_types(client, table).await.map_err(fail)?;
    let mut layout = TableLayout {
        relation: table.id,
        source: table.name.clone(),
        display: display.clone(),
        sql_name,
        columns,
        key: table
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.key)
            .map(|(i, _)| i)
            .collect(),
        partitioned: false,
    };
    let existing = match read_table(client, host, schema, &layout).await? {
        Some(existing) => existing,
        None => {
            client
                .batch_execute(&create_table(&layout))
                .await
                .map_err(fail)?;
            read_table(client, host, schema, &layout)
                .await?
                .ok_or_else(|| DestinationError::Incompatible {
                    table: display.clone(),
                    reason: "the table was created, then could not be found".to_owned(),
                })?
        }
    };
    layout.partitioned = existing.partitioned;
    let missing = check(&layout, &existing)?;
    if !missing.is_empty() {
        let adds: Vec<String> = missing
            .iter()
            .map(|&i| {
                let column = &layout.columns[i];
                format!(
                    "ADD COLUMN IF NOT EXISTS {} {}",
                    column.sql_name, column.sql_type
                )
            })
            .collect();
        let adds = adds.join(", ");
        client
            .batch_execute(&format!("ALTER TABLE {} {adds}", layout.sql_name))
            .await
            .map_err(fail)?;
    }
    Ok(layout)
}

/// The destination type of each of `table`'s columns: the source's type where the
/// destination knows it (`to_regtype` on the name, `format_type` with the source's modifier,
/// so the text is the destination's own spelling), else `text`; and whether it has an
/// equality. A type name that is not even valid syntax is refused by `to_regtype` (before
/// PostgreSQL 16) with a syntax error, which becomes `Rejected`.
async fn resolve_types(
    client: &Client,
    table: &TableSchema,
) -> Result<Vec<ColumnLayout>, tokio_postgres::Error> {
    let names: Vec<&str> = table.columns.iter().map(|c| c.type_name.as_str()).collect();
    let modifiers: Vec<i32> = table.columns.iter().map(|c| c.type_modifier).collect();
    let oids: Vec<u32> = table.columns.iter().map(|c| c.type_oid).collect();
    let rows = client
        .query(
            "SELECT format_type(t.oid, u.modifier), \
                    t.oid IS NULL OR EXISTS ( \
                        SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod \
                        WHERE oc.opcdefault AND am.amname IN ('btree', 'hash') \
                          AND oc.opcintype = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 \
                                                  THEN t.typelem ELSE t.oid END), \
                    coalesce(t.oid = u.source_oid AND t.oid < 16384, false) \
             FROM unnest($1::text[], $2::int4[], $3::oid[]) WITH ORDINALITY \
                  AS u(name, modifier, source_oid, position) \
             LEFT JOIN pg_type t ON t.oid = to_regtype(u.name) \
             ORDER BY u.position",
            &[&names, &modifiers, &oids],
        )
        .await?;
    table
        .columns
        .iter()
        .zip(rows)
        .map(|(column, row)| {
            let resolved: Option<String> = row.try_get(0)?;
            Ok(ColumnLayout {
                name: column.name.clone(),
                sql_name: ident(&column.name),
                as_text: resolved.is_none(),
                sql_type: resolved.unwrap_or_else(|| "text".to_owned()),
                comparable: row.try_get(1)?,
                same_builtin_type: row.try_get(2)?,
            })
        })
        .collect()
}

/// The table's columns, or `None` when there is no such table.
///
/// # Errors
///
/// `Incompatible` when the name is taken by something that is not a table (a view…).
async fn read_table(
    client: &Client,
    host: &str,
    schema: &str,
    layout: &TableLayout,
) -> Result<Option<ExistingTable>, DestinationError> {
    let fail = |e: tokio_postgres::Error| error::statement(host, &layout.display, &e);
    let class = client
        .query_opt(
            "SELECT c.oid, c.relkind::text, \
                    (SELECT conname::text FROM pg_constraint WHERE conrelid = c.oid AND contype = 'p') \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &layout.source.name],
        )
        .await
        .map_err(fail)?;
    let Some(class) = class else {
        return Ok(None);
    };
    let oid: u32 = get(&class, 0)?;
    let kind: String = get(&class, 1)?;
    if kind != "r" && kind != "p" {
        return Err(DestinationError::Incompatible {
            table: layout.display.clone(),
            reason: format!(
                "it is not a table (pg_class.relkind '{kind}'): rename or drop it, or write to another schema"
            ),
        });
    }
    let primary_key: Option<String> = get(&class, 2)?;
    let rows = client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                    a.atthasdef OR a.attidentity <> '', a.attgenerated <> '', \
                    coalesce(a.attnum = ANY (i.indkey::int2[]), false) \
             FROM pg_attribute a \
             LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&oid],
        )
        .await
        .map_err(fail)?;
    let columns = rows
        .iter()
        .map(|row| {
            Ok(Existing {
                name: get(row, 0)?,
                sql_type: get(row, 1)?,
                not_null: get(row, 2)?,
                has_default: get(row, 3)?,
                generated: get(row, 4)?,
                in_primary_key: get(row, 5)?,
            })
        })
        .collect::<Result<_, DestinationError>>()?;
    Ok(Some(ExistingTable {
        columns,
        primary_key,
        partitioned: kind == "p",
    }))
}

/// `CREATE TABLE` for `layout`: its columns (nullable, as the source's may become so), and a
/// primary key on the key.
fn create_table(layout: &TableLayout) -> String {
    let mut parts: Vec<String> = layout
        .columns
        .iter()
        .map(|c| format!("{} {}", c.sql_name, c.sql_type))
        .collect();
    if layout.keyed() {
        parts.push(format!("PRIMARY KEY ({})", layout.key_list()));
    }
    format!(
        "CREATE TABLE IF NOT EXISTS {} ({})",
        layout.sql_name,
        parts.join(", ")
    )
}

/// Checks an existing table against `layout`: returns the positions of the columns to add,
/// or `Incompatible` listing every difference with its fix.
fn check(
    layout: &TableLayout,
    existing_table: &ExistingTable,
) -> Result<Vec<usize>, DestinationError> {
    let (existing, primary_key) = (&existing_table.columns, &existing_table.primary_key);
    let table = &layout.sql_name;
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    for (i, column) in layout.columns.iter().enumerate() {
        match existing.iter().find(|e| e.name == column.name) {
            None => missing.push(i),
            Some(found) if found.generated => problems.push(format!(
                "column {} is generated on the destination, and the source sends its values: \
                 ALTER TABLE {table} ALTER COLUMN {} DROP EXPRESSION",
                column.name, column.sql_name
            )),
            Some(found) if found.sql_type != column.sql_type => problems.push(format!(
                "column {} is {} on the destination and {} on the source: \
                 ALTER TABLE {table} ALTER COLUMN {} TYPE {}",
                column.name, found.sql_type, column.sql_type, column.sql_name, column.sql_type
            )),
            Some(_) => {}
        }
    }
    let sent: HashSet<&str> = layout.columns.iter().map(|c| c.name.as_str()).collect();
    for column in existing {
        if column.not_null
            && !column.has_default
            && !column.generated
            && !sent.contains(column.name.as_str())
        {
            problems.push(format!(
                "column {} is NOT NULL without a default, and the source has no such column: \
                 ALTER TABLE {table} ALTER COLUMN {} DROP NOT NULL (or SET DEFAULT …)",
                column.name,
                ident(&column.name)
            ));
        }
    }
    let ours: HashSet<&str> = layout
        .key
        .iter()
        .map(|&i| layout.columns[i].name.as_str())
        .collect();
    let theirs: HashSet<&str> = existing
        .iter()
        .filter(|c| c.in_primary_key)
        .map(|c| c.name.as_str())
        .collect();
    if ours != theirs {
        let drop = primary_key
            .as_deref()
            .map(|name| format!("DROP CONSTRAINT {}", ident(name)));
        let add = layout
            .keyed()
            .then(|| format!("ADD PRIMARY KEY ({})", layout.key_list()));
        let fix = join(drop.iter().chain(add.iter()).map(String::as_str));
        let theirs = if theirs.is_empty() {
            "it has no primary key".to_owned()
        } else {
            let mut names: Vec<&str> = theirs.into_iter().collect();
            names.sort_unstable();
            format!("its primary key is ({})", names.join(", "))
        };
        let ours = if layout.keyed() {
            format!(
                "the source's key is ({})",
                join(layout.key.iter().map(|&i| layout.columns[i].name.as_str()))
            )
        } else {
            "the source table has no key (its rows are matched by all their values, and may repeat)"
                .to_owned()
        };
        problems.push(format!("{theirs} but {ours}: ALTER TABLE {table} {fix}"));
    }
    if problems.is_empty() {
        Ok(missing)
    } else {
        Err(DestinationError::Incompatible {
            table: layout.display.clone(),
            reason: problems.join("; "),
        })
    }
}
