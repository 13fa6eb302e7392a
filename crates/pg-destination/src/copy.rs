//! `PgTableCopy`: one table's initial copy, on a connection and in a transaction of its own
//! that empties the table first, so that nothing of the copy shows before it commits and a
//! failed copy leaves the table as it was.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::SinkExt;
use rosetta_domain::ports::{CopySink, DestinationError, TableCopy, TableSync};
use rosetta_domain::replication::Lsn;
use tokio_postgres::CopyInSink;

use crate::bookkeeping::{self, Hold, Run};
use crate::connection::{Connection, Connector};
use crate::error;
use crate::layout::TableLayout;

/// A table copy under way (see [`TableCopy`]).
pub(crate) struct PgTableCopy {
    // Declared before the connection: dropped first, a copy not finished is aborted.
    sink: Pin<Box<CopyInSink<Bytes>>>,
    connection: Connection,
    host: String,
    run: Run,
    layout: Arc<TableLayout>,
}

impl PgTableCopy {
    /// Connects, begins, checks that `run` is still current, empties the table and starts
    /// `COPY … FROM STDIN` (text format) into its columns.
    ///
    /// The fence is only read here; [`TableCopy::finish`] checks it again holding the
    /// checkpoint row, so that a newer run never waits for a long copy to end before it opens.
    pub(crate) async fn start(
        connector: &Connector,
        run: Run,
        layout: Arc<TableLayout>,
    ) -> Result<Self, DestinationError> {
        let host = connector.host.clone();
        let connection = connector.copy().await?;
        let client = &connection.client;
        let fail = |e: tokio_postgres::Error| error::statement(&host, &layout.display, &e);
        client.batch_execute("BEGIN").await.map_err(fail)?;
        bookkeeping::check(client, &host, run, Hold::Peek).await?;
        client
            .batch_execute(&format!("TRUNCATE {}", layout.sql_name))
            .await
            .map_err(fail)?;
        let sink = client
            .copy_in::<_, Bytes>(&format!(
                "COPY {} ({}) FROM STDIN",
                layout.sql_name,
                layout.column_list()
            ))
            .await
            .map_err(fail)?;
        Ok(Self {
            sink: Box::pin(sink),
            connection,
            host,
            run,
            layout,
        })
    }

    fn fail(&self, e: &tokio_postgres::Error) -> DestinationError {
        error::statement(&self.host, &self.layout.display, e)
    }
}

#[async_trait]
impl CopySink for PgTableCopy {
    async fn write(&mut self, rows: Bytes) -> Result<(), DestinationError> {
        // `feed` leaves small writes to the sink's own 4 KiB batching; the channel behind it
        // holds one message, so a slow destination slows the source down instead of
        // filling memory.
        match self.sink.as_mut().feed(rows).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(&e)),
        }
    }
}

#[async_trait]
impl TableCopy for PgTableCopy {
    async fn finish(mut self: Box<Self>, synced_at: Lsn) -> Result<u64, DestinationError> {
        let rows = match self.sink.as_mut().finish().await {
            Ok(rows) => rows,
            Err(e) => return Err(self.fail(&e)),
        };
        let client = &self.connection.client;
        bookkeeping::check(client, &self.host, self.run, Hold::Shared).await?;
        let sync = TableSync {
            table: self.layout.source.clone(),
            synced_at,
            rows,
        };
        bookkeeping::record_sync(client, &self.host, self.run, &sync).await?;
        client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| self.fail(&e))?;
        Ok(rows)
    }
}
