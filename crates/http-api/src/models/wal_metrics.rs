//! WAL metric bodies: the list query and one sample with its size in bytes, MiB and GiB.

use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use rosetta_domain::{Limit, SourceId, WalBucket, WalMetricQuery};

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

pub use rosetta_api_types::wal_metrics::{WalBucketResponse, WalMetricResponse, WalMetricsReply};
