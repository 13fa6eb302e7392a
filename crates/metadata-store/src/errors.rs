//! Sorting driver and pool errors into what the domain's ports can say.
//!
//! A repository call says what it is doing with a [`Doing`]; a failure becomes a [`Failed`]
//! (the sorted [`DbError`], with that description added as context), and each port error is
//! made `From` a [`Failed`], once, here: a repository method ends in one `?`.

use anyhow::anyhow;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;
use rosetta_domain::ports::{
    DestinationRepositoryError, LeaseError, MonitorLockError, PipelineRepositoryError,
    RuntimeError, SourceRepositoryError, WalHistoryError,
};
use rosetta_domain::{DestinationId, Name, PipelineId, PipelineRef, SourceId};

/// The foreign key from a pipeline to its source.
pub(crate) const PIPELINE_SOURCE_KEY: &str = "pipelines_source_id_fkey";
/// The foreign key from a pipeline to its destination.
pub(crate) const PIPELINE_DESTINATION_KEY: &str = "pipelines_destination_id_fkey";

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
fn is_name_key(constraint: &str) -> bool {
    constraint.ends_with("_name_key")
}

/// What a repository call is doing: the words added as context to its unexpected errors, and
/// what its port's error names (the row it addresses, the name it writes, the ends of a
/// pipeline). Each conversion below reads only the fields its port has variants for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Doing<'a> {
    what: &'static str,
    source: Option<SourceId>,
    destination: Option<DestinationId>,
    pipeline: Option<PipelineId>,
    name: Option<&'a Name>,
}

impl<'a> Doing<'a> {
    /// A call doing `what` ("reading a source"), about nothing in particular yet.
    pub(crate) const fn new(what: &'static str) -> Self {
        Self {
            what,
            source: None,
            destination: None,
            pipeline: None,
            name: None,
        }
    }

    /// About this source (the row addressed, or a pipeline's or sample's source).
    pub(crate) fn source(mut self, id: impl Into<Option<SourceId>>) -> Self {
        self.source = id.into();
        self
    }

    /// About this destination.
    pub(crate) fn destination(mut self, id: impl Into<Option<DestinationId>>) -> Self {
        self.destination = id.into();
        self
    }

    /// About this pipeline.
    pub(crate) fn pipeline(mut self, id: impl Into<Option<PipelineId>>) -> Self {
        self.pipeline = id.into();
        self
    }

    /// Writing this name, which a unique constraint may refuse.
    pub(crate) fn name(mut self, name: impl Into<Option<&'a Name>>) -> Self {
        self.name = name.into();
        self
    }
}

/// A failed repository call: the sorted failure, with the call's description as context when
/// the failure needs one, and what the call was doing.
#[derive(Debug)]
pub(crate) struct Failed<'a> {
    error: DbError,
    doing: Doing<'a>,
}

impl DbError {
    /// This failure, of a call doing `doing`. Sorted failures need no context; the others say
    /// what was being done.
    pub(crate) fn while_doing(self, doing: Doing<'_>) -> Failed<'_> {
        let error = match self {
            Self::Unavailable(e) => Self::Unavailable(e.context(doing.what)),
            Self::Other(e) => Self::Other(e.context(doing.what)),
            sorted => sorted,
        };
        Failed { error, doing }
    }

    /// The failure as a port error that has no variant of its own for it.
    fn into_port<E: PortError>(self) -> E {
        match self {
            Self::Unavailable(cause) => E::unavailable(cause),
            Self::Other(cause) => E::from(cause),
            other => E::from(anyhow!("unexpected: {other:?}")),
        }
    }
}

/// Says what a failed call was doing.
pub(crate) trait Context<T> {
    /// The failure, if any, of a call doing `doing`.
    fn while_doing(self, doing: Doing<'_>) -> Result<T, Failed<'_>>;
}

impl<T> Context<T> for Result<T, DbError> {
    fn while_doing(self, doing: Doing<'_>) -> Result<T, Failed<'_>> {
        self.map_err(|e| e.while_doing(doing))
    }
}

impl Failed<'_> {
    /// The name written, when the failure is that another row of the table has it.
    fn taken_name(&self) -> Option<Name> {
        match (&self.error, self.doing.name) {
            (DbError::Unique(constraint), Some(name)) if is_name_key(constraint) => {
                Some(name.clone())
            }
            _ => None,
        }
    }
}

/// What every port error can say: the store is unreachable (`Unavailable`), or anything else
/// (`Unknown`, made `From` an `anyhow::Error`).
trait PortError: From<anyhow::Error> {
    fn unavailable(cause: anyhow::Error) -> Self;
}

macro_rules! port_errors {
    ($($port:ty),+ $(,)?) => {
        $(impl PortError for $port {
            fn unavailable(cause: anyhow::Error) -> Self {
                Self::Unavailable(cause)
            }
        })+
    };
}

port_errors!(
    SourceRepositoryError,
    DestinationRepositoryError,
    PipelineRepositoryError,
    WalHistoryError,
    MonitorLockError,
    LeaseError,
    RuntimeError,
);

/// The errors of the two ends of pipelines, sources and destinations: the same variants, each
/// about its own kind of row.
macro_rules! endpoint_error {
    ($port:ty, $row:ident) => {
        impl From<Failed<'_>> for $port {
            fn from(failed: Failed<'_>) -> Self {
                if let Some(name) = failed.taken_name() {
                    return Self::Duplicate(name);
                }
                match (failed.error, failed.doing.$row) {
                    (DbError::NotFound, Some(id)) => Self::NotFound(id),
                    (DbError::InUse(used_by), Some(id)) => Self::InUse { id, used_by },
                    (other, _) => other.into_port(),
                }
            }
        }
    };
}

endpoint_error!(SourceRepositoryError, source);
endpoint_error!(DestinationRepositoryError, destination);

impl From<Failed<'_>> for PipelineRepositoryError {
    fn from(failed: Failed<'_>) -> Self {
        if let Some(name) = failed.taken_name() {
            return Self::Duplicate(name);
        }
        let Doing {
            source,
            destination,
            pipeline,
            ..
        } = failed.doing;
        match (failed.error, pipeline, source, destination) {
            (DbError::NotFound, Some(id), ..) => Self::NotFound(id),
            (DbError::ForeignKey(key), _, Some(id), _) if key == PIPELINE_SOURCE_KEY => {
                Self::SourceMissing(id)
            }
            (DbError::ForeignKey(key), .., Some(id)) if key == PIPELINE_DESTINATION_KEY => {
                Self::DestinationMissing(id)
            }
            (other, ..) => other.into_port(),
        }
    }
}

impl From<Failed<'_>> for WalHistoryError {
    fn from(failed: Failed<'_>) -> Self {
        match (failed.error, failed.doing.source) {
            // Every foreign key of the history's tables points at `sources`.
            (DbError::ForeignKey(_), Some(id)) => Self::SourceMissing(id),
            (other, _) => other.into_port(),
        }
    }
}

impl From<Failed<'_>> for MonitorLockError {
    fn from(failed: Failed<'_>) -> Self {
        failed.error.into_port()
    }
}

impl From<Failed<'_>> for LeaseError {
    fn from(failed: Failed<'_>) -> Self {
        failed.error.into_port()
    }
}

impl From<Failed<'_>> for RuntimeError {
    fn from(failed: Failed<'_>) -> Self {
        match (failed.error, failed.doing.pipeline) {
            // Every foreign key of the runtime tables points at `pipelines`.
            (DbError::ForeignKey(_) | DbError::NotFound, Some(id)) => Self::PipelineMissing(id),
            (other, _) => other.into_port(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn name(value: &str) -> Name {
        Name::parse(value).unwrap()
    }

    #[test]
    fn a_taken_name_is_a_duplicate_only_when_the_call_wrote_that_name() {
        let taken = name("orders");
        let unique = || DbError::Unique("sources_name_key".to_owned());
        let error = SourceRepositoryError::from(
            unique().while_doing(Doing::new("inserting a source").name(&taken)),
        );
        assert!(matches!(error, SourceRepositoryError::Duplicate(n) if n == taken));
        let error = SourceRepositoryError::from(unique().while_doing(Doing::new("listing")));
        assert!(
            matches!(error, SourceRepositoryError::Unknown(_)),
            "{error:?}"
        );
        let other_key = DbError::Unique("sources_other_key".to_owned());
        let error = PipelineRepositoryError::from(
            other_key.while_doing(Doing::new("creating a pipeline").name(&taken)),
        );
        assert!(
            matches!(error, PipelineRepositoryError::Unknown(_)),
            "{error:?}"
        );
    }

    #[test]
    fn a_pipeline_names_the_end_whose_foreign_key_refused_it() {
        let doing = Doing::new("creating a pipeline")
            .source(SourceId::new(1))
            .destination(DestinationId::new(2));
        let error = PipelineRepositoryError::from(
            DbError::ForeignKey(PIPELINE_SOURCE_KEY.to_owned()).while_doing(doing),
        );
        assert!(matches!(error, PipelineRepositoryError::SourceMissing(id) if id.get() == 1));
        let error = PipelineRepositoryError::from(
            DbError::ForeignKey(PIPELINE_DESTINATION_KEY.to_owned()).while_doing(doing),
        );
        assert!(matches!(error, PipelineRepositoryError::DestinationMissing(id) if id.get() == 2));
    }

    #[test]
    fn not_found_and_in_use_need_the_row_the_call_addressed() {
        let error = DestinationRepositoryError::from(
            DbError::NotFound.while_doing(Doing::new("reading").destination(DestinationId::new(4))),
        );
        assert!(matches!(error, DestinationRepositoryError::NotFound(id) if id.get() == 4));
        let error = DestinationRepositoryError::from(
            DbError::InUse(Vec::new()).while_doing(Doing::new("deleting")),
        );
        assert!(
            matches!(error, DestinationRepositoryError::Unknown(_)),
            "{error:?}"
        );
        let error = PipelineRepositoryError::from(DbError::NotFound.while_doing(Doing::new("x")));
        assert!(
            matches!(error, PipelineRepositoryError::Unknown(_)),
            "{error:?}"
        );
    }

    #[test]
    fn unsorted_failures_say_what_was_being_done() {
        let error = WalHistoryError::from(
            DbError::Unavailable(anyhow!("refused")).while_doing(Doing::new("pruning")),
        );
        assert!(
            matches!(&error, WalHistoryError::Unavailable(e) if format!("{e:#}") == "pruning: refused")
        );
        let error = MonitorLockError::from(
            DbError::Other(anyhow!("boom")).while_doing(Doing::new("claiming")),
        );
        assert!(
            matches!(&error, MonitorLockError::Unknown(e) if format!("{e:#}") == "claiming: boom")
        );
        let error = WalHistoryError::from(
            DbError::ForeignKey("any".to_owned())
                .while_doing(Doing::new("recording").source(SourceId::new(9))),
        );
        assert!(matches!(error, WalHistoryError::SourceMissing(id) if id.get() == 9));
    }

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
