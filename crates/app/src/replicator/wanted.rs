//! What the catalogue asks of a pipeline, as far as the worker that runs it cares, and when a
//! change of it means starting the run over.

use chrono::{DateTime, Utc};
use rosetta_domain::{DestinationId, PipelineDetails, PipelineStatus, SourceId};

/// A pipeline's wishes, read from the catalogue on every poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Wanted {
    /// What it has been asked to do.
    pub status: PipelineStatus,
    /// When it was last started: a START on a failed pipeline moves it, and so retries.
    pub last_start_at: Option<DateTime<Utc>>,
    /// Its source.
    pub source: SourceId,
    /// When its source last changed (connection details, publication, replication id…).
    pub source_changed_at: DateTime<Utc>,
    /// Its destination.
    pub destination: DestinationId,
    /// When its destination last changed.
    pub destination_changed_at: DateTime<Utc>,
}

impl Wanted {
    /// What `details` asks of its worker.
    pub fn of(details: &PipelineDetails) -> Self {
        Self {
            status: details.pipeline.status,
            last_start_at: details.metadata.last_start_at,
            source: details.pipeline.source_id,
            source_changed_at: details.source.updated_at,
            destination: details.pipeline.destination_id,
            destination_changed_at: details.destination.updated_at,
        }
    }

    /// Whether the pipeline should run at all.
    pub fn runs(&self) -> bool {
        self.status != PipelineStatus::Pause
    }

    /// Whether a run begun for `self` must start over to honour `next`: a refresh asked for, a
    /// start after a failure, another source or destination, or changed connection details.
    /// The run's own move from `REFRESH` back to `START`, once it has copied everything, is
    /// not a reason.
    pub fn restarts_for(&self, next: &Self) -> bool {
        let refresh_asked =
            next.status == PipelineStatus::Refresh && self.status != PipelineStatus::Refresh;
        refresh_asked
            || next.last_start_at != self.last_start_at
            || next.source != self.source
            || next.source_changed_at != self.source_changed_at
            || next.destination != self.destination
            || next.destination_changed_at != self.destination_changed_at
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;

    fn wanted(status: PipelineStatus) -> Wanted {
        let at = Utc::now();
        Wanted {
            status,
            last_start_at: Some(at),
            source: SourceId::new(1),
            source_changed_at: at,
            destination: DestinationId::new(2),
            destination_changed_at: at,
        }
    }

    #[test]
    fn a_refresh_or_a_new_start_restarts_the_run_but_the_end_of_a_refresh_does_not() {
        let running = wanted(PipelineStatus::Start);
        assert!(running.restarts_for(&Wanted {
            status: PipelineStatus::Refresh,
            ..running.clone()
        }));
        let refreshing = Wanted {
            status: PipelineStatus::Refresh,
            ..running.clone()
        };
        assert!(
            !refreshing.restarts_for(&running),
            "the run set START itself"
        );
        assert!(!running.restarts_for(&running.clone()));
        let started_again = Wanted {
            last_start_at: running.last_start_at.map(|t| t + Duration::seconds(5)),
            ..running.clone()
        };
        assert!(running.restarts_for(&started_again));
    }

    #[test]
    fn changed_ends_or_connection_details_restart_the_run() {
        let running = wanted(PipelineStatus::Start);
        let later = running.source_changed_at + Duration::seconds(1);
        for next in [
            Wanted {
                source: SourceId::new(9),
                ..running.clone()
            },
            Wanted {
                source_changed_at: later,
                ..running.clone()
            },
            Wanted {
                destination: DestinationId::new(9),
                ..running.clone()
            },
            Wanted {
                destination_changed_at: later,
                ..running.clone()
            },
        ] {
            assert!(running.restarts_for(&next), "{next:?}");
        }
        assert!(!wanted(PipelineStatus::Pause).runs());
        assert!(wanted(PipelineStatus::Refresh).runs());
    }
}
