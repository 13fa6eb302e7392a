//! `PgTableCopy`: one table's initial copy, on a connection and in a transaction of its own
//! that empties the table first, so that nothing of the copy shows before it commits and a
//! failed copy leaves the table as it was.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::SinkExt;
use rosetta_domain::ports::{CopyFormat, CopySink, DestinationError, TableCopy, TableSync};
use rosetta_domain::replication::Lsn;
use tokio_postgres::CopyInSink;

use crate::bookkeeping::{self, Hold, Run};
use crate::connection::{Connection, Connector};
use crate::error;
use crate::layout::TableLayout;

/// How many bytes of rows are gathered before they go to the destination as one `CopyData`
/// message. The source sends a message per row; forwarding each (the sink would gather them in
/// 4 KiB) costs a hand-over to the connection's task per 4 KiB. Each chunk is a buffer of its
/// own, allocated at this size: a copy holds at most the one it fills and the one in the
/// sink's channel.
const CHUNK: usize = 64 * 1024;

/// A table copy under way (see [`TableCopy`]).
pub(crate) struct PgTableCopy {
    // Declared before the connection: dropped first, a copy not finished is aborted.
    sink: Pin<Box<CopyInSink<Bytes>>>,
    /// Rows not sent yet, fewer than [`CHUNK`] bytes.
    pending: BytesMut,
    format: CopyFormat,
    connection: Connection,
    host: String,
    run: Run,
    layout: Arc<TableLayout>,
}

impl PgTableCopy {
    /// Connects, begins, checks that `run` is still current, empties the table and starts
    /// `COPY … FROM STDIN` into its columns, binary where every column has its source's
    /// built-in type ([`TableLayout::copy_format`]), text otherwise.
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
        bookkeeping::check(&**client, &host, run, Hold::Peek).await?;
        client
            .batch_execute(&format!("TRUNCATE {}", layout.sql_name))
            .await
            .map_err(fail)?;
        let format = layout.copy_format();
        let options = match format {
            CopyFormat::Text => "",
            CopyFormat::Binary => " (FORMAT binary)",
        };
        let sink = client
            .copy_in::<_, Bytes>(&format!(
                "COPY {} ({}) FROM STDIN{options}",
                layout.sql_name,
                layout.column_list()
            ))
            .await
            .map_err(fail)?;
        Ok(Self {
            sink: Box::pin(sink),
            pending: BytesMut::with_capacity(CHUNK),
            format,
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
    fn format(&self) -> CopyFormat {
        self.format
    }

    async fn write(&mut self, rows: Bytes) -> Result<(), DestinationError> {
        self.pending.extend_from_slice(&rows);
        if self.pending.len() < CHUNK {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.pending, BytesMut::with_capacity(CHUNK)).freeze();
        // The channel behind the sink holds one message, so a slow destination slows the
        // source down instead of filling memory.
        match self.sink.as_mut().feed(chunk).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(&e)),
        }
    }
}

#[async_trait]
impl TableCopy for PgTableCopy {
    async fn finish(mut self: Box<Self>, synced_at: Lsn) -> Result<u64, DestinationError> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending).freeze();
            if let Err(e) = self.sink.as_mut().feed(rest).await {
                return Err(self.fail(&e));
            }
        }
        let rows = match self.sink.as_mut().finish().await {
            Ok(rows) => rows,
            Err(e) => return Err(self.fail(&e)),
        };
        let client = &self.connection.client;
        bookkeeping::check(&**client, &self.host, self.run, Hold::Shared).await?;
        let sync = TableSync {
            table: self.layout.source.clone(),
            synced_at,
            rows,
        };
        bookkeeping::record_sync(&**client, &self.host, self.run, &sync).await?;
        client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| self.fail(&e))?;
        Ok(rows)
    }
}
