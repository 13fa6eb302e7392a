//! WAL metrics as the API answers them: samples with their size in bytes, MiB and GiB, or
//! their summary per bucket.

use rosetta_domain::{WalMetric, WalSeriesPoint};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::timestamp::Timestamp;

/// The samples of one bucket of a WAL series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct WalBucketResponse {
    /// Where the bucket starts (RFC 3339, UTC); buckets are aligned on their width.
    pub bucket_start: Timestamp,
    /// The smallest WAL position sampled in the bucket, in bytes.
    #[schemars(example = 3_221_225_472_i64)]
    pub min_bytes: i64,
    /// The largest, in bytes.
    #[schemars(example = 3_221_325_472_i64)]
    pub max_bytes: i64,
    /// The average, in bytes.
    #[schemars(example = 3_221_275_472.0)]
    pub avg_bytes: f64,
    /// The last one sampled, in bytes.
    #[schemars(example = 3_221_325_472_i64)]
    pub last_bytes: i64,
    /// How many samples the bucket holds.
    #[schemars(example = 5)]
    pub samples: i64,
}

impl From<WalSeriesPoint> for WalBucketResponse {
    fn from(point: WalSeriesPoint) -> Self {
        Self {
            bucket_start: point.bucket_start.into(),
            min_bytes: point.min_bytes,
            max_bytes: point.max_bytes,
            avg_bytes: point.avg_bytes,
            last_bytes: point.last_bytes,
            samples: point.samples,
        }
    }
}

/// The samples, or their summary per bucket when `bucket` is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum WalMetricsReply {
    /// The samples, newest first.
    Samples(Vec<WalMetricResponse>),
    /// The buckets, newest first.
    Buckets(Vec<WalBucketResponse>),
}

crate::nesting_component!(WalMetricsReply);

/// One WAL sample of a source: its WAL position at a point in time. The WAL generation rate is
/// the slope of successive samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct WalMetricResponse {
    /// Its id.
    #[schemars(example = 1)]
    pub id: i64,
    /// The source sampled.
    #[schemars(example = 1)]
    pub source_id: i64,
    /// WAL position in bytes.
    #[schemars(example = 3_221_225_472_i64)]
    pub size_bytes: i64,
    /// The same in mebibytes (bytes / 1024²).
    #[schemars(example = 3072.0)]
    pub size_mb: f64,
    /// The same in gibibytes (bytes / 1024³).
    #[schemars(example = 3.0)]
    pub size_gb: f64,
    /// When it was sampled (RFC 3339, UTC).
    pub recorded_at: Timestamp,
}

impl From<&WalMetric> for WalMetricResponse {
    fn from(metric: &WalMetric) -> Self {
        Self {
            id: metric.id.get(),
            source_id: metric.source_id.get(),
            size_bytes: metric.size_bytes,
            size_mb: metric.size_mb(),
            size_gb: metric.size_gb(),
            recorded_at: metric.recorded_at.into(),
        }
    }
}
