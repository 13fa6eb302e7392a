//! What a running pipeline reports: the phase it is in, how far it has got, and the state of
//! each of its tables.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Lsn, TableName};
use crate::{InvalidValue, Limit};

/// Where a pipeline is in its life on the data plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PipelinePhase {
    /// Checking its source and destination, creating its slot, connecting.
    Starting,
    /// Copying its tables from the slot's snapshot.
    Copying,
    /// Applying the changes streamed from its slot.
    Streaming,
    /// Stopped on request; its slot keeps its position.
    Paused,
    /// Stopped by an error (see the pipeline's last error); started again by START.
    Error,
}

/// A table's state within its pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableState {
    /// Waiting for its copy.
    Queued,
    /// Being copied.
    Copying,
    /// Copied; its changes apply once the stream reaches the copy's snapshot.
    Copied,
    /// Copied, and its changes are applied as they come.
    Streaming,
    /// Its copy or its changes failed (see its error).
    Error,
}

macro_rules! spelled {
    ($type:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $type {
            /// How the API and the store spell it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $type {
            type Err = InvalidValue;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(InvalidValue::new(
                        "unknown_variant",
                        concat!("must be one of ", $($text, " "),+),
                    )),
                }
            }
        }
    };
}

spelled!(PipelinePhase {
    Starting => "starting",
    Copying => "copying",
    Streaming => "streaming",
    Paused => "paused",
    Error => "error",
});

spelled!(TableState {
    Queued => "queued",
    Copying => "copying",
    Copied => "copied",
    Streaming => "streaming",
    Error => "error",
});

/// How far one table of a pipeline has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableProgress {
    /// The table, on the source.
    pub table: TableName,
    /// Its state.
    pub state: TableState,
    /// Rows its copy wrote (so far, while copying).
    pub rows_copied: u64,
    /// Why it failed, in the `Error` state.
    pub error: Option<String>,
    /// When this was reported.
    pub updated_at: DateTime<Utc>,
}

/// What a running pipeline reports about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineProgress {
    /// Its phase.
    pub phase: PipelinePhase,
    /// The process that runs it (`host:pid:…`), while one does.
    pub owner: Option<String>,
    /// The position its slot is confirmed to: everything before it is on the destination.
    pub confirmed_lsn: Option<Lsn>,
    /// How many bytes of the source's log are not on the destination yet.
    pub lag_bytes: Option<u64>,
    /// How long the oldest change not yet on the destination has waited since it committed
    /// on the source (zero when the destination has caught up).
    pub lag: Option<Duration>,
    /// Rows the initial copy (or the last refresh) wrote.
    pub rows_copied: u64,
    /// Row changes applied since the pipeline was created.
    pub changes_applied: u64,
    /// When the last applied transaction committed on the source.
    pub last_commit_at: Option<DateTime<Utc>>,
    /// When this was reported.
    pub updated_at: DateTime<Utc>,
}

/// Which buckets of a pipeline's samples to summarize, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PipelineSeriesQuery {
    /// Only buckets holding samples taken at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// Only samples taken before this moment.
    pub to: Option<DateTime<Utc>>,
    /// At most this many buckets.
    pub limit: Limit,
}

/// The samples of one bucket of a pipeline's series, summarized: the lag, and the throughput
/// (the row changes applied in the bucket).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSeriesPoint {
    /// Where the bucket starts (aligned as a WAL series' buckets are).
    pub bucket_start: DateTime<Utc>,
    /// The largest lag in bytes sampled in the bucket; `None` when no sample knew it (while
    /// copying, say).
    pub max_lag_bytes: Option<u64>,
    /// The average lag in bytes of the samples that knew it.
    pub avg_lag_bytes: Option<f64>,
    /// The longest lag in time sampled.
    pub max_lag: Option<Duration>,
    /// Row changes applied between the sample before the bucket's first and its last.
    pub changes_applied: u64,
    /// Those changes per second of the bucket (of the part of it already past, for the
    /// current one): the average throughput over the bucket, pauses included.
    pub changes_per_second: f64,
    /// How many samples the bucket holds.
    pub samples: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_and_table_states_are_spelled_as_the_api_spells_them() {
        for phase in [
            PipelinePhase::Starting,
            PipelinePhase::Copying,
            PipelinePhase::Streaming,
            PipelinePhase::Paused,
            PipelinePhase::Error,
        ] {
            assert_eq!(phase.as_str().parse::<PipelinePhase>(), Ok(phase));
        }
        for state in [
            TableState::Queued,
            TableState::Copying,
            TableState::Copied,
            TableState::Streaming,
            TableState::Error,
        ] {
            assert_eq!(state.as_str().parse::<TableState>(), Ok(state));
        }
        assert!("STREAMING".parse::<PipelinePhase>().is_err());
    }
}
