//! Turning driver errors into the domain's `WalProbeError`, so no driver type leaves the crate.

use std::error::Error as _;

use rosetta_domain::ports::WalProbeError;

/// The driver's message followed by its causes. tokio-postgres' own `Display` says only
/// "db error" or "error connecting to server"; the server's message or the OS error is in the
/// source chain. None of these ever carries the password.
pub(crate) fn reason(error: &tokio_postgres::Error) -> String {
    let mut reason = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        reason.push_str(": ");
        reason.push_str(&current.to_string());
        cause = current.source();
    }
    reason
}

/// The server could not be reached, or refused the connection or the login.
pub(crate) fn connect(host: &str, error: &tokio_postgres::Error) -> WalProbeError {
    WalProbeError::Connect {
        host: host.to_owned(),
        reason: reason(error),
    }
}

/// The server answered the probe's query with an error.
pub(crate) fn query(host: &str, error: &tokio_postgres::Error) -> WalProbeError {
    WalProbeError::Query {
        host: host.to_owned(),
        reason: reason(error),
    }
}
