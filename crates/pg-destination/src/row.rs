//! Reading result rows without panicking on a column of an unexpected type.

use anyhow::anyhow;
use rosetta_domain::ports::DestinationError;
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

/// Column `index` of `row`, or an error saying which column could not be read (a catalogue or
/// bookkeeping table changed by hand).
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, DestinationError> {
    row.try_get(index).map_err(|e| {
        let column = row.columns().get(index).map_or("?", |c| c.name());
        DestinationError::Unknown(anyhow!("cannot read column {column}: {e}"))
    })
}
