//! Ids for new rows, taken before the insert: a secret's associated data names its row, so the
//! row id must be known before the secret is encrypted.

use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::errors::DbError;

/// The tables whose rows hold secrets.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SecretTable {
    Sources,
    Destinations,
}

diesel::define_sql_function! {
    /// `pg_get_serial_sequence(table, column)`: the sequence behind an identity column.
    fn pg_get_serial_sequence(table: Text, column: Text) -> Text;
}

diesel::define_sql_function! {
    /// `nextval(sequence)`, the sequence named as text (PostgreSQL casts it to `regclass`).
    fn nextval(sequence: Text) -> diesel::sql_types::BigInt;
}

/// The next id of `table`'s identity column. A failed insert leaves a gap, as a failed insert
/// with a default id would.
///
/// The names are bound parameters rather than SQL text, so that the statement is the same for
/// every call and stays prepared on the connection.
pub(crate) async fn next_id(
    conn: &mut AsyncPgConnection,
    table: SecretTable,
) -> Result<i64, DbError> {
    let name = match table {
        SecretTable::Sources => "sources",
        SecretTable::Destinations => "destinations",
    };
    Ok(diesel::select(nextval(pg_get_serial_sequence(name, "id")))
        .get_result(conn)
        .await?)
}
