//! Source passwords in a rotation.

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

use super::batch::RotatedTable;
use super::{RotationError, RotationReport, Target};
use crate::crypto::SecretField;

#[derive(QueryableByName)]
pub(super) struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pg_password: Option<String>,
}

/// The `pg_password` column of `sources`.
pub(super) struct SourcePasswords;

impl RotatedTable for SourcePasswords {
    type Row = Row;
    type Value = String;
    type Sql = Text;

    fn select(locking: &str) -> String {
        format!(
            "SELECT id, pg_password FROM sources \
             WHERE id > $1 AND pg_password IS NOT NULL AND pg_password NOT LIKE $2 \
             ORDER BY id LIMIT $3 {locking}"
        )
    }

    const UPDATE: &'static str = "UPDATE sources SET pg_password = v.pg_password \
         FROM unnest($1::bigint[], $2::text[]) AS v(id, pg_password) \
         WHERE sources.id = v.id";

    fn id(row: &Row) -> i64 {
        row.id
    }

    fn rewrite(
        row: Row,
        target: &Target<'_>,
        counted: &mut RotationReport,
    ) -> Result<Option<String>, RotationError> {
        let Some(stored) = row.pg_password.as_deref() else {
            return Ok(None);
        };
        if !target.selects(stored) {
            return Ok(None);
        }
        let at = SecretField::source_password(row.id);
        Ok(Some(target.rewrite(stored, &at, counted)?))
    }
}
