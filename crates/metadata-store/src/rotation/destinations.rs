//! One batch of destinations' secret fields, inside their JSONB `config`.

use diesel::sql_types::{Array, BigInt, Jsonb, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::{destination_condition, Batch, RotationError, RotationReport, Target};
use crate::destination_config::{secret_field, SECRET_FIELDS};

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Jsonb)]
    config: serde_json::Value,
}

/// Re-encrypts the secret fields of the next `batch.limit` selected destinations after
/// `batch.after`, in one transaction; returns the last id seen, `None` when no row is left.
pub(super) async fn run_batch(
    conn: &mut AsyncPgConnection,
    target: &Target<'_>,
    batch: Batch,
    report: &mut RotationReport,
) -> Result<Option<i64>, RotationError> {
    let any_selected = SECRET_FIELDS
        .iter()
        .map(|(key, _)| destination_condition(key, 2))
        .collect::<Vec<_>>()
        .join(" OR ");
    let select = format!(
        "SELECT id, config FROM destinations WHERE id > $1 AND ({any_selected}) \
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
            let last = rows.last().map(|row| row.id);
            let mut ids = Vec::with_capacity(rows.len());
            let mut configs = Vec::with_capacity(rows.len());
            for mut row in rows {
                let mut changed = false;
                for (key, field) in SECRET_FIELDS {
                    let Some(serde_json::Value::String(stored)) = row.config.get_mut(key) else {
                        continue;
                    };
                    if target.selects(stored) {
                        let at = secret_field(row.id, field);
                        *stored = target.rewrite(stored, &at, &mut counted)?;
                        changed = true;
                    }
                }
                if changed {
                    ids.push(row.id);
                    configs.push(row.config);
                }
            }
            if !batch.dry_run && !ids.is_empty() {
                diesel::sql_query(
                    "UPDATE destinations SET config = v.config \
                     FROM unnest($1::bigint[], $2::jsonb[]) AS v(id, config) \
                     WHERE destinations.id = v.id",
                )
                .bind::<Array<BigInt>, _>(&ids)
                .bind::<Array<Jsonb>, _>(&configs)
                .execute(conn)
                .await?;
            }
            Ok(last)
        })
        .await?;
    report.add(counted);
    Ok(last)
}
