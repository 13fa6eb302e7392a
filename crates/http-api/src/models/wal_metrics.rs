//! WAL metric bodies: the list query and one sample with its size in bytes, MiB and GiB.

use std::collections::HashMap;

use apistos::schemars::JsonSchema;
use apistos::ApiComponent;
use rosetta_domain::{Limit, SourceId, WalMetric, WalMetricQuery};
use serde::Serialize;

use super::params::read_id;
use crate::error::FieldError;
use crate::extract::FromParams;
use crate::fields::{Fields, Origin};
use crate::models::timestamp::Timestamp;

/// Which samples to list, newest first.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct WalMetricsQuery {
    /// Only this source's samples (every source's when omitted).
    #[schemars(range(min = 1), example = 1)]
    pub source_id: Option<i64>,
    /// Samples to return, 1–1000 (default 100).
    #[schemars(range(min = 1, max = 1000), example = 100)]
    pub limit: Option<i64>,
}

impl FromParams for WalMetricsQuery {
    type Output = WalMetricQuery;

    fn from_params(params: &HashMap<String, String>) -> Result<WalMetricQuery, Vec<FieldError>> {
        let mut fields = Fields::text(Origin::Query, params);
        let source_id = read_id(&mut fields, "source_id").map(SourceId::new);
        let limit = fields.parse_int("limit", Limit::new).unwrap_or_default();
        fields.finish(|| Some(WalMetricQuery { source_id, limit }))
    }
}

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
