//! Sorting driver and pool errors into what the domain's ports can say.

use anyhow::anyhow;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;
use rosetta_domain::PipelineRef;

/// A database failure, sorted. Repositories turn it into their port's error.
#[derive(Debug)]
pub(crate) enum DbError {
    /// The database cannot be reached or the pool cannot hand out a connection.
    Unavailable(anyhow::Error),
    /// A unique constraint was violated (its name).
    Unique(String),
    /// A foreign key was violated (its name).
    ForeignKey(String),
    /// A row that had to exist does not.
    NotFound,
    /// Pipelines use the source or destination being deleted.
    InUse(Vec<PipelineRef>),
    /// Anything else.
    Other(anyhow::Error),
}

impl From<DieselError> for DbError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::Unique(info.constraint_name().unwrap_or_default().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                Self::ForeignKey(info.constraint_name().unwrap_or_default().to_owned())
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(anyhow!("lost the connection: {}", info.message())),
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_operator_intervention(info.message()) =>
            {
                Self::Unavailable(anyhow!(
                    "the server stopped the statement: {}",
                    info.message()
                ))
            }
            other => Self::Other(other.into()),
        }
    }
}

impl From<PoolError> for DbError {
    fn from(error: PoolError) -> Self {
        Self::Unavailable(anyhow!("no metadata database connection: {error}"))
    }
}

/// Whether a server error is one of SQLSTATE class 57, "operator intervention": the server
/// shutting down or restarting (`57P01`, `57P02`, `57P03`), the backend terminated by an
/// administrator or a timeout (`57P01`, `57P05`), the statement cancelled (`57014`). The database
/// is unavailable then, as when the connection is lost, not failing.
///
/// diesel-async 0.9 keeps only the server's message of an error whose kind diesel does not
/// name (the SQLSTATE is dropped), so the class is recognised by the messages PostgreSQL sends
/// for it. They are the English ones: a server with another `lc_messages` makes these errors
/// `Other` again, as they were before.
fn is_operator_intervention(message: &str) -> bool {
    [
        "terminating connection ",
        "the database system is ",
        "canceling statement due to ",
    ]
    .iter()
    .any(|prefix| message.starts_with(prefix))
}

/// Whether a unique constraint is the one on a table's `name` (`<table>_name_key`).
pub(crate) fn is_name_key(constraint: &str) -> bool {
    constraint.ends_with("_name_key")
}

/// Adds context to the errors that need none to be sorted.
pub(crate) trait Context {
    /// Says what was being done when it failed.
    fn while_doing(self, what: &'static str) -> Self;
}

impl Context for DbError {
    fn while_doing(self, what: &'static str) -> Self {
        match self {
            Self::Unavailable(e) => Self::Unavailable(e.context(what)),
            Self::Other(e) => Self::Other(e.context(what)),
            sorted => sorted,
        }
    }
}

impl<T> Context for Result<T, DbError> {
    fn while_doing(self, what: &'static str) -> Self {
        self.map_err(|e| e.while_doing(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_own_interventions_are_unavailability_and_nothing_else_is() {
        for message in [
            "terminating connection due to administrator command",
            "terminating connection because of crash of another server process",
            "terminating connection due to idle-session timeout",
            "the database system is shutting down",
            "the database system is starting up",
            "canceling statement due to statement timeout",
        ] {
            assert!(is_operator_intervention(message), "{message}");
        }
        for message in [
            "relation \"sources\" does not exist",
            "value too long for type character varying(255)",
            "invalid input syntax for type bigint: \"x\"",
        ] {
            assert!(!is_operator_intervention(message), "{message}");
        }
    }
}
