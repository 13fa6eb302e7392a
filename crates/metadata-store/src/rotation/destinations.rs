//! Destinations' secret fields in a rotation, inside their JSONB `config`.

use diesel::sql_types::{BigInt, Jsonb};
use diesel::QueryableByName;

use super::batch::RotatedTable;
use super::{destination_condition, RotationError, RotationReport, Target};
use crate::destination_config::{secret_field, SECRET_FIELDS};

#[derive(QueryableByName)]
pub(super) struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Jsonb)]
    config: serde_json::Value,
}

/// The secret fields of the `config` column of `destinations`.
pub(super) struct DestinationSecrets;

impl RotatedTable for DestinationSecrets {
    type Row = Row;
    type Value = serde_json::Value;
    type Sql = Jsonb;

    fn select(locking: &str) -> String {
        let any_selected = SECRET_FIELDS
            .iter()
            .map(|(key, _)| destination_condition(key, 2))
            .collect::<Vec<_>>()
            .join(" OR ");
        format!(
            "SELECT id, config FROM destinations WHERE id > $1 AND ({any_selected}) \
             ORDER BY id LIMIT $3 {locking}"
        )
    }

    const UPDATE: &'static str = "UPDATE destinations SET config = v.config \
         FROM unnest($1::bigint[], $2::jsonb[]) AS v(id, config) \
         WHERE destinations.id = v.id";

    fn id(row: &Row) -> i64 {
        row.id
    }

    fn rewrite(
        mut row: Row,
        target: &Target<'_>,
        counted: &mut RotationReport,
    ) -> Result<Option<serde_json::Value>, RotationError> {
        let mut changed = false;
        for (key, field) in SECRET_FIELDS {
            let Some(serde_json::Value::String(stored)) = row.config.get_mut(key) else {
                continue;
            };
            if target.selects(stored) {
                let at = secret_field(row.id, field);
                *stored = target.rewrite(stored, &at, counted)?;
                changed = true;
            }
        }
        Ok(changed.then_some(row.config))
    }
}
