//! WAL figures: what a probe reads from a source and the samples kept of it.

use chrono::{DateTime, Utc};

use crate::{Limit, SourceId, WalMetricId};

/// One WAL sample of a source: its WAL write position in bytes at a point in time. The WAL
/// generation rate is the slope of successive samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalMetric {
    /// Its id.
    pub id: WalMetricId,
    /// The source sampled.
    pub source_id: SourceId,
    /// WAL position in bytes (`pg_wal_lsn_diff(current, '0/0')`).
    pub size_bytes: i64,
    /// When it was sampled.
    pub recorded_at: DateTime<Utc>,
}

impl WalMetric {
    /// The size in mebibytes (bytes / 1024²).
    pub fn size_mb(&self) -> f64 {
        self.size_bytes as f64 / (1024.0 * 1024.0)
    }

    /// The size in gibibytes (bytes / 1024³).
    pub fn size_gb(&self) -> f64 {
        self.size_bytes as f64 / (1024.0 * 1024.0 * 1024.0)
    }
}

/// Which samples to list, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalMetricQuery {
    /// Only this source's samples; every source's when `None`.
    pub source_id: Option<SourceId>,
    /// Only samples recorded at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// Only samples recorded before this moment.
    pub to: Option<DateTime<Utc>>,
    /// At most this many (samples, or buckets of a series).
    pub limit: Limit,
}

/// The width of the buckets of a series: a WAL series, or a pipeline's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WalBucket {
    /// One minute (`1m`).
    Minute,
    /// Five minutes (`5m`).
    FiveMinutes,
    /// One hour (`1h`).
    Hour,
    /// One day (`1d`).
    Day,
}

impl WalBucket {
    /// Every width, narrowest first.
    pub const ALL: [Self; 4] = [Self::Minute, Self::FiveMinutes, Self::Hour, Self::Day];

    /// The spelling used by the API (`1m`, `5m`, `1h`, `1d`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Minute => "1m",
            Self::FiveMinutes => "5m",
            Self::Hour => "1h",
            Self::Day => "1d",
        }
    }

    /// The width in seconds.
    pub const fn seconds(self) -> i64 {
        match self {
            Self::Minute => 60,
            Self::FiveMinutes => 300,
            Self::Hour => 3_600,
            Self::Day => 86_400,
        }
    }
}

impl std::str::FromStr for WalBucket {
    type Err = crate::InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        crate::error::spelled_as(value, &Self::ALL, Self::as_str)
    }
}

/// The samples of one bucket of a WAL series, summarized.
#[derive(Debug, Clone, PartialEq)]
pub struct WalSeriesPoint {
    /// Where the bucket starts (buckets are aligned on multiples of their width since
    /// 2000-01-01 00:00 UTC).
    pub bucket_start: DateTime<Utc>,
    /// The smallest WAL position sampled in the bucket.
    pub min_bytes: i64,
    /// The largest.
    pub max_bytes: i64,
    /// The average.
    pub avg_bytes: f64,
    /// The last one sampled.
    pub last_bytes: i64,
    /// How many samples the bucket holds.
    pub samples: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_convert_with_binary_units() {
        let metric = WalMetric {
            id: WalMetricId::new(1),
            source_id: SourceId::new(1),
            size_bytes: 3 * 1024 * 1024 * 1024,
            recorded_at: Utc::now(),
        };
        assert_eq!(metric.size_mb(), 3072.0);
        assert_eq!(metric.size_gb(), 3.0);
    }
}
