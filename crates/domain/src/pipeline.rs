//! Pipelines, their runtime metadata and the lifecycle rules that tie the two together.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::spelled_as;
use crate::replication::PipelineProgress;
use crate::{
    Destination, DestinationId, InvalidValue, Name, PipelineId, PipelineMetadataId, Source,
    SourceId,
};

/// What a pipeline has been asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PipelineStatus {
    /// Replicate.
    Start,
    /// Stop replicating, keep the position.
    Pause,
    /// Copy everything again from scratch.
    Refresh,
}

impl PipelineStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Start, Self::Pause, Self::Refresh];

    /// The spelling used by the API and the store (`START`, `PAUSE`, `REFRESH`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Start => "START",
            Self::Pause => "PAUSE",
            Self::Refresh => "REFRESH",
        }
    }

    /// What moving a pipeline from `current` to `self` does, or `None` when it already is there:
    /// repeating the current status is a no-op that moves no timestamp.
    ///
    /// - `START`: metadata `RUNNING`, `last_start_at` = `now`, last error cleared;
    /// - `PAUSE`: metadata `PAUSED`;
    /// - `REFRESH`: metadata unchanged (a full re-copy is requested).
    pub fn change_from(self, current: Self, now: DateTime<Utc>) -> Option<StatusChange> {
        (self != current).then_some(StatusChange {
            status: self,
            metadata: match self {
                Self::Start => MetadataChange::Run { started_at: now },
                Self::Pause => MetadataChange::Pause,
                Self::Refresh => MetadataChange::Unchanged,
            },
        })
    }
}

impl fmt::Display for PipelineStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PipelineStatus {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        spelled_as(value, &Self::ALL, Self::as_str)
    }
}

/// The status a pipeline may be created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitialPipelineStatus {
    /// Created running (the default).
    #[default]
    Start,
    /// Created paused.
    Pause,
}

impl InitialPipelineStatus {
    /// The pipeline status it stands for.
    pub const fn status(self) -> PipelineStatus {
        match self {
            Self::Start => PipelineStatus::Start,
            Self::Pause => PipelineStatus::Pause,
        }
    }

    /// The runtime state a pipeline created in this status starts in, as the matching action
    /// would leave an existing pipeline: `RUNNING` when started, `PAUSED` when paused.
    pub const fn metadata_status(self) -> PipelineMetadataStatus {
        match self {
            Self::Start => PipelineMetadataStatus::Running,
            Self::Pause => PipelineMetadataStatus::Paused,
        }
    }
}

impl TryFrom<PipelineStatus> for InitialPipelineStatus {
    type Error = InvalidValue;

    fn try_from(status: PipelineStatus) -> Result<Self, Self::Error> {
        match status {
            PipelineStatus::Start => Ok(Self::Start),
            PipelineStatus::Pause => Ok(Self::Pause),
            PipelineStatus::Refresh => Err(InvalidValue::new(
                "unknown_variant",
                "a pipeline is created with START or PAUSE",
            )),
        }
    }
}

/// The runtime state of a pipeline, as its workers report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PipelineMetadataStatus {
    /// Replicating.
    Running,
    /// Stopped on request.
    Paused,
    /// Stopped by an error (see `last_error`).
    Error,
}

impl PipelineMetadataStatus {
    /// Every state.
    pub const ALL: [Self; 3] = [Self::Running, Self::Paused, Self::Error];

    /// The spelling used by the API and the store (`RUNNING`, `PAUSED`, `ERROR`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::Error => "ERROR",
        }
    }
}

impl fmt::Display for PipelineMetadataStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PipelineMetadataStatus {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        spelled_as(value, &Self::ALL, Self::as_str)
    }
}

/// A status change to write, pipeline and metadata together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    /// The pipeline's new status.
    pub status: PipelineStatus,
    /// What happens to its runtime metadata.
    pub metadata: MetadataChange,
}

/// What a status change does to a pipeline's runtime metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataChange {
    /// Nothing.
    Unchanged,
    /// `RUNNING`, `last_start_at` set, `last_error` and `last_error_at` cleared.
    Run {
        /// The new `last_start_at`.
        started_at: DateTime<Utc>,
    },
    /// `PAUSED`.
    Pause,
}

/// A source connected to a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    /// Its id.
    pub id: PipelineId,
    /// Its unique, lower-cased name.
    pub name: Name,
    /// The source it replicates from.
    pub source_id: SourceId,
    /// The destination it delivers to.
    pub destination_id: DestinationId,
    /// What it has been asked to do.
    pub status: PipelineStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The runtime state of one pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineMetadata {
    /// Its id.
    pub id: PipelineMetadataId,
    /// The pipeline it describes.
    pub pipeline_id: PipelineId,
    /// Running, paused or failed.
    pub status: PipelineMetadataStatus,
    /// The last error reported, if any.
    pub last_error: Option<String>,
    /// When that error was reported.
    pub last_error_at: Option<DateTime<Utc>>,
    /// When the pipeline was last started.
    pub last_start_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A pipeline with everything a client shows beside it: its source, destination and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineDetails {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// Its source.
    pub source: Source,
    /// Its destination.
    pub destination: Destination,
    /// Its runtime metadata.
    pub metadata: PipelineMetadata,
    /// What the data plane last reported about it; `None` before any replicator has run it.
    pub progress: Option<PipelineProgress>,
}

/// A pipeline named where an error must say which pipelines use an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineRef {
    /// Its id.
    pub id: PipelineId,
    /// Its name.
    pub name: Name,
}

/// What creating a pipeline needs. Its status can only be one a pipeline is created with, and
/// its metadata follows from it ([`InitialPipelineStatus::metadata_status`],
/// [`NewPipeline::last_start_at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPipeline {
    /// Its unique name.
    pub name: Name,
    /// The source it replicates from.
    pub source_id: SourceId,
    /// The destination it delivers to.
    pub destination_id: DestinationId,
    /// The status it is created with: `START` or `PAUSE`.
    pub status: InitialPipelineStatus,
    /// When it was asked for: the start time of a pipeline created started.
    pub requested_at: DateTime<Utc>,
}

impl NewPipeline {
    /// When it last started, as its metadata starts: at `requested_at` when created started,
    /// never when created paused.
    pub fn last_start_at(&self) -> Option<DateTime<Utc>> {
        match self.status {
            InitialPipelineStatus::Start => Some(self.requested_at),
            InitialPipelineStatus::Pause => None,
        }
    }
}

/// A pipeline as a client asks for it to be created (the API's create body): the time it is
/// asked for is the server's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPipelineRequest {
    /// Its unique name.
    pub name: Name,
    /// The source it replicates from.
    pub source_id: SourceId,
    /// The destination it delivers to.
    pub destination_id: DestinationId,
    /// The status it starts in: `START` or `PAUSE`.
    pub status: InitialPipelineStatus,
}

/// A partial update of a pipeline as a client asks for it (the API's update body): `None`
/// keeps the stored value.
///
/// Unlike [`PipelineUpdate`], the status is the one wanted, not the change to write: the
/// use case works the change out from the current status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PipelineUpdateRequest {
    /// A new name.
    pub name: Option<Name>,
    /// A new source, which must exist.
    pub source_id: Option<SourceId>,
    /// A new destination, which must exist.
    pub destination_id: Option<DestinationId>,
    /// The status wanted.
    pub status: Option<PipelineStatus>,
}

/// A partial update of a pipeline: `None` keeps the stored value. A status change carries its
/// metadata side effects, written in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PipelineUpdate {
    /// A new name.
    pub name: Option<Name>,
    /// A new source.
    pub source_id: Option<SourceId>,
    /// A new destination.
    pub destination_id: Option<DestinationId>,
    /// A status change.
    pub status: Option<StatusChange>,
}

impl PipelineUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeating_the_current_status_changes_nothing() {
        let now = Utc::now();
        for status in [
            PipelineStatus::Start,
            PipelineStatus::Pause,
            PipelineStatus::Refresh,
        ] {
            assert_eq!(status.change_from(status, now), None);
        }
    }

    #[test]
    fn each_action_is_allowed_from_any_other_state_with_its_side_effect() {
        let now = Utc::now();
        let all = [
            PipelineStatus::Start,
            PipelineStatus::Pause,
            PipelineStatus::Refresh,
        ];
        for from in all {
            for to in all.into_iter().filter(|to| *to != from) {
                let change = to.change_from(from, now);
                let expected = match to {
                    PipelineStatus::Start => MetadataChange::Run { started_at: now },
                    PipelineStatus::Pause => MetadataChange::Pause,
                    PipelineStatus::Refresh => MetadataChange::Unchanged,
                };
                assert_eq!(
                    change,
                    Some(StatusChange {
                        status: to,
                        metadata: expected
                    })
                );
            }
        }
    }

    #[test]
    fn statuses_round_trip_through_their_spelling() {
        for status in [
            PipelineStatus::Start,
            PipelineStatus::Pause,
            PipelineStatus::Refresh,
        ] {
            assert_eq!(status.as_str().parse(), Ok(status));
        }
        assert!("start".parse::<PipelineStatus>().is_err());
        assert!(InitialPipelineStatus::try_from(PipelineStatus::Refresh).is_err());
    }

    #[test]
    fn a_new_pipeline_starts_as_the_matching_action_would_leave_it() {
        let now = Utc::now();
        for (status, running, last_start_at) in [
            (
                InitialPipelineStatus::Start,
                PipelineMetadataStatus::Running,
                Some(now),
            ),
            (
                InitialPipelineStatus::Pause,
                PipelineMetadataStatus::Paused,
                None,
            ),
        ] {
            let new = NewPipeline {
                name: Name::parse("orders").unwrap(),
                source_id: SourceId::new(1),
                destination_id: DestinationId::new(2),
                status,
                requested_at: now,
            };
            assert_eq!(new.status.metadata_status(), running);
            assert_eq!(new.last_start_at(), last_start_at);
            // The same as moving an existing pipeline there from the other status.
            let other = match status {
                InitialPipelineStatus::Start => PipelineStatus::Pause,
                InitialPipelineStatus::Pause => PipelineStatus::Start,
            };
            let change = status.status().change_from(other, now).unwrap();
            let expected = match change.metadata {
                MetadataChange::Run { started_at } => {
                    (PipelineMetadataStatus::Running, Some(started_at))
                }
                MetadataChange::Pause => (PipelineMetadataStatus::Paused, None),
                MetadataChange::Unchanged => unreachable!("START and PAUSE change the metadata"),
            };
            assert_eq!((running, last_start_at), expected);
        }
    }
}
