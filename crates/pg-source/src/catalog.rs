//! Reading what a pipeline needs to know from a source's catalogue: its settings, the role's
//! privilege, the publication and its tables (published columns only, with their keys), and
//! the pipeline's slot. The four queries are pipelined on one connection: one round trip.

use std::str::FromStr;

use rosetta_domain::ports::ReplicationError;
use rosetta_domain::replication::{
    Column, Lsn, PublishedActions, RelationId, ReplicaIdentity, SlotState, SourceFacts, TableName,
    TableSchema,
};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row};

use crate::error;

const SERVER: &str = "SELECT current_setting('server_version_num')::int4, \
     current_setting('wal_level'), \
     current_setting('max_replication_slots')::int4, \
     (SELECT count(*)::int4 FROM pg_replication_slots), \
     coalesce((SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user), false)";

const PUBLICATION: &str = "SELECT pubinsert, pubupdate, pubdelete, pubtruncate \
     FROM pg_publication WHERE pubname = $1";

/// The slot's row; `wal_status` appeared in PostgreSQL 13.
fn slot_sql(major: i32) -> &'static str {
    if major >= 13 {
        "SELECT slot_name::text, plugin::text, database::text, active_pid, \
         confirmed_flush_lsn::text, wal_status FROM pg_replication_slots WHERE slot_name = $1"
    } else {
        "SELECT slot_name::text, plugin::text, database::text, active_pid, \
         confirmed_flush_lsn::text, NULL::text FROM pg_replication_slots WHERE slot_name = $1"
    }
}

/// One row per published column of every table of publication `$1` (or only of table `$2`),
/// in attribute order: the columns pgoutput sends, so no dropped or generated ones, and from
/// PostgreSQL 15 only those in the publication's column list. A table with no such column
/// still has a row, with NULL column fields.
///
/// `key` is membership of the primary key, or of the replica identity index when there is no
/// primary key.
fn columns_sql(major: i32, one_table: bool) -> String {
    let column_list = if major >= 15 {
        " AND a.attname = ANY (pt.attnames)"
    } else {
        ""
    };
    let table = if one_table { " AND c.oid = $2" } else { "" };
    format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relreplident::text, \
                a.attname::text, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod), \
                a.attnotnull, \
                coalesce(CASE WHEN pk.conkey IS NOT NULL THEN a.attnum = ANY (pk.conkey) \
                              ELSE a.attnum = ANY (ri.indkey::int2[]) END, false) \
         FROM pg_publication_tables pt \
         JOIN pg_namespace n ON n.nspname = pt.schemaname \
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename \
         LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p' \
         LEFT JOIN pg_index ri ON ri.indrelid = c.oid AND ri.indisreplident \
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 \
              AND NOT a.attisdropped AND a.attgenerated = ''{column_list} \
         WHERE pt.pubname = $1{table} \
         ORDER BY n.nspname, c.relname, a.attnum"
    )
}

/// Everything [`SourceFacts`] holds, for publication `publication` and slot `slot`.
pub(crate) async fn facts(
    client: &Client,
    major: i32,
    host: &str,
    publication: &str,
    slot: &str,
) -> Result<SourceFacts, ReplicationError> {
    let what = "reading the source's catalogue";
    let fail = |e: tokio_postgres::Error| error::sql(host, what, &e);
    let columns = columns_sql(major, false);
    let (server, publishes, tables, slots) = tokio::try_join!(
        async { client.query_typed(SERVER, &[]).await.map_err(fail) },
        async {
            client
                .query_typed(PUBLICATION, &[(&publication, Type::TEXT)])
                .await
                .map_err(fail)
        },
        async {
            client
                .query_typed(&columns, &[(&publication, Type::TEXT)])
                .await
                .map_err(fail)
        },
        async {
            client
                .query_typed(slot_sql(major), &[(&slot, Type::TEXT)])
                .await
                .map_err(fail)
        },
    )?;
    let server = server
        .first()
        .ok_or_else(|| anyhow::anyhow!("{host}: the settings query returned no row"))?;
    let read = |e: tokio_postgres::Error| error::sql(host, what, &e);
    let publication_row = publishes.first();
    Ok(SourceFacts {
        server_version_num: server.try_get(0).map_err(read)?,
        wal_level: server.try_get(1).map_err(read)?,
        max_replication_slots: server.try_get(2).map_err(read)?,
        used_replication_slots: server.try_get(3).map_err(read)?,
        can_replicate: server.try_get(4).map_err(read)?,
        publication_exists: publication_row.is_some(),
        publishes: publication_row
            .map(published_actions)
            .transpose()
            .map_err(read)?
            .unwrap_or_default(),
        tables: tables_of(&tables, host)?,
        slot: slots.first().map(slot_state).transpose().map_err(read)?,
    })
}

/// The published table `table` of `publication`, `None` when it is not published (any more).
pub(crate) async fn describe(
    client: &Client,
    major: i32,
    host: &str,
    publication: &str,
    table: RelationId,
) -> Result<Option<TableSchema>, ReplicationError> {
    let sql = columns_sql(major, true);
    let oid = table.get();
    let rows = client
        .query_typed(&sql, &[(&publication, Type::TEXT), (&oid, Type::OID)])
        .await
        .map_err(|e| error::sql(host, &format!("describing table {table}"), &e))?;
    Ok(tables_of(&rows, host)?.pop())
}

fn published_actions(row: &Row) -> Result<PublishedActions, tokio_postgres::Error> {
    Ok(PublishedActions {
        insert: row.try_get(0)?,
        update: row.try_get(1)?,
        delete: row.try_get(2)?,
        truncate: row.try_get(3)?,
    })
}

fn slot_state(row: &Row) -> Result<SlotState, tokio_postgres::Error> {
    let confirmed: Option<String> = row.try_get(4)?;
    Ok(SlotState {
        name: row.try_get(0)?,
        plugin: row.try_get(1)?,
        database: row.try_get(2)?,
        active_pid: row.try_get(3)?,
        confirmed_flush: confirmed.and_then(|lsn| Lsn::from_str(&lsn).ok()),
        wal_status: row.try_get(5)?,
    })
}

/// Groups the column rows (ordered by table) into tables.
fn tables_of(rows: &[Row], host: &str) -> Result<Vec<TableSchema>, ReplicationError> {
    let read = |e: tokio_postgres::Error| error::sql(host, "reading the published tables", &e);
    let mut tables: Vec<TableSchema> = Vec::new();
    for row in rows {
        let oid: u32 = row.try_get(0).map_err(read)?;
        if tables.last().map(|t| t.id.get()) != Some(oid) {
            let identity: String = row.try_get(3).map_err(read)?;
            let replica_identity = identity
                .bytes()
                .next()
                .and_then(ReplicaIdentity::from_code)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{host}: table {oid} has an unknown replica identity '{identity}'"
                    )
                })?;
            tables.push(TableSchema {
                id: RelationId::new(oid),
                name: TableName::new(
                    row.try_get::<_, String>(1).map_err(read)?,
                    row.try_get::<_, String>(2).map_err(read)?,
                ),
                replica_identity,
                columns: Vec::new(),
            });
        }
        let Some(name) = row.try_get::<_, Option<String>>(4).map_err(read)? else {
            continue;
        };
        let not_null: bool = row.try_get(8).map_err(read)?;
        let column = Column {
            name,
            type_oid: row.try_get(5).map_err(read)?,
            type_modifier: row.try_get(6).map_err(read)?,
            type_name: row.try_get(7).map_err(read)?,
            nullable: !not_null,
            key: row.try_get(9).map_err(read)?,
        };
        if let Some(table) = tables.last_mut() {
            table.columns.push(column);
        }
    }
    Ok(tables)
}
