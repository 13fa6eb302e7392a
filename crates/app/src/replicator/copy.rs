//! Copying tables from a slot's snapshot into the destination, several at once, each table in a
//! destination transaction of its own that also records the snapshot it came from.

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use rosetta_domain::ports::{CopySink, DestinationSession, Snapshot};
use rosetta_domain::replication::{Lsn, TableSchema, TableState};

use super::failure::RunError;
use super::progress::Reporter;

/// Copies `tables` from `snapshot` into `session`'s destination, at most `concurrency` at once.
/// Each table is emptied and filled in one destination transaction, committed with the
/// snapshot's consistent point as its sync point; a failed table leaves the destination table as
/// it was and fails the whole copy (the tables already copied stay copied). Returns the rows
/// copied.
pub(super) async fn copy_tables(
    snapshot: &dyn Snapshot,
    session: &dyn DestinationSession,
    tables: &[TableSchema],
    concurrency: usize,
    reporter: &Reporter,
) -> Result<u64, RunError> {
    for table in tables {
        reporter.table(&table.name, TableState::Queued, Some(0), None);
    }
    reporter.report_tables().await;
    let synced_at = snapshot.consistent_point();
    let mut queue = tables.iter();
    let mut copies: FuturesUnordered<BoxFuture<'_, Result<u64, RunError>>> =
        FuturesUnordered::new();
    for table in queue.by_ref().take(concurrency.max(1)) {
        copies.push(copy_table(snapshot, session, table, synced_at, reporter));
    }
    let mut rows = 0;
    while let Some(copied) = copies.next().await {
        // Each copy that ends is a moment to show every table's state (those copying too).
        reporter.report_tables().await;
        rows += copied?;
        if let Some(table) = queue.next() {
            copies.push(copy_table(snapshot, session, table, synced_at, reporter));
        }
    }
    Ok(rows)
}

/// One table's copy, boxed so that the set of copies under way is one type.
fn copy_table<'a>(
    snapshot: &'a dyn Snapshot,
    session: &'a dyn DestinationSession,
    table: &'a TableSchema,
    synced_at: Lsn,
    reporter: &'a Reporter,
) -> BoxFuture<'a, Result<u64, RunError>> {
    Box::pin(async move {
        reporter.table(&table.name, TableState::Copying, None, None);
        let outcome = async {
            let mut sink = session.copy_table(table).await?;
            snapshot
                .copy_table(table, &mut *sink as &mut dyn CopySink)
                .await?;
            Ok::<u64, RunError>(sink.finish(synced_at).await?)
        }
        .await;
        match &outcome {
            Ok(rows) => {
                reporter.table(&table.name, TableState::Copied, Some(*rows), None);
                reporter.table_copied(*rows);
            }
            Err(error) => reporter.table(
                &table.name,
                TableState::Error,
                None,
                Some(error.message().to_owned()),
            ),
        }
        outcome
    })
}
