//! A new slot's snapshot, and copying tables from it.
//!
//! `CREATE_REPLICATION_SLOT … (SNAPSHOT 'export')` exports a snapshot that stays importable
//! only while its replication session stays idle. An "anchor" connection imports it at once and
//! re-exports it with `pg_export_snapshot()`; that second snapshot lives as long as the
//! anchor's transaction, so the replication session can end (a permanent slot) or just idle
//! (a temporary slot, which the server drops with its session). Each copy then opens a
//! connection of its own, imports the anchor's snapshot and streams `COPY … TO STDOUT`, so
//! copies run in parallel and every one sees the source exactly at the slot's consistent point.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use futures_util::{pin_mut, StreamExt};
use rosetta_domain::ports::{CopyError, CopyFormat, CopySink, ReplicationError, Snapshot};
use rosetta_domain::replication::{Lsn, TableName, TableSchema};
use rosetta_domain::Source;
use tokio::sync::Mutex;
use tokio_postgres::types::Type;

use crate::names::{check_slot, identifier, literal};
use crate::sql::{Limits, SqlSession, Tls};
use crate::wire::{WireConnection, WireError};
use crate::{error, replication, PgSourceSettings};

/// A slot's snapshot, held by the anchor transaction until [`Snapshot::close`].
pub struct PgSnapshot {
    source: Source,
    slot: String,
    tls: Tls,
    settings: PgSourceSettings,
    consistent_point: Lsn,
    /// The anchor's re-exported snapshot, which the copies import.
    name: String,
    held: Mutex<Held>,
}

/// What keeps the snapshot (and a temporary slot) alive.
struct Held {
    anchor: Option<SqlSession>,
    /// A temporary slot's replication session: the slot ends with it.
    session: Option<WireConnection>,
}

impl PgSnapshot {
    /// Creates slot `slot` on `source` and anchors its snapshot.
    ///
    /// # Errors
    ///
    /// `Refused` (`42710` the slot exists, `53400` no free slot, `42602` an invalid name),
    /// `Connect`, `Lost` (also when the slot is not made within the slot timeout), `Protocol`.
    pub(crate) async fn create(
        source: &Source,
        slot: &str,
        temporary: bool,
        tls: &Tls,
        settings: &PgSourceSettings,
    ) -> Result<Self, ReplicationError> {
        let host = source.address();
        check_slot(&host, slot)?;
        let mut session = replication::open(source, slot, tls, settings).await?;
        let command = create_command(slot, temporary, session.server_major().unwrap_or(0));
        let what = format!("creating replication slot {slot}");
        let answer = tokio::time::timeout(settings.slot_timeout, session.simple_query(&command))
            .await
            .unwrap_or(Err(WireError::TimedOut(settings.slot_timeout)));
        let rows = match answer {
            Ok(rows) => rows,
            Err(WireError::TimedOut(after)) => {
                return Err(ReplicationError::Lost {
                    host: host.clone(),
                    reason: format!(
                        "{what}: not made within {after:?}; the server makes a slot once the \
                         transactions running when it was asked for have ended (see \
                         pg_stat_activity.backend_xid); check pg_replication_slots for it"
                    ),
                })
            }
            Err(e) => {
                session.terminate().await;
                return Err(error::wire(&host, &what, e));
            }
        };
        let (consistent_point, exported) = created(&rows, &host, &what)?;
        match anchor(source, slot, &exported, tls, settings).await {
            Ok((anchor, name)) => {
                let session = if temporary {
                    Some(session)
                } else {
                    session.terminate().await;
                    None
                };
                tracing::info!(%host, slot, %consistent_point, temporary, "created replication slot");
                Ok(Self {
                    source: source.clone(),
                    slot: slot.to_owned(),
                    tls: tls.clone(),
                    settings: settings.clone(),
                    consistent_point,
                    name,
                    held: Mutex::new(Held {
                        anchor: Some(anchor),
                        session,
                    }),
                })
            }
            Err(e) => {
                // A slot without its snapshot is of no use to the caller, who will ask again.
                if !temporary {
                    let drop = format!("DROP_REPLICATION_SLOT {slot}");
                    let _ = tokio::time::timeout(
                        settings.statement_timeout,
                        session.simple_query(&drop),
                    )
                    .await;
                }
                session.terminate().await;
                Err(e)
            }
        }
    }

    async fn copy(&self, table: &TableSchema, into: &mut dyn CopySink) -> Result<u64, CopyError> {
        let host = self.source.address();
        let purpose = format!("copy:{}", self.slot);
        let session = SqlSession::open(
            &self.source,
            &purpose,
            Limits::Unbounded,
            &self.tls,
            &self.settings,
        )
        .await?;
        let client = &session.client;
        let import = import_sql(&self.name);
        client
            .batch_execute(&import)
            .await
            .map_err(|e| error::sql(&host, "importing the slot's snapshot", &e))?;
        let what = format!("copying table {}", table.name);
        let format = into.format();
        let sql = self.copy_sql(&session, table, format, &host, &what).await?;
        let stream = client
            .copy_out(sql.as_str())
            .await
            .map_err(|e| error::sql(&host, &what, &e))?;
        pin_mut!(stream);
        // Text rows are lines; binary ones come a message each (the first also holds the
        // header), and the trailer a message of its own.
        let mut rows = 0_u64;
        let mut messages = 0_u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| error::sql(&host, &what, &e))?;
            rows += lines(&chunk);
            messages += 1;
            into.write(chunk).await?;
        }
        if format == CopyFormat::Binary {
            rows = messages.saturating_sub(1);
        }
        // The transaction only read; ending it is a courtesy, the connection closes anyway.
        let _ = client.batch_execute("COMMIT").await;
        Ok(rows)
    }

    /// `COPY (SELECT <published columns> FROM [ONLY] <table> [WHERE <row filter>]) TO STDOUT`,
    /// with the table's name and kind as the snapshot sees them. `ONLY` keeps an inherited
    /// table's children out (they are published, and copied, on their own), except for a
    /// partitioned table, which holds no rows of its own. The publication's row filter (15+)
    /// keeps out what the stream would never send either.
    async fn copy_sql(
        &self,
        session: &SqlSession,
        table: &TableSchema,
        format: CopyFormat,
        host: &str,
        what: &str,
    ) -> Result<String, ReplicationError> {
        let filter = if session.major >= 15 {
            "(SELECT pt.rowfilter FROM pg_publication_tables pt WHERE pt.pubname = $2 \
             AND pt.schemaname = n.nspname AND pt.tablename = c.relname)"
        } else {
            "NULL::text"
        };
        let sql = format!(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text, {filter} \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1"
        );
        let oid = table.id.get();
        let publication = self.source.publication_name.as_str();
        let params: &[(&(dyn tokio_postgres::types::ToSql + Sync), Type)] = if session.major >= 15 {
            &[(&oid, Type::OID), (&publication, Type::TEXT)]
        } else {
            &[(&oid, Type::OID)]
        };
        let rows = session
            .client
            .query_typed(&sql, params)
            .await
            .map_err(|e| error::sql(host, what, &e))?;
        let row = rows.first().ok_or_else(|| ReplicationError::Refused {
            host: host.to_owned(),
            what: what.to_owned(),
            code: "42P01".to_owned(),
            reason: format!("table {} (oid {oid}) is not in the snapshot", table.name),
        })?;
        let read = |e: tokio_postgres::Error| error::sql(host, what, &e);
        let name = TableName::new(
            row.try_get::<_, String>(0).map_err(read)?,
            row.try_get::<_, String>(1).map_err(read)?,
        );
        let kind: String = row.try_get(2).map_err(read)?;
        let filter: Option<String> = row.try_get(3).map_err(read)?;
        Ok(copy_statement(
            table,
            &name,
            kind == "p",
            filter.as_deref(),
            format,
        ))
    }
}

impl fmt::Debug for PgSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSnapshot")
            .field("host", &self.source.address())
            .field("slot", &self.slot)
            .field("consistent_point", &self.consistent_point)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Snapshot for PgSnapshot {
    fn consistent_point(&self) -> Lsn {
        self.consistent_point
    }

    #[tracing::instrument(skip(self, table, into), fields(slot = %self.slot, table = %table.name), err(level = "info"))]
    async fn copy_table(
        &self,
        table: &TableSchema,
        into: &mut dyn CopySink,
    ) -> Result<u64, CopyError> {
        self.copy(table, into).await
    }

    async fn close(&self) {
        let mut held = self.held.lock().await;
        if let Some(anchor) = held.anchor.take() {
            let _ = anchor.client.batch_execute("COMMIT").await;
        }
        if let Some(session) = held.session.take() {
            session.terminate().await;
        }
    }
}

/// The replication command that makes the slot and exports its snapshot. PostgreSQL 15 spells
/// the option `(SNAPSHOT 'export')`; earlier versions only know `EXPORT_SNAPSHOT`.
fn create_command(slot: &str, temporary: bool, major: i32) -> String {
    let temporary = if temporary { " TEMPORARY" } else { "" };
    let export = if major >= 15 {
        "(SNAPSHOT 'export')"
    } else {
        "EXPORT_SNAPSHOT"
    };
    format!("CREATE_REPLICATION_SLOT {slot}{temporary} LOGICAL pgoutput {export}")
}

/// The consistent point and the exported snapshot of `CREATE_REPLICATION_SLOT`'s row
/// (`slot_name, consistent_point, snapshot_name, output_plugin`).
fn created(
    rows: &[Vec<Option<String>>],
    host: &str,
    what: &str,
) -> Result<(Lsn, String), ReplicationError> {
    let protocol = |reason: String| ReplicationError::Protocol {
        host: host.to_owned(),
        reason: format!("{what}: {reason}"),
    };
    let row = rows
        .first()
        .ok_or_else(|| protocol("no row in the answer".into()))?;
    let point = row
        .get(1)
        .and_then(Option::as_deref)
        .ok_or_else(|| protocol("no consistent point".into()))?;
    let point =
        Lsn::from_str(point).map_err(|_| protocol(format!("consistent point '{point}'")))?;
    let snapshot = row
        .get(2)
        .and_then(Option::clone)
        .ok_or_else(|| protocol("no exported snapshot".into()))?;
    Ok((point, snapshot))
}

/// The statements that make a transaction see the snapshot `name`.
fn import_sql(name: &str) -> String {
    format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}",
        literal(name)
    )
}

/// Imports the replication session's snapshot on a connection of its own and exports it again,
/// so the snapshot outlives the session's next command.
async fn anchor(
    source: &Source,
    slot: &str,
    exported: &str,
    tls: &Tls,
    settings: &PgSourceSettings,
) -> Result<(SqlSession, String), ReplicationError> {
    let host = source.address();
    let what = "anchoring the slot's snapshot";
    let purpose = format!("snapshot:{slot}");
    let session = SqlSession::open(source, &purpose, Limits::Unbounded, tls, settings).await?;
    session
        .client
        .batch_execute(&import_sql(exported))
        .await
        .map_err(|e| error::sql(&host, what, &e))?;
    let row = session
        .client
        .query_typed_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(|e| error::sql(&host, what, &e))?;
    let name = row.try_get(0).map_err(|e| error::sql(&host, what, &e))?;
    Ok((session, name))
}

/// The COPY statement of `table`'s published columns, read as `name` (its name in the
/// snapshot).
fn copy_statement(
    table: &TableSchema,
    name: &TableName,
    partitioned: bool,
    filter: Option<&str>,
    format: CopyFormat,
) -> String {
    let columns = table
        .columns
        .iter()
        .map(|column| identifier(&column.name))
        .collect::<Vec<_>>()
        .join(", ");
    let only = if partitioned { "" } else { "ONLY " };
    let filter = filter.map(|f| format!(" WHERE ({f})")).unwrap_or_default();
    let options = match format {
        CopyFormat::Text => "",
        CopyFormat::Binary => " (FORMAT binary)",
    };
    format!(
        "COPY (SELECT {columns} FROM {only}{}.{}{filter}) TO STDOUT{options}",
        identifier(&name.schema),
        identifier(&name.name)
    )
}

/// The rows in a chunk of COPY text: one a line (newlines inside values are escaped as `\n`).
fn lines(chunk: &[u8]) -> u64 {
    chunk.iter().filter(|&&b| b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use rosetta_domain::replication::{Column, RelationId, ReplicaIdentity};

    use super::*;

    #[test]
    fn the_slot_is_made_with_the_spelling_of_the_servers_version() {
        assert_eq!(
            create_command("rosetta_1_2", false, 15),
            "CREATE_REPLICATION_SLOT rosetta_1_2 LOGICAL pgoutput (SNAPSHOT 'export')"
        );
        assert_eq!(
            create_command("s", true, 14),
            "CREATE_REPLICATION_SLOT s TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT"
        );
    }

    #[test]
    fn the_answer_gives_the_consistent_point_and_the_snapshot() {
        let rows = vec![vec![
            Some("s".to_owned()),
            Some("0/1998900".to_owned()),
            Some("00000004-00000003-1".to_owned()),
            Some("pgoutput".to_owned()),
        ]];
        let (point, name) = created(&rows, "h:1", "creating").unwrap();
        assert_eq!(
            (point.to_string(), name.as_str()),
            ("0/1998900".to_owned(), "00000004-00000003-1")
        );
        let no_snapshot = vec![vec![Some("s".to_owned()), Some("0/1".to_owned()), None]];
        assert!(created(&no_snapshot, "h:1", "creating").is_err());
    }

    #[test]
    fn a_copy_selects_the_published_columns_quoted_with_the_row_filter() {
        let column = |name: &str| Column {
            name: name.to_owned(),
            type_oid: 23,
            type_modifier: -1,
            type_name: "integer".to_owned(),
            nullable: false,
            key: false,
        };
        let table = TableSchema {
            id: RelationId::new(1),
            name: TableName::new("old", "name"),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![column("id"), column("Total \"net\"")],
        };
        let now = TableName::new("Sales", "orders");
        assert_eq!(
            copy_statement(&table, &now, false, Some("id > 10"), CopyFormat::Text),
            "COPY (SELECT \"id\", \"Total \"\"net\"\"\" FROM ONLY \"Sales\".\"orders\" WHERE (id > 10)) TO STDOUT"
        );
        assert_eq!(
            copy_statement(&table, &now, true, None, CopyFormat::Binary),
            "COPY (SELECT \"id\", \"Total \"\"net\"\"\" FROM \"Sales\".\"orders\") TO STDOUT (FORMAT binary)"
        );
        assert_eq!(lines(b"1\ta\n2\tb\\nc\n"), 2);
    }
}
