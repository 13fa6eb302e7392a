//! Quoting names and text into SQL and replication commands, and the slot names the server
//! accepts.

use rosetta_domain::ports::ReplicationError;

/// `name` as a quoted SQL identifier: `"a""b"`.
pub(crate) fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a quoted SQL (and replication command) string literal: `'it''s'`. Both
/// grammars read backslashes literally with `standard_conforming_strings`, on since 9.1.
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Checks `slot` against the server's own rule (lower-case letters, digits and `_`, at most 63
/// bytes) before it goes unquoted into a replication command. The server truncates longer
/// names silently in SQL, which would make two pipelines' slots one.
///
/// # Errors
///
/// `Refused` with SQLSTATE `42602` (invalid_name), as the server would answer.
pub(crate) fn check_slot(host: &str, slot: &str) -> Result<(), ReplicationError> {
    let valid = !slot.is_empty()
        && slot.len() <= 63
        && slot
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        return Ok(());
    }
    Err(ReplicationError::Refused {
        host: host.to_owned(),
        what: format!("the replication slot name '{slot}'"),
        code: "42602".to_owned(),
        reason: "a slot name holds 1 to 63 lower-case letters, digits and underscores".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_text_are_quoted_with_their_quotes_doubled() {
        assert_eq!(identifier("Order \"lines\""), "\"Order \"\"lines\"\"\"");
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn only_names_the_server_keeps_as_given_pass() {
        assert!(check_slot("h", "rosetta_7_42").is_ok());
        for bad in ["", "Upper", "with space", "x;DROP", &"a".repeat(64)] {
            assert!(check_slot("h", bad).is_err(), "{bad}");
        }
        assert!(check_slot("h", &"a".repeat(63)).is_ok());
    }
}
