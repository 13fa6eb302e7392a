//! A table's initial copy into Snowflake, on a session of its own: one transaction that
//! empties the table (a mirror) or marks the history with a `TRUNCATE` (a changelog), loads
//! the rows in large multi-row `INSERT`s, and records the copy; nothing of it is visible until
//! it commits.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use rosetta_domain::ports::{CopySink, DestinationError, TableCopy, TableSync};
use rosetta_domain::replication::{Change, Lsn, TableName};
use rosetta_domain::SnowflakeMode;

use crate::bookkeeping::{self, run, run_statement, Run};
use crate::client::{Client, Session};
use crate::copytext::CopyText;
use crate::layout::TableLayout;
use crate::session::SEQUENCE_SCALE;
use crate::statements::{self, Bound};

/// A copy under way (see [`TableCopy`]).
pub(crate) struct SnowflakeTableCopy {
    session: Option<Session>,
    host: String,
    schema: String,
    run: Run,
    table: TableName,
    layout: Arc<TableLayout>,
    text: CopyText,
    /// Rows read and not yet sent.
    rows: Vec<Vec<Bound>>,
    /// Rows per statement.
    chunk: usize,
    copied: u64,
}

impl std::fmt::Debug for SnowflakeTableCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnowflakeTableCopy")
            .field("table", &self.table)
            .field("copied", &self.copied)
            .finish_non_exhaustive()
    }
}

impl SnowflakeTableCopy {
    /// Signs in and opens the copy's transaction.
    pub(crate) async fn begin(
        client: &Client,
        host: String,
        schema: String,
        run_: Run,
        table: TableName,
        layout: Arc<TableLayout>,
    ) -> Result<Self, DestinationError> {
        let mut session = client
            .sign_in()
            .await
            .map_err(|e| crate::writer::connect_error(&host, e))?;
        let width = layout.columns.len() + usize::from(layout.mode == SnowflakeMode::Changelog) * 2;
        let mut copy = Self {
            session: None,
            host,
            schema,
            run: run_,
            table,
            layout,
            text: CopyText::default(),
            rows: Vec::new(),
            chunk: statements::rows_per_statement(width),
            copied: 0,
        };
        let started = copy.start(&mut session).await;
        copy.session = Some(session);
        if let Err(error) = started {
            copy.abandon().await;
            return Err(error);
        }
        Ok(copy)
    }

    async fn start(&self, session: &mut Session) -> Result<(), DestinationError> {
        let host = &self.host;
        run(session, host, "transaction", "BEGIN", &[]).await?;
        match self.layout.mode {
            SnowflakeMode::Mirror => {
                run_statement(session, host, &statements::truncate(&self.layout), 0).await?;
            }
            SnowflakeMode::Changelog => {
                // The history stays; the copy starts a new chapter of it: a TRUNCATE at the
                // snapshot's place, the copied rows just after it (set when the copy ends).
                let mut rows = Vec::new();
                let mut sequence = 0;
                statements::changelog_rows(
                    &self.layout,
                    &Change::Truncate {
                        relations: Vec::new(),
                        restart_identity: false,
                    },
                    &mut sequence,
                    &mut rows,
                );
                for row in &mut rows {
                    if let Some(last) = row.last_mut() {
                        *last = Bound::Text(None);
                    }
                }
                for statement in statements::append_changelog(&self.layout, rows) {
                    run_statement(session, host, &statement, 0).await?;
                }
            }
        }
        Ok(())
    }

    fn session(&mut self) -> Result<&mut Session, DestinationError> {
        self.session.as_mut().ok_or_else(|| {
            DestinationError::Unknown(anyhow::anyhow!("the copy of {} has ended", self.table))
        })
    }

    /// Sends the rows read so far.
    async fn flush(&mut self) -> Result<(), DestinationError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        let layout = Arc::clone(&self.layout);
        let statements = match layout.mode {
            SnowflakeMode::Mirror => statements::insert_rows(&layout, rows),
            SnowflakeMode::Changelog => statements::append_changelog(&layout, rows),
        };
        let host = self.host.clone();
        for statement in &statements {
            run_statement(self.session()?, &host, statement, 0).await?;
        }
        Ok(())
    }

    async fn finish_inner(&mut self, synced_at: Lsn) -> Result<u64, DestinationError> {
        if self.text.has_partial() {
            return Err(DestinationError::Unknown(anyhow::anyhow!(
                "the copy of {} ended in the middle of a row",
                self.table
            )));
        }
        self.flush().await?;
        let host = self.host.clone();
        let schema = self.schema.clone();
        let run_ = self.run;
        if self.layout.mode == SnowflakeMode::Changelog {
            let sequence = (u128::from(synced_at.get()) * SEQUENCE_SCALE).to_string();
            let sql = format!(
                "UPDATE {} SET \"CHANGE_SEQUENCE\" = CAST(? AS NUMBER(38,0)) + CASE WHEN \"OPERATION\" = 'TRUNCATE' \
                 THEN 0 ELSE 1 END WHERE \"CHANGE_SEQUENCE\" IS NULL",
                self.layout.target
            );
            let table = self.layout.shown.clone();
            run(self.session()?, &host, &table, &sql, &[Some(sequence)]).await?;
        }
        let mode = self.layout.mode;
        let sync = TableSync {
            table: self.table.clone(),
            synced_at,
            rows: self.copied,
        };
        let session = self.session()?;
        bookkeeping::check(session, &host, &schema, run_).await?;
        bookkeeping::record_sync(session, &host, &schema, run_, mode, &sync).await?;
        run(session, &host, "transaction", "COMMIT", &[]).await?;
        Ok(self.copied)
    }

    /// Rolls back and ends the session.
    async fn abandon(&mut self) {
        if let Some(mut session) = self.session.take() {
            let _ = session.execute("ROLLBACK", &[]).await;
            session.close().await;
        }
    }
}

#[async_trait]
impl CopySink for SnowflakeTableCopy {
    async fn write(&mut self, rows: Bytes) -> Result<(), DestinationError> {
        let parsed = self
            .text
            .rows(&rows, self.layout.columns.len())
            .map_err(|bad| DestinationError::Rejected {
                table: self.layout.shown.clone(),
                reason: bad.0,
            });
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                self.abandon().await;
                return Err(error);
            }
        };
        for row in &parsed {
            self.rows.push(statements::copied_row(&self.layout, row));
            self.copied += 1;
        }
        if self.rows.len() >= self.chunk {
            if let Err(error) = self.flush().await {
                self.abandon().await;
                return Err(error);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl TableCopy for SnowflakeTableCopy {
    async fn finish(mut self: Box<Self>, synced_at: Lsn) -> Result<u64, DestinationError> {
        let finished = self.finish_inner(synced_at).await;
        if finished.is_err() {
            self.abandon().await;
        } else if let Some(session) = self.session.take() {
            session.close().await;
        }
        finished
    }
}

impl Drop for SnowflakeTableCopy {
    fn drop(&mut self) {
        // A copy dropped unfinished: ending its session on Snowflake rolls its transaction
        // back (at the latest when the session expires).
        if let Some(session) = self.session.take() {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(session.close());
            }
        }
    }
}
