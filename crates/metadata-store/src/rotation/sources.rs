//! One batch of source passwords.

use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{Batch, RotationError, RotationReport, Target};
use crate::crypto::SecretField;

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pg_password: Option<String>,
}

/// Re-encrypts the passwords of the next `batch.limit` selected sources after `batch.after`, in
/// one transaction; returns the last id seen, `None` when no row is left.
pub(super) async fn run_batch(
    conn: &mut AsyncPgConnection,
    target: &Target<'_>,
    batch: Batch,
    report: &mut RotationReport,
) -> Result<Option<i64>, RotationError> {
    let select = format!(
        "SELECT id, pg_password FROM sources \
         WHERE id > $1 AND pg_password IS NOT NULL AND pg_password NOT LIKE $2 \
         ORDER BY id LIMIT $3 {}",
        batch.locking()
    );
    let mut counted = RotationReport::default();
    let last = conn
        .transaction::<_, RotationError, _>(async |conn| {
            let rows: Vec<Row> = diesel::sql_query(select)
                .bind::<BigInt, _>(batch.after)
                .bind::<Text, _>(&target.done)
                .bind::<BigInt, _>(batch.limit)
                .load(conn)
                .await?;
            let mut ids = Vec::with_capacity(rows.len());
            let mut values = Vec::with_capacity(rows.len());
            for row in &rows {
                let Some(stored) = row.pg_password.as_deref() else {
                    continue;
                };
                if target.selects(stored) {
                    let at = SecretField::source_password(row.id);
                    values.push(target.rewrite(stored, &at, &mut counted)?);
                    ids.push(row.id);
                }
            }
            if !batch.dry_run && !ids.is_empty() {
                diesel::sql_query(
                    "UPDATE sources SET pg_password = v.pg_password \
                     FROM unnest($1::bigint[], $2::text[]) AS v(id, pg_password) \
                     WHERE sources.id = v.id",
                )
                .bind::<Array<BigInt>, _>(&ids)
                .bind::<Array<Text>, _>(&values)
                .execute(conn)
                .await?;
            }
            Ok(rows.last().map(|row| row.id))
        })
        .await?;
    // Counted only once the batch is committed.
    report.add(counted);
    Ok(last)
}
