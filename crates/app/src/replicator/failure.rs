//! Why a pipeline's run ended, sorted by what comes next: retry soon, wait for someone to fix
//! something, or stop because another process runs the pipeline now.

use rosetta_domain::ports::{
    CopyError, DestinationError, LeaseError, PipelineRepositoryError, ReplicationError,
    RuntimeError,
};

/// Why a run ended before it was asked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RunError {
    /// A retry may help (the network, a restarting server, a slot still held): the error is
    /// recorded and the run tried again after a backoff.
    Transient(String),
    /// Someone must change something (a requirement of the source, an incompatible
    /// destination table, a refused row): recorded, and tried again only once the pipeline is
    /// started again or its source or destination changes.
    Permanent(String),
    /// A newer run of the pipeline, in another process, has taken the destination over.
    Fenced,
}

impl RunError {
    /// The message recorded on the pipeline.
    pub fn message(&self) -> &str {
        match self {
            Self::Transient(message) | Self::Permanent(message) => message,
            Self::Fenced => "another replicator runs the pipeline now",
        }
    }

    /// A short name for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transient(_) => "transient",
            Self::Permanent(_) => "permanent",
            Self::Fenced => "fenced",
        }
    }
}

impl From<ReplicationError> for RunError {
    fn from(error: ReplicationError) -> Self {
        let message = format!("source: {error}");
        if error.is_transient() {
            Self::Transient(message)
        } else {
            Self::Permanent(message)
        }
    }
}

impl From<DestinationError> for RunError {
    fn from(error: DestinationError) -> Self {
        match error {
            DestinationError::Fenced { .. } => Self::Fenced,
            error if error.is_transient() => Self::Transient(format!("destination: {error}")),
            error => Self::Permanent(format!("destination: {error}")),
        }
    }
}

impl From<CopyError> for RunError {
    fn from(error: CopyError) -> Self {
        match error {
            CopyError::Source(error) => error.into(),
            CopyError::Destination(error) => error.into(),
        }
    }
}

// The metadata database's troubles are passing ones: the service recovers when it is back.
impl From<PipelineRepositoryError> for RunError {
    fn from(error: PipelineRepositoryError) -> Self {
        Self::Transient(format!("metadata database: {error}"))
    }
}

impl From<RuntimeError> for RunError {
    fn from(error: RuntimeError) -> Self {
        Self::Transient(format!("metadata database: {error}"))
    }
}

impl From<crate::AppError> for RunError {
    fn from(error: crate::AppError) -> Self {
        match error {
            crate::AppError::Unavailable(_) => {
                Self::Transient(format!("metadata database: {error}"))
            }
            error => Self::Permanent(error.to_string()),
        }
    }
}

impl From<LeaseError> for RunError {
    fn from(error: LeaseError) -> Self {
        Self::Transient(format!("metadata database: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::PipelineId;

    use super::*;

    #[test]
    fn errors_are_sorted_by_whether_a_retry_can_help() {
        let lost = ReplicationError::Lost {
            host: "db:5432".to_owned(),
            reason: "reset".to_owned(),
        };
        assert!(matches!(RunError::from(lost), RunError::Transient(m) if m.contains("db:5432")));
        let missing = ReplicationError::SlotMissing {
            host: "db:5432".to_owned(),
            slot: "rosetta_1_2".to_owned(),
        };
        assert!(matches!(RunError::from(missing), RunError::Permanent(_)));
        let rejected = DestinationError::Rejected {
            table: "public.orders".to_owned(),
            reason: "duplicate key".to_owned(),
        };
        assert!(matches!(
            RunError::from(CopyError::Destination(rejected)),
            RunError::Permanent(m) if m.starts_with("destination: ")
        ));
        let fenced = DestinationError::Fenced {
            pipeline: PipelineId::new(1),
            ours: 1,
            newer: 2,
        };
        assert_eq!(RunError::from(fenced), RunError::Fenced);
        let refused = ReplicationError::Refused {
            host: "db".to_owned(),
            what: "START_REPLICATION".to_owned(),
            code: "57P01".to_owned(),
            reason: "terminating".to_owned(),
        };
        assert!(matches!(RunError::from(refused), RunError::Transient(_)));
    }
}
