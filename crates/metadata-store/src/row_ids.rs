//! Ids for new rows, taken before the insert: a secret's associated data names its row, so the
//! row id must be known before the secret is encrypted.

use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::errors::DbError;

/// The tables whose rows hold secrets.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SecretTable {
    Sources,
    Destinations,
}

/// The next id of `table`'s identity column. A failed insert leaves a gap, as a failed insert
/// with a default id would.
pub(crate) async fn next_id(
    conn: &mut AsyncPgConnection,
    table: SecretTable,
) -> Result<i64, DbError> {
    let next = match table {
        SecretTable::Sources => "nextval(pg_get_serial_sequence('sources', 'id'))",
        SecretTable::Destinations => "nextval(pg_get_serial_sequence('destinations', 'id'))",
    };
    Ok(diesel::select(diesel::dsl::sql::<BigInt>(next))
        .get_result(conn)
        .await?)
}
