//! WAL metric bodies: the list query and one sample with its size in bytes, MiB and GiB.

use apistos::schemars::JsonSchema;
use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use rosetta_domain::{Limit, SourceId, WalBucket, WalMetric, WalMetricQuery, WalSeriesPoint};
use serde::Serialize;

use crate::models::timestamp::Timestamp;
use crate::request::request_part;

/// The bucket widths of a series.
#[derive(JsonSchema)]
#[schemars(crate = "apistos")]
#[expect(
    missing_docs,
    reason = "a documented enum would be rendered as a oneOf"
)]
pub enum WalBucketName {
    #[schemars(rename = "1m")]
    OneMinute,
    #[schemars(rename = "5m")]
    FiveMinutes,
    #[schemars(rename = "1h")]
    OneHour,
    #[schemars(rename = "1d")]
    OneDay,
}

request_part! {
    /// Which samples to list, newest first, or how to summarize them.
    query struct WalMetricsQuery => WalMetricsRequest {
        /// Only this source's samples (every source's when omitted).
        #[schemars(example = 1)]
        optional source_id: SourceId,
        /// Samples to return, 1–1000 (default 100); with `bucket`, buckets to return.
        #[schemars(example = 100)]
        default limit: Limit,
        /// Only samples recorded at or after this moment (RFC 3339).
        #[schemars(example = &"2026-11-26T00:00:00Z")]
        optional from: DateTime<Utc>,
        /// Only samples recorded before this moment (RFC 3339).
        #[schemars(example = &"2026-11-27T00:00:00Z")]
        optional to: DateTime<Utc>,
        /// Summarize the samples per bucket of this width instead of listing them: the answer is
        /// then a list of buckets (`bucket_start`, `min_bytes`, `max_bytes`, `avg_bytes`,
        /// `last_bytes`, `samples`), newest first, computed by the database.
        optional bucket: WalBucket,
    } with |f| {
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                f.fail("to", "value_out_of_range", "must be later than from");
            }
        }
        Some(WalMetricsRequest {
            query: WalMetricQuery {
                source_id,
                from,
                to,
                limit,
            },
            bucket,
        })
    }
}

/// A validated WAL metrics query: the samples wanted, and the bucket width when summarized.
pub struct WalMetricsRequest {
    /// Which samples.
    pub query: WalMetricQuery,
    /// The bucket width, when a series is asked for.
    pub bucket: Option<WalBucket>,
}

/// The samples of one bucket of a WAL series.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
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
#[derive(Serialize, JsonSchema)]
#[schemars(crate = "apistos")]
#[serde(untagged)]
pub enum WalMetricsReply {
    /// The samples, newest first.
    Samples(Vec<WalMetricResponse>),
    /// The buckets, newest first.
    Buckets(Vec<WalBucketResponse>),
}

nesting_component!(WalMetricsReply);

/// One WAL sample of a source: its WAL position at a point in time. The WAL generation rate is
/// the slope of successive samples.
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
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
