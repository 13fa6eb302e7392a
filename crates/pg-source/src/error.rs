//! Putting the replication client's and the driver's errors in the domain's terms, with the
//! source's host and what was being done. No error here ever holds a password: the server's
//! messages do not, and the login messages are never quoted.

use std::error::Error as _;

use rosetta_domain::ports::ReplicationError;

use crate::wire::WireError;

/// SQLSTATE `object_in_use`: the slot is active for another process.
pub(crate) const OBJECT_IN_USE: &str = "55006";
/// SQLSTATE `undefined_object`: no slot of that name.
pub(crate) const UNDEFINED_OBJECT: &str = "42704";

/// A failure to open or log in to a replication session.
pub(crate) fn login(host: &str, error: WireError) -> ReplicationError {
    ReplicationError::Connect {
        host: host.to_owned(),
        reason: error.to_string(),
    }
}

/// A failure of `what` on an open replication session.
pub(crate) fn wire(host: &str, what: &str, error: WireError) -> ReplicationError {
    let host = host.to_owned();
    match error {
        WireError::Server(server) => ReplicationError::Refused {
            host,
            what: what.to_owned(),
            reason: server.to_string(),
            code: server.code,
        },
        WireError::Protocol(reason) => ReplicationError::Protocol { host, reason },
        WireError::Io(_) | WireError::TimedOut(_) => ReplicationError::Lost {
            host,
            reason: format!("{what}: {error}"),
        },
        WireError::Tls(_) | WireError::Auth(_) => ReplicationError::Connect {
            host,
            reason: error.to_string(),
        },
    }
}

/// The driver's message followed by its causes: tokio-postgres' own `Display` says only "db
/// error" or "error connecting to server".
fn reason(error: &tokio_postgres::Error) -> String {
    let mut reason = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        reason.push_str(": ");
        reason.push_str(&current.to_string());
        cause = current.source();
    }
    reason
}

/// A failure to open a normal (SQL) connection.
pub(crate) fn connect(host: &str, error: &tokio_postgres::Error) -> ReplicationError {
    ReplicationError::Connect {
        host: host.to_owned(),
        reason: reason(error),
    }
}

/// A failure of `what` on a normal connection: the server's error keeps its SQLSTATE.
pub(crate) fn sql(host: &str, what: &str, error: &tokio_postgres::Error) -> ReplicationError {
    match error.as_db_error() {
        Some(db) => {
            let mut message = db.message().to_owned();
            if let Some(detail) = db.detail() {
                message.push_str(&format!(" ({detail})"));
            }
            ReplicationError::Refused {
                host: host.to_owned(),
                what: what.to_owned(),
                code: db.code().code().to_owned(),
                reason: message,
            }
        }
        None => ReplicationError::Lost {
            host: host.to_owned(),
            reason: format!("{what}: {}", reason(error)),
        },
    }
}

/// The server's SQLSTATE in `error`, when the server refused something.
pub(crate) fn code(error: &ReplicationError) -> Option<&str> {
    match error {
        ReplicationError::Refused { code, .. } => Some(code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ServerError;

    #[test]
    fn server_errors_keep_their_sqlstate_and_the_rest_name_the_host() {
        let refused = wire(
            "db:5432",
            "START_REPLICATION",
            WireError::Server(ServerError {
                code: "55006".into(),
                message: "slot is active".into(),
                ..ServerError::default()
            }),
        );
        assert_eq!(code(&refused), Some("55006"));
        assert_eq!(
            refused.to_string(),
            "db:5432 refused START_REPLICATION: slot is active (SQLSTATE 55006)"
        );
        let lost = wire(
            "db:5432",
            "streaming",
            WireError::Io(std::io::ErrorKind::UnexpectedEof.into()),
        );
        assert!(matches!(lost, ReplicationError::Lost { .. }), "{lost:?}");
        assert!(lost.is_transient());
        let tls = login("db:5432", WireError::Tls("no TLS".into()));
        assert_eq!(tls.to_string(), "cannot connect to db:5432: no TLS");
    }
}
