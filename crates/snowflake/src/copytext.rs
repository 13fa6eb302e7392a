//! Reading PostgreSQL's `COPY … TO STDOUT` text format, which a table's initial copy arrives
//! in: one row per line, columns separated by tabs, `\N` for NULL, backslash escapes.

use bytes::Bytes;
use rosetta_domain::replication::Datum;

/// Splits a copy's bytes into rows, keeping a row cut across two writes until its end comes.
#[derive(Debug, Default)]
pub(crate) struct CopyText {
    partial: Vec<u8>,
}

/// A line that is not a row of the table.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadRow(pub(crate) String);

impl CopyText {
    /// The rows completed by `bytes`, each with `width` values.
    ///
    /// # Errors
    ///
    /// A row with another number of values.
    pub(crate) fn rows(&mut self, bytes: &[u8], width: usize) -> Result<Vec<Vec<Datum>>, BadRow> {
        let mut rows = Vec::new();
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let line = &rest[..end];
            rest = &rest[end + 1..];
            let row = if self.partial.is_empty() {
                parse_line(line, width)?
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                parse_line(&whole, width)?
            };
            rows.push(row);
        }
        self.partial.extend_from_slice(rest);
        Ok(rows)
    }

    /// Whether a row was left without its end.
    pub(crate) fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }
}

fn parse_line(line: &[u8], width: usize) -> Result<Vec<Datum>, BadRow> {
    let row: Vec<Datum> = line.split(|&b| b == b'\t').map(field).collect();
    if row.len() == width {
        Ok(row)
    } else {
        Err(BadRow(format!(
            "a copied row has {} values and the table {width} columns",
            row.len()
        )))
    }
}

fn field(raw: &[u8]) -> Datum {
    if raw == b"\\N" {
        return Datum::Null;
    }
    if !raw.contains(&b'\\') {
        return Datum::Text(Bytes::copy_from_slice(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        i += 1;
        if b != b'\\' || i == raw.len() {
            out.push(b);
            continue;
        }
        let c = raw[i];
        i += 1;
        match c {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                let mut digits = 1;
                while digits < 3 && i < raw.len() && (b'0'..=b'7').contains(&raw[i]) {
                    value = value * 8 + u32::from(raw[i] - b'0');
                    i += 1;
                    digits += 1;
                }
                out.push((value & 0xff) as u8);
            }
            b'x' if i < raw.len() && raw[i].is_ascii_hexdigit() => {
                let mut value = 0_u8;
                let mut digits = 0;
                while digits < 2 && i < raw.len() && raw[i].is_ascii_hexdigit() {
                    value = value * 16 + hex(raw[i]);
                    i += 1;
                    digits += 1;
                }
                out.push(value);
            }
            other => out.push(other),
        }
    }
    Datum::Text(Bytes::from(out))
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Datum {
        Datum::Text(Bytes::copy_from_slice(value.as_bytes()))
    }

    #[test]
    fn rows_split_on_lines_and_tabs_with_nulls_and_escapes() {
        let mut copy = CopyText::default();
        let rows = copy
            .rows(b"1\ta\\tb\\nc\t\\N\n2\t\\\\x\\101\\x41\tz\n3\tpar", 3)
            .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![text("1"), text("a\tb\nc"), Datum::Null],
                vec![text("2"), text("\\xAA"), text("z")],
            ]
        );
        assert!(copy.has_partial());
        let rows = copy.rows(b"tial\t\n", 3).unwrap();
        assert_eq!(rows, vec![vec![text("3"), text("partial"), text("")]]);
        assert!(!copy.has_partial());
        assert!(copy.rows(b"1\t2\n", 3).is_err());
    }
}
