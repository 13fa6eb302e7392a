//! One batch of one table, the same for every table that holds secrets: select the rows, rewrite
//! their secrets and write the changed ones back, in one transaction.

use diesel::pg::Pg;
use diesel::query_builder::QueryId;
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, HasSqlType, SqlType, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{Batch, RotationError, RotationReport, Target};

/// A table's part in a rotation: its statements and how its rows' secrets are rewritten.
pub(super) trait RotatedTable {
    /// A selected row.
    type Row: QueryableByName<Pg> + Send + 'static;
    /// What a changed row writes back, bound as an array of [`RotatedTable::Sql`].
    type Value: ToSql<Self::Sql, Pg> + Send + Sync + 'static;
    /// The SQL type of [`RotatedTable::Value`].
    type Sql: SqlType + QueryId + Send + 'static;

    /// The statement selecting the next rows whose secrets are not done: `$1` is the id to
    /// start after, `$2` the `done` pattern, `$3` the batch size, `locking` the row lock.
    fn select(locking: &str) -> String;

    /// The statement writing the changed rows back: `$1` their ids, `$2` their values.
    const UPDATE: &'static str;

    /// The row's id.
    fn id(row: &Self::Row) -> i64;

    /// What the row writes back once its selected secrets are rewritten, counted in `counted`;
    /// `None` when none was selected.
    fn rewrite(
        row: Self::Row,
        target: &Target<'_>,
        counted: &mut RotationReport,
    ) -> Result<Option<Self::Value>, RotationError>;
}

/// Re-encrypts the secrets of the next `batch.limit` selected rows of `T` after `batch.after`,
/// in one transaction; returns the last id seen, `None` when no row is left.
pub(super) async fn run_batch<T: RotatedTable>(
    conn: &mut AsyncPgConnection,
    target: &Target<'_>,
    batch: Batch,
    report: &mut RotationReport,
) -> Result<Option<i64>, RotationError>
where
    Pg: HasSqlType<T::Sql>,
{
    let select = T::select(batch.locking());
    let mut counted = RotationReport::default();
    let last = conn
        .transaction::<_, RotationError, _>(async |conn| {
            let rows: Vec<T::Row> = diesel::sql_query(select)
                .bind::<BigInt, _>(batch.after)
                .bind::<Text, _>(&target.done)
                .bind::<BigInt, _>(batch.limit)
                .load(conn)
                .await?;
            let last = rows.last().map(T::id);
            let mut ids = Vec::with_capacity(rows.len());
            let mut values = Vec::with_capacity(rows.len());
            for row in rows {
                let id = T::id(&row);
                if let Some(value) = T::rewrite(row, target, &mut counted)? {
                    ids.push(id);
                    values.push(value);
                }
            }
            if !batch.dry_run && !ids.is_empty() {
                diesel::sql_query(T::UPDATE)
                    .bind::<Array<BigInt>, _>(&ids)
                    .bind::<Array<T::Sql>, _>(&values)
                    .execute(conn)
                    .await?;
            }
            Ok(last)
        })
        .await?;
    // Counted only once the batch is committed.
    report.add(counted);
    Ok(last)
}
