//! Small SQL helpers: quoted identifiers, text parameters, and values in `COPY` text format.

use bytes::{BufMut, BytesMut};
use rosetta_domain::replication::Datum;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

/// `name` as a quoted SQL identifier: `"Order ""lines"""`. Every identifier Rosetta writes is
/// quoted, so case and odd characters survive and no name can end the statement.
pub(crate) fn ident(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if c == '"' {
            quoted.push('"');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// A value sent as a `text` parameter, its bytes as the source's output function wrote them;
/// statements cast it to the column's type (`$1::integer`), which runs the type's input
/// function, as `COPY` does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextParam<'a>(pub(crate) Option<&'a [u8]>);

impl<'a> TextParam<'a> {
    /// The parameter for `datum` (`Unchanged` has no value to send: NULL).
    pub(crate) fn of(datum: &'a Datum) -> Self {
        match datum {
            Datum::Text(bytes) => Self(Some(bytes)),
            Datum::Null | Datum::Unchanged => Self(None),
        }
    }
}

impl ToSql for TextParam<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // `text`'s binary form is its bytes.
        match self.0 {
            Some(bytes) => {
                out.put_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TEXT
    }

    to_sql_checked!();
}

/// Appends `datum` to a `COPY … FROM STDIN` text row: `\N` for NULL (and for `Unchanged`,
/// whose column the statements reading the row leave alone), else the value with backslash,
/// tab, newline and carriage return escaped.
pub(crate) fn put_copy_value(out: &mut BytesMut, datum: &Datum) {
    match datum {
        Datum::Text(bytes) => put_copy_bytes(out, bytes),
        Datum::Null | Datum::Unchanged => out.put_slice(b"\\N"),
    }
}

/// Appends `value` escaped for COPY's text format, copying unescaped runs whole.
pub(crate) fn put_copy_bytes(out: &mut BytesMut, value: &[u8]) {
    let mut rest = value;
    while let Some(at) = rest
        .iter()
        .position(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.put_slice(&rest[..at]);
        out.put_slice(match rest[at] {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ => b"\\r",
        });
        rest = &rest[at + 1..];
    }
    out.put_slice(rest);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(ident("orders"), r#""orders""#);
        assert_eq!(ident(r#"Order "lines""#), r#""Order ""lines""""#);
    }

    #[test]
    fn copy_values_escape_what_the_text_format_reserves() {
        let mut out = BytesMut::new();
        for datum in [
            Datum::Text(Bytes::from_static(b"a\tb\nc\rd\\e")),
            Datum::Null,
            Datum::Unchanged,
            Datum::Text(Bytes::from_static("\\N é".as_bytes())),
            Datum::Text(Bytes::new()),
        ] {
            put_copy_value(&mut out, &datum);
            out.put_u8(b'|');
        }
        assert_eq!(&out[..], "a\\tb\\nc\\rd\\\\e|\\N|\\N|\\\\N é||".as_bytes());
    }
}
