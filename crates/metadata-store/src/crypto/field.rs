//! Where a secret lives: its table, row and field, which the associated data binds every
//! ciphertext to, so that a value copied to another row or field no longer decrypts.

use std::fmt;

/// The place of one secret value: `sources 5 pg_password`, `destinations 3 config.password`.
///
/// It names the value in errors and logs (never the value itself) and is authenticated with it
/// as associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretField {
    table: &'static str,
    row: i64,
    field: &'static str,
}

impl SecretField {
    /// The field `field` of row `row` of `table`.
    pub const fn new(table: &'static str, row: i64, field: &'static str) -> Self {
        Self { table, row, field }
    }

    /// A source's `pg_password`.
    pub const fn source_password(row: i64) -> Self {
        Self::new("sources", row, "pg_password")
    }

    /// The associated data: `rosetta/v1/<table>/<row id>/<field>`. Assembled by hand, as
    /// `format!` costs as much as the decryption it feeds.
    pub(crate) fn associated_data(&self) -> Vec<u8> {
        let mut digits = [0_u8; 20];
        let mut start = digits.len();
        let mut rest = self.row.unsigned_abs();
        loop {
            start -= 1;
            // A digit: `rest % 10` is below 10.
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let sign: &[u8] = if self.row < 0 { b"-" } else { b"" };
        [
            b"rosetta/v1/".as_slice(),
            self.table.as_bytes(),
            b"/",
            sign,
            &digits[start..],
            b"/",
            self.field.as_bytes(),
        ]
        .concat()
    }
}

impl fmt::Display for SecretField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.table, self.row, self.field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_associated_data_names_table_row_and_field() {
        for (row, expected) in [
            (5, "rosetta/v1/sources/5/pg_password"),
            (0, "rosetta/v1/sources/0/pg_password"),
            (-12, "rosetta/v1/sources/-12/pg_password"),
            (
                i64::MAX,
                "rosetta/v1/sources/9223372036854775807/pg_password",
            ),
            (
                i64::MIN,
                "rosetta/v1/sources/-9223372036854775808/pg_password",
            ),
        ] {
            let data = SecretField::source_password(row).associated_data();
            assert_eq!(String::from_utf8_lossy(&data), expected);
        }
    }
}
