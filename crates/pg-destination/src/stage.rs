//! The set-based write of a keyed table's folded changes: rows that were not there before the
//! batch are copied straight into the table (`COPY … FROM STDIN`); the others are copied into
//! a temporary staging table, from which one `DELETE … USING` and one `UPDATE … FROM` per
//! distinct set of unchanged columns (rows that were there, and rows keeping unchanged
//! TOASTed values) apply them all at once.
//!
//! Copying the new rows straight in spares staging them first and then an `INSERT … SELECT`:
//! with 10,000-change batches (60 % inserts) on a 500,000-row table, psql measured about
//! 46 ms for the direct copy of the 6,000 new rows against about 26 + 38 ms through the
//! staging table, the whole batch taking about 130 ms instead of 155 ms on the server. (One
//! statement per table taking the rows as `text[]` parameters through `unnest`, with
//! data-modifying `WITH` parts, was tried too: about 160 ms, and its custom plans took 28 ms to
//! plan.)
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
use crate::layout::TableLayout;
use crate::sql::{put_copy_bytes, put_copy_value};
use rosetta_domain::replication::fold::{Fold, Net};

/// The staging table's extra columns: the net operation (`D` delete, `U` update of the
/// columns not unchanged) and, for `U`, which set of unchanged columns (numbered per write;
/// the empty set updates every non-key column).
const OP: &str = "\"rosetta$op\"";
const SET: &str = "\"rosetta$set\"";

/// How many bytes of staged rows are handed to the connection at a time (1 MiB chunks copied
/// a batch no faster).
const CHUNK: usize = 64 * 1024;

/// A keyed table's staging table and the statements that write from it, made once per
/// session (again after a rollback, which takes the staging table with it).
pub(crate) struct Staged {
    layout: Arc<TableLayout>,
    /// `COPY` into the staging table, and into the table itself (new rows).
    copy: Statement,
    copy_new: Statement,
    delete: Statement,
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
        let (copy, copy_new, delete, truncate) = futures_util::future::try_join4(
            client.prepare(&format!("COPY {stage} ({columns}, {OP}, {SET}) FROM STDIN")),
            client.prepare(&format!("COPY {table} ({columns}) FROM STDIN")),
            client.prepare(&format!(
                "DELETE FROM {table} AS d USING {stage} AS s WHERE s.{OP} = 'D' AND {matches}"
            )),
            client.prepare(&format!("TRUNCATE {stage}")),
        )
        .await
        .map_err(fail)?;
        Ok(Self {
            layout,
            copy,
            copy_new,
            delete,
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

    /// Writes `rows` (encoded by [`encode`] for this layout) in the open transaction: copies
    /// the new ones into the table and the others into the staging table, then applies those
    /// to the table. Everything is sent ahead (the copies go on in the background), and the
    /// replies come to `ahead`; only an `UPDATE … FROM` not prepared yet is waited for.
    pub(crate) async fn write(
        &mut self,
        client: &Arc<Client>,
        host: &str,
        rows: Encoded,
        ahead: &mut Ahead,
    ) -> Result<(), DestinationError> {
        let display = self.layout.display.clone();
        let fail = |e: tokio_postgres::Error| error::statement(host, &display, &e);
        // A set of unchanged columns that covers every non-key column leaves nothing to
        // update.
        let updates: Vec<(&[u16], i32)> = rows
            .counts
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
        if !rows.chunks.is_empty() {
            if self.used {
                ahead
                    .send(execute(client, host, &display, &self.truncate, None))
                    .await?;
            }
            self.used = true;
            ahead
                .send_in_background(copy_in(client, host, &display, &self.copy, rows.chunks))
                .await?;
        }
        if !rows.new.is_empty() {
            ahead
                .send_in_background(copy_in(client, host, &display, &self.copy_new, rows.new))
                .await?;
        }
        // Each key has one row in the staging table, so the statements touch disjoint rows
        // and their order does not matter.
        if rows.counts.deletes > 0 {
            ahead
                .send(execute(client, host, &display, &self.delete, None))
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

/// `copy` (a `COPY … FROM STDIN`) with `chunks` of rows in its text format, as work sent
/// ahead (see [`Ahead::send_in_background`]).
fn copy_in(
    client: &Arc<Client>,
    host: &str,
    display: &str,
    copy: &Statement,
    chunks: Vec<Bytes>,
) -> impl std::future::Future<Output = Result<(), DestinationError>> + Send + 'static {
    let client = Arc::clone(client);
    let copy = copy.clone();
    let (host, display) = (host.to_owned(), display.to_owned());
    async move {
        let fail = |e: tokio_postgres::Error| error::statement(&host, &display, &e);
        let sink = client.copy_in::<_, Bytes>(&copy).await.map_err(fail)?;
        let mut sink = std::pin::pin!(sink);
        for chunk in chunks {
            sink.as_mut().feed(chunk).await.map_err(fail)?;
        }
        sink.as_mut().finish().await.map_err(fail)?;
        Ok(())
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

/// A fold's net rows in `COPY` text, ready to send: the work done while the destination is
/// busy with the batch before.
#[derive(Default)]
pub(crate) struct Encoded {
    /// The rows for the staging table, in chunks of about [`CHUNK`] bytes.
    chunks: Vec<Bytes>,
    /// The new rows, for the table itself, in chunks of about [`CHUNK`] bytes.
    new: Vec<Bytes>,
    counts: Counts,
}

/// What the staging table holds: how many rows of each kind.
#[derive(Default)]
struct Counts {
    deletes: usize,
    /// The sets of unchanged columns, with their numbers in this write.
    sets: HashMap<Box<[u16]>, i32>,
}

/// Encodes `fold`'s net rows for the staging table of `layout`, numbering the sets of
/// unchanged columns as they appear.
pub(crate) fn encode(layout: &TableLayout, fold: &Fold<'_>) -> Encoded {
    let mut encoded = Encoded::default();
    let mut buffer = BytesMut::with_capacity(CHUNK * 2);
    let mut new = BytesMut::with_capacity(CHUNK * 2);
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
            Net::Upsert(values) if !existed && !values.contains(&Datum::Unchanged) => {
                for (i, datum) in values.iter().enumerate() {
                    if i > 0 {
                        new.put_u8(b'\t');
                    }
                    put_copy_value(&mut new, datum);
                }
                new.put_u8(b'\n');
                if new.len() >= CHUNK {
                    encoded.new.push(new.split().freeze());
                }
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
                // A row that was there (every non-key column set when nothing is unchanged),
                // or one keeping unchanged values: updated, never inserted.
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
        if buffer.len() >= CHUNK {
            encoded.chunks.push(buffer.split().freeze());
        }
    }
    if !buffer.is_empty() {
        encoded.chunks.push(buffer.split().freeze());
    }
    if !new.is_empty() {
        encoded.new.push(new.split().freeze());
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
