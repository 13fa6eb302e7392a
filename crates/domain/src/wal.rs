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

/// A sample to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWalMetric {
    /// The source sampled.
    pub source_id: SourceId,
    /// WAL position in bytes.
    pub size_bytes: i64,
    /// When it was sampled.
    pub recorded_at: DateTime<Utc>,
}

/// Which samples to list, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalMetricQuery {
    /// Only this source's samples; every source's when `None`.
    pub source_id: Option<SourceId>,
    /// At most this many.
    pub limit: Limit,
}

/// What one probe of a source read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalReading {
    /// WAL position in bytes: written on a primary, received on a standby.
    pub position_bytes: i64,
    /// Whether the server is a standby.
    pub in_recovery: bool,
    /// `server_version_num`, such as `150004`.
    pub server_version_num: i32,
    /// When it was read.
    pub read_at: DateTime<Utc>,
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
