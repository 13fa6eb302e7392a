//! The set-based write of a keyed table's folded changes: the net rows are copied into a
//! temporary staging table, then one `DELETE … USING`, one plain `INSERT … SELECT` (rows that
//! were not there before the batch) and one `UPDATE … FROM` per distinct set of unchanged
//! columns (rows that were there, and rows keeping unchanged TOASTed values) apply them all at
//! once.
//!
//! Which rows were there comes from the stream itself (a key's first change in the batch: an
//! insert, or an update or delete), since the destination mirrors the source as of the
//! checkpoint. That spares `INSERT … ON CONFLICT DO UPDATE`, whose speculative insertion and
//! row lock made the statements about half as expensive again (measured with 5,000-row batches
//! on a 1,000,000-row table: about 30 ms against 20 ms). A destination row written by someone
//! else behaves as under PostgreSQL's own subscriptions: an insert of a key that is there
//! fails (the pipeline stops with the unique violation), an update or delete of a row that is
//! not there changes nothing.
//!
//! Measured by `benches/apply.rs` (1,000,000 changes, 60 % inserts, 30 % updates, 10 %
//! deletes, ~200-byte rows): about 194,000 changes/s in batches of 10,000, against about
//! 76,000/s for one pipelined prepared statement per change, and no slower down to batches of
//! 100; so keyed tables take this path only.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::SinkExt;
use rosetta_domain::ports::DestinationError;
use rosetta_domain::replication::Datum;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Statement};

use crate::ahead::Ahead;
use crate::error;
use crate::fold::{Fold, Net};
use crate::layout::TableLayout;
use crate::sql::{put_copy_bytes, put_copy_value};

/// The staging table's extra columns: the net operation (`D` delete, `I` insert, `U` update
/// of the columns not unchanged) and, for `U`, which set of unchanged columns (numbered per
/// write; the empty set updates every non-key column).
const OP: &str = "\"rosetta$op\"";
const SET: &str = "\"rosetta$set\"";

/// How many bytes of staged rows are handed to the connection at a time (1 MiB chunks copied
/// a batch no faster).
const CHUNK: usize = 64 * 1024;

/// A keyed table's staging table and the statements that write from it, made once per
/// session (again after a rollback, which takes the staging table with it).
pub(crate) struct Staged {
    layout: Arc<TableLayout>,
    copy: Statement,
    delete: Statement,
    insert: Statement,
    truncate: Statement,
    /// `UPDATE … FROM` statements, one per set of unchanged column positions.
    updates: HashMap<Box<[u16]>, Statement>,
    stage: String,
    /// Whether the staging table holds rows written earlier in the open transaction (it is
    /// emptied at commit: `ON COMMIT DELETE ROWS`).
    used: bool,
}

impl Staged {
    /// Creates the staging table `pg_temp.rosetta_stage_<number>` for `layout` (the
    /// destination's column types, no constraint, so that a delete may leave non-key columns
    /// NULL) and prepares its statements.
    pub(crate) async fn create(
        client: &Client,
        host: &str,
        layout: Arc<TableLayout>,
        number: u64,
    ) -> Result<Self, DestinationError> {
        let fail = |e: tokio_postgres::Error| error::statement(host, &layout.display, &e);
        let stage = format!("pg_temp.rosetta_stage_{number}");
        let table = &layout.sql_name;
        let columns = layout.column_list();
        client
            .batch_execute(&format!(
                "CREATE TEMP TABLE rosetta_stage_{number} ON COMMIT DELETE ROWS AS \
                 SELECT {columns}, NULL::\"char\" AS {OP}, NULL::int4 AS {SET} FROM {table} \
                 WITH NO DATA"
            ))
            .await
            .map_err(fail)?;
        let matches = join_key(&layout, "d", "s");
        let (copy, delete, insert, truncate) = futures_util::future::try_join4(
            client.prepare(&format!("COPY {stage} ({columns}, {OP}, {SET}) FROM STDIN")),
            client.prepare(&format!(
                "DELETE FROM {table} AS d USING {stage} AS s WHERE s.{OP} = 'D' AND {matches}"
            )),
            client.prepare(&format!(
                "INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} WHERE {OP} = 'I'"
            )),
            client.prepare(&format!("TRUNCATE {stage}")),
        )
        .await
        .map_err(fail)?;
        Ok(Self {
            layout,
            copy,
            delete,
            insert,
            truncate,
            updates: HashMap::new(),
            stage,
            used: false,
        })
    }

    /// The layout the statements were made for.
    pub(crate) fn layout(&self) -> &Arc<TableLayout> {
        &self.layout
    }

    /// The open transaction ended: the staging table is empty again.
    pub(crate) fn ended(&mut self) {
        self.used = false;
    }

    /// Copies `rows` (encoded by [`encode`] for this layout) into the staging table, in the
    /// open transaction, and returns what [`Staged::apply`] needs. The copy waits for the
    /// server to have run everything sent before it, so a batch's tables are all copied
    /// before any of their statements is sent.
    pub(crate) async fn copy(
        &mut self,
        client: &Arc<Client>,
        host: &str,
        rows: Encoded,
        ahead: &mut Ahead,
    ) -> Result<Copied, DestinationError> {
        let copied = rows.counts;
        if rows.chunks.is_empty() {
            return Ok(copied);
        }
        let display = self.layout.display.clone();
        let fail = |e: tokio_postgres::Error| error::statement(host, &display, &e);
        if self.used {
            ahead
                .send(execute(client, host, &display, &self.truncate, None))
                .await?;
        }
        self.used = true;
        let sink = client.copy_in::<_, Bytes>(&self.copy).await.map_err(fail)?;
        let mut sink = std::pin::pin!(sink);
        for chunk in rows.chunks {
            sink.as_mut().feed(chunk).await.map_err(fail)?;
        }
        sink.as_mut().finish().await.map_err(fail)?;
        Ok(copied)
    }

    /// Applies what [`Staged::copy`] staged to the table: its statements are sent ahead, and
    /// their replies come to `ahead`.
    pub(crate) async fn apply(
        &mut self,
        client: &Arc<Client>,
        host: &str,
        rows: Copied,
        ahead: &mut Ahead,
    ) -> Result<(), DestinationError> {
        let display = self.layout.display.clone();
        let fail = |e: tokio_postgres::Error| error::statement(host, &display, &e);
        // A set of unchanged columns that covers every non-key column leaves nothing to
        // update.
        let updates: Vec<(&[u16], i32)> = rows
            .sets
            .iter()
            .filter(|(set, _)| non_key(&self.layout, set).next().is_some())
            .map(|(set, id)| (&**set, *id))
            .collect();
        for &(set, _) in &updates {
            if !self.updates.contains_key(set) {
                let statement = self.update_statement(set);
                let prepared = client
                    .prepare_typed(&statement, &[Type::INT4])
                    .await
                    .map_err(fail)?;
                self.updates.insert(set.into(), prepared);
            }
        }
        // Each key has one row in the staging table, so the statements touch disjoint rows
        // and their order does not matter.
        if rows.deletes > 0 {
            ahead
                .send(execute(client, host, &display, &self.delete, None))
                .await?;
        }
        if rows.inserts > 0 {
            ahead
                .send(execute(client, host, &display, &self.insert, None))
                .await?;
        }
        for (set, id) in updates {
            if let Some(statement) = self.updates.get(set) {
                ahead
                    .send(execute(client, host, &display, statement, Some(id)))
                    .await?;
            }
        }
        Ok(())
    }

    /// `UPDATE … FROM` for rows whose columns at `unchanged` keep the destination's values
    /// (some non-key column is not among them).
    fn update_statement(&self, unchanged: &[u16]) -> String {
        let sets: Vec<String> = non_key(&self.layout, unchanged)
            .map(|c| format!("{c} = s.{c}"))
            .collect();
        format!(
            "UPDATE {} AS d SET {} FROM {} AS s WHERE s.{OP} = 'U' AND s.{SET} = $1 AND {}",
            self.layout.sql_name,
            sets.join(", "),
            self.stage,
            join_key(&self.layout, "d", "s")
        )
    }
}

/// `statement` with its one optional parameter, as a statement sent ahead (see [`Ahead`]).
fn execute(
    client: &Arc<Client>,
    host: &str,
    display: &str,
    statement: &Statement,
    set: Option<i32>,
) -> impl std::future::Future<Output = Result<(), DestinationError>> + Send + 'static {
    let client = Arc::clone(client);
    let statement = statement.clone();
    let (host, display) = (host.to_owned(), display.to_owned());
    async move {
        let result = match set {
            Some(set) => client.execute_raw(&statement, [set]).await,
            None => client.execute_raw(&statement, [None::<i32>; 0]).await,
        };
        result
            .map(drop)
            .map_err(|e| error::statement(&host, &display, &e))
    }
}

/// A fold's net rows in the staging table's `COPY` text, ready to send: the work done while
/// the destination is busy with the batch before.
#[derive(Default)]
pub(crate) struct Encoded {
    /// The rows, in chunks of about [`CHUNK`] bytes.
    chunks: Vec<Bytes>,
    counts: Copied,
}

/// What a staging table holds once copied: how many rows of each kind.
#[derive(Default)]
pub(crate) struct Copied {
    deletes: usize,
    inserts: usize,
    /// The sets of unchanged columns, with their numbers in this write.
    sets: HashMap<Box<[u16]>, i32>,
}

/// Encodes `fold`'s net rows for the staging table of `layout`, numbering the sets of
/// unchanged columns as they appear.
pub(crate) fn encode(layout: &TableLayout, fold: &Fold<'_>) -> Encoded {
    let mut encoded = Encoded::default();
    let mut buffer = BytesMut::with_capacity(CHUNK * 2);
    let width = layout.columns.len();
    let key = fold.key_positions();
    for (row_key, net, existed) in fold.iter() {
        match net {
            Net::Delete => {
                encoded.counts.deletes += 1;
                for i in 0..width {
                    match key
                        .iter()
                        .position(|&k| k == i)
                        .and_then(|k| row_key.value(k))
                    {
                        Some(value) => put_copy_bytes(&mut buffer, value),
                        None => buffer.put_slice(b"\\N"),
                    }
                    buffer.put_u8(b'\t');
                }
                buffer.put_slice(b"D\t\\N\n");
            }
            Net::Upsert(values) => {
                let mut unchanged: Vec<u16> = Vec::new();
                for (i, datum) in values.iter().enumerate() {
                    if *datum == Datum::Unchanged {
                        unchanged.push(u16::try_from(i).unwrap_or(u16::MAX));
                    }
                    put_copy_value(&mut buffer, datum);
                    buffer.put_u8(b'\t');
                }
                if unchanged.is_empty() && !existed {
                    encoded.counts.inserts += 1;
                    buffer.put_slice(b"I\t\\N\n");
                } else {
                    // A row that was there (every non-key column set when nothing is
                    // unchanged), or one keeping unchanged values: updated, never inserted.
                    let next = i32::try_from(encoded.counts.sets.len()).unwrap_or(i32::MAX);
                    let id = *encoded
                        .counts
                        .sets
                        .entry(unchanged.into_boxed_slice())
                        .or_insert(next);
                    // Writing to a BytesMut cannot fail: it grows.
                    let _ = writeln!(buffer, "U\t{id}");
                }
            }
        }
        if buffer.len() >= CHUNK {
            encoded.chunks.push(buffer.split().freeze());
        }
    }
    if !buffer.is_empty() {
        encoded.chunks.push(buffer.split().freeze());
    }
    encoded
}

/// `d.k1 = s.k1 AND …` over the key.
fn join_key(layout: &TableLayout, left: &str, right: &str) -> String {
    layout
        .key
        .iter()
        .map(|&i| {
            let c = &layout.columns[i].sql_name;
            format!("{left}.{c} = {right}.{c}")
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The quoted names of the columns that are neither key columns nor at `unchanged`.
fn non_key<'a>(layout: &'a TableLayout, unchanged: &'a [u16]) -> impl Iterator<Item = &'a str> {
    layout
        .columns
        .iter()
        .enumerate()
        .filter(move |(i, _)| {
            !layout.key.contains(i) && !unchanged.iter().any(|&u| usize::from(u) == *i)
        })
        .map(|(_, c)| c.sql_name.as_str())
}
