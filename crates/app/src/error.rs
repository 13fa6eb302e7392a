//! The one error of every use case, with the taxonomy the HTTP layer answers from.

use std::fmt::Write as _;

use rosetta_domain::ports::{
    DestinationRepositoryError, MonitorLockError, PipelineRepositoryError, RuntimeError,
    SourceRepositoryError, WalHistoryError,
};
use rosetta_domain::{EntityKind, PipelineRef};

/// Why a use case failed.
///
/// No message ever holds a secret: entities are named by kind, id and name only, and the causes
/// of [`AppError::Unavailable`] are kept as [`source`](std::error::Error::source), out of the
/// message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No entity of this kind has this id.
    #[error("{entity} with id '{id}' not found")]
    NotFound {
        /// The kind of entity looked for.
        entity: EntityKind,
        /// The id looked for.
        id: i64,
    },
    /// Another entity of this kind already has this value in a unique field.
    #[error("{entity} with {field} '{value}' already exists")]
    Duplicate {
        /// The kind of entity.
        entity: EntityKind,
        /// The unique field (`"name"`).
        field: &'static str,
        /// The value already taken.
        value: String,
    },
    /// The entity cannot be deleted while these pipelines use it (unless the delete cascades).
    #[error("{entity} '{id}' is used by pipelines: {}", describe(used_by))]
    InUse {
        /// The kind of entity.
        entity: EntityKind,
        /// Its id.
        id: i64,
        /// The pipelines that use it, ordered by id.
        used_by: Vec<PipelineRef>,
    },
    /// The metadata database cannot be reached.
    #[error("the metadata database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else: a bug or an unexpected state, to be logged and answered generically.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl AppError {
    fn duplicate_name(entity: EntityKind, name: &rosetta_domain::Name) -> Self {
        Self::Duplicate {
            entity,
            field: "name",
            value: name.to_string(),
        }
    }
}

/// `5 (orders), 6 (billing)`.
fn describe(pipelines: &[PipelineRef]) -> String {
    let mut described = String::new();
    for (index, pipeline) in pipelines.iter().enumerate() {
        let separator = if index == 0 { "" } else { ", " };
        // Writing to a String cannot fail.
        let _ = write!(described, "{separator}{} ({})", pipeline.id, pipeline.name);
    }
    described
}

impl From<SourceRepositoryError> for AppError {
    fn from(error: SourceRepositoryError) -> Self {
        match error {
            SourceRepositoryError::NotFound(id) => Self::NotFound {
                entity: EntityKind::Source,
                id: id.get(),
            },
            SourceRepositoryError::Duplicate(name) => {
                Self::duplicate_name(EntityKind::Source, &name)
            }
            SourceRepositoryError::InUse { id, used_by } => Self::InUse {
                entity: EntityKind::Source,
                id: id.get(),
                used_by,
            },
            SourceRepositoryError::Unavailable(cause) => Self::Unavailable(cause),
            SourceRepositoryError::Unknown(cause) => Self::Unknown(cause),
        }
    }
}

impl From<DestinationRepositoryError> for AppError {
    fn from(error: DestinationRepositoryError) -> Self {
        match error {
            DestinationRepositoryError::NotFound(id) => Self::NotFound {
                entity: EntityKind::Destination,
                id: id.get(),
            },
            DestinationRepositoryError::Duplicate(name) => {
                Self::duplicate_name(EntityKind::Destination, &name)
            }
            DestinationRepositoryError::InUse { id, used_by } => Self::InUse {
                entity: EntityKind::Destination,
                id: id.get(),
                used_by,
            },
            DestinationRepositoryError::Unavailable(cause) => Self::Unavailable(cause),
            DestinationRepositoryError::Unknown(cause) => Self::Unknown(cause),
        }
    }
}

impl From<PipelineRepositoryError> for AppError {
    fn from(error: PipelineRepositoryError) -> Self {
        match error {
            PipelineRepositoryError::NotFound(id) => Self::NotFound {
                entity: EntityKind::Pipeline,
                id: id.get(),
            },
            PipelineRepositoryError::Duplicate(name) => {
                Self::duplicate_name(EntityKind::Pipeline, &name)
            }
            PipelineRepositoryError::SourceMissing(id) => Self::NotFound {
                entity: EntityKind::Source,
                id: id.get(),
            },
            PipelineRepositoryError::DestinationMissing(id) => Self::NotFound {
                entity: EntityKind::Destination,
                id: id.get(),
            },
            PipelineRepositoryError::Unavailable(cause) => Self::Unavailable(cause),
            PipelineRepositoryError::Unknown(cause) => Self::Unknown(cause),
        }
    }
}

impl From<WalHistoryError> for AppError {
    fn from(error: WalHistoryError) -> Self {
        match error {
            WalHistoryError::SourceMissing(id) => Self::NotFound {
                entity: EntityKind::Source,
                id: id.get(),
            },
            WalHistoryError::Unavailable(cause) => Self::Unavailable(cause),
            WalHistoryError::Unknown(cause) => Self::Unknown(cause),
        }
    }
}

impl From<RuntimeError> for AppError {
    fn from(error: RuntimeError) -> Self {
        match error {
            RuntimeError::PipelineMissing(id) => Self::NotFound {
                entity: EntityKind::Pipeline,
                id: id.get(),
            },
            RuntimeError::Unavailable(cause) => Self::Unavailable(cause),
            RuntimeError::Unknown(cause) => Self::Unknown(cause),
        }
    }
}

impl From<MonitorLockError> for AppError {
    fn from(error: MonitorLockError) -> Self {
        match error {
            MonitorLockError::Unavailable(cause) => Self::Unavailable(cause),
            MonitorLockError::Unknown(cause) => Self::Unknown(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use anyhow::anyhow;
    use rosetta_domain::{DestinationId, PipelineId, SourceId};

    use super::*;
    use crate::fixtures::{name, pipeline_ref};

    #[test]
    fn a_missing_entity_is_named_by_kind_and_id() {
        let error = AppError::NotFound {
            entity: EntityKind::Source,
            id: 42,
        };
        assert_eq!(error.to_string(), "Source with id '42' not found");
    }

    #[test]
    fn a_taken_name_is_quoted_in_the_message() {
        let error = AppError::from(SourceRepositoryError::Duplicate(name("x")));
        assert_eq!(error.to_string(), "Source with name 'x' already exists");
    }

    #[test]
    fn an_entity_in_use_lists_the_pipelines_that_use_it() {
        let one = AppError::InUse {
            entity: EntityKind::Source,
            id: 3,
            used_by: vec![pipeline_ref(5, "orders")],
        };
        assert_eq!(
            one.to_string(),
            "Source '3' is used by pipelines: 5 (orders)"
        );
        let two = AppError::InUse {
            entity: EntityKind::Destination,
            id: 4,
            used_by: vec![pipeline_ref(5, "orders"), pipeline_ref(6, "billing")],
        };
        assert_eq!(
            two.to_string(),
            "Destination '4' is used by pipelines: 5 (orders), 6 (billing)"
        );
    }

    #[test]
    fn duplicates_of_every_store_become_duplicate_names_of_their_kind() {
        let cases = [
            (
                AppError::from(SourceRepositoryError::Duplicate(name("a"))),
                EntityKind::Source,
            ),
            (
                AppError::from(DestinationRepositoryError::Duplicate(name("a"))),
                EntityKind::Destination,
            ),
            (
                AppError::from(PipelineRepositoryError::Duplicate(name("a"))),
                EntityKind::Pipeline,
            ),
        ];
        for (error, expected) in cases {
            assert!(
                matches!(
                    &error,
                    AppError::Duplicate { entity, field: "name", value }
                        if *entity == expected && value == "a"
                ),
                "{error:?}"
            );
        }
    }

    #[test]
    fn an_unreachable_store_is_unavailable_whatever_the_port() {
        let errors = [
            AppError::from(SourceRepositoryError::Unavailable(anyhow!(
                "pool timed out"
            ))),
            AppError::from(DestinationRepositoryError::Unavailable(anyhow!(
                "pool timed out"
            ))),
            AppError::from(PipelineRepositoryError::Unavailable(anyhow!(
                "pool timed out"
            ))),
            AppError::from(WalHistoryError::Unavailable(anyhow!("pool timed out"))),
            AppError::from(MonitorLockError::Unavailable(anyhow!("pool timed out"))),
        ];
        for error in errors {
            assert!(matches!(error, AppError::Unavailable(_)), "{error:?}");
            assert_eq!(
                error.source().map(ToString::to_string).as_deref(),
                Some("pool timed out")
            );
        }
    }

    #[test]
    fn the_cause_of_an_outage_stays_out_of_the_message() {
        let error = AppError::from(SourceRepositoryError::Unavailable(anyhow!(
            "connection to postgres://rosetta:hunter2@db refused"
        )));
        assert_eq!(error.to_string(), "the metadata database is unavailable");
    }

    #[test]
    fn not_found_and_in_use_keep_their_kind_and_id() {
        assert!(matches!(
            AppError::from(SourceRepositoryError::NotFound(SourceId::new(1))),
            AppError::NotFound {
                entity: EntityKind::Source,
                id: 1
            }
        ));
        assert!(matches!(
            AppError::from(DestinationRepositoryError::NotFound(DestinationId::new(2))),
            AppError::NotFound {
                entity: EntityKind::Destination,
                id: 2
            }
        ));
        assert!(matches!(
            AppError::from(PipelineRepositoryError::NotFound(PipelineId::new(3))),
            AppError::NotFound {
                entity: EntityKind::Pipeline,
                id: 3
            }
        ));
        let in_use = AppError::from(DestinationRepositoryError::InUse {
            id: DestinationId::new(4),
            used_by: vec![pipeline_ref(9, "orders")],
        });
        assert!(matches!(
            in_use,
            AppError::InUse { entity: EntityKind::Destination, id: 4, ref used_by }
                if *used_by == vec![pipeline_ref(9, "orders")]
        ));
    }

    #[test]
    fn a_pipeline_store_missing_a_reference_names_which_one() {
        assert!(matches!(
            AppError::from(PipelineRepositoryError::SourceMissing(SourceId::new(7))),
            AppError::NotFound {
                entity: EntityKind::Source,
                id: 7
            }
        ));
        assert!(matches!(
            AppError::from(PipelineRepositoryError::DestinationMissing(
                DestinationId::new(8)
            )),
            AppError::NotFound {
                entity: EntityKind::Destination,
                id: 8
            }
        ));
        assert!(matches!(
            AppError::from(WalHistoryError::SourceMissing(SourceId::new(9))),
            AppError::NotFound {
                entity: EntityKind::Source,
                id: 9
            }
        ));
    }

    #[test]
    fn unexpected_store_errors_stay_unknown() {
        let error = AppError::from(PipelineRepositoryError::Unknown(anyhow!("bad row")));
        assert!(matches!(error, AppError::Unknown(_)));
        let error = AppError::from(WalHistoryError::Unknown(anyhow!("bad row")));
        assert!(matches!(error, AppError::Unknown(_)));
        let error = AppError::from(MonitorLockError::Unknown(anyhow!("bad row")));
        assert!(matches!(error, AppError::Unknown(_)));
    }
}
