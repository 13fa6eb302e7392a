//! Turning driver errors into the domain's `DestinationError`, so no driver type leaves the
//! crate, and no row value reaches an error message.

use std::error::Error as _;

use anyhow::anyhow;
use rosetta_domain::ports::DestinationError;
use tokio_postgres::error::DbError;

/// What went wrong, without row values: the server's message for a server error, else the
/// driver's message followed by its causes.
pub(crate) fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => server_message(db),
        None => chain(error),
    }
}

/// The driver's message followed by its causes. tokio-postgres' own `Display` says only
/// "db error" or "error connecting to server"; the OS error is in the source chain. Only for
/// errors that are not the server's: a server error's `Display` adds its DETAIL, which may
/// quote row values.
fn chain(error: &tokio_postgres::Error) -> String {
    let mut reason = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        reason.push_str(": ");
        reason.push_str(&current.to_string());
        cause = current.source();
    }
    reason
}

/// The server's message without the values it may quote, with its SQLSTATE (and the column,
/// when the server names one).
pub(crate) fn server_message(db: &DbError) -> String {
    let code = db.code().code();
    let message = without_values(code, db.message());
    match db.column() {
        Some(column) => format!("{message} (column {column}; SQLSTATE {code})"),
        None => format!("{message} (SQLSTATE {code})"),
    }
}

/// `message` of SQLSTATE `code` without the row values it may quote.
///
/// Messages of class 22 (data exceptions) end with the offending value
/// (`invalid input syntax for type integer: "abc"`), which may be a secret of the source's
/// rows: they are cut at their first `": "` (a value may hold one itself). The DETAIL
/// (`Key (id)=(5) already exists`, `Failing row contains (…)`) and the CONTEXT
/// (`COPY t, line 3, column c: "…"`) quote values too, and are never used. Other classes
/// name objects, not values.
fn without_values<'a>(code: &str, message: &'a str) -> &'a str {
    match message.find(": ") {
        Some(cut) if code.starts_with("22") => &message[..cut],
        _ => message,
    }
}

/// What a failed statement on `host` about `object` (a table, `rosetta.checkpoints`) means:
/// a broken connection, a cancelled statement, an ended server or a passing shortage is
/// `Lost` (transient: what was not committed is not there); a refused value, a constraint, a
/// missing object or a privilege is `Rejected`; anything else is `Unknown`.
pub(crate) fn statement(
    host: &str,
    object: &str,
    error: &tokio_postgres::Error,
) -> DestinationError {
    let Some(db) = error.as_db_error() else {
        return DestinationError::Lost {
            host: host.to_owned(),
            reason: chain(error),
        };
    };
    let code = db.code().code();
    match code.get(..2).unwrap_or_default() {
        // Connection exceptions, operator intervention (a shutdown, a terminated backend, a
        // statement timeout), rolled-back transactions (a deadlock, a serialization
        // failure), insufficient resources (a full disk), and a lock not obtained within
        // `lock_timeout` (55P03): trying again later may work.
        "08" | "57" | "40" | "53" => lost(host, db),
        _ if code == "55P03" => lost(host, db),
        // Data exceptions, integrity constraints, syntax or access rules.
        "22" | "23" | "42" => DestinationError::Rejected {
            table: object.to_owned(),
            reason: server_message(db),
        },
        _ => DestinationError::Unknown(anyhow!("{host}: {object}: {}", server_message(db))),
    }
}

fn lost(host: &str, db: &DbError) -> DestinationError {
    DestinationError::Lost {
        host: host.to_owned(),
        reason: server_message(db),
    }
}

/// A connection to `host` could not be opened.
pub(crate) fn connect(host: &str, error: &tokio_postgres::Error) -> DestinationError {
    DestinationError::Connect {
        host: host.to_owned(),
        reason: describe(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_exceptions_lose_the_value_they_quote() {
        assert_eq!(
            without_values(
                "22P02",
                r#"invalid input syntax for type integer: "s3cr3t""#
            ),
            "invalid input syntax for type integer"
        );
        assert_eq!(
            without_values("22P02", r#"invalid input value for enum mood: "a: b: c""#),
            "invalid input value for enum mood"
        );
        assert_eq!(
            without_values(
                "22021",
                r#"invalid byte sequence for encoding "UTF8": 0xff"#
            ),
            r#"invalid byte sequence for encoding "UTF8""#
        );
        assert_eq!(
            without_values("22001", "value too long for type character varying(3)"),
            "value too long for type character varying(3)"
        );
        assert_eq!(
            without_values(
                "23505",
                r#"duplicate key value violates unique constraint "t_pkey""#
            ),
            r#"duplicate key value violates unique constraint "t_pkey""#
        );
    }
}
