//! `GET /api/v1/metrics/wal`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::models::wal_metrics::{
    WalBucketResponse, WalMetricResponse, WalMetricsQuery, WalMetricsReply,
};

/// List WAL samples
///
/// The WAL samples kept, newest first: every source's, or one source's with `source_id`; at
/// most `limit` of them, recorded in `[from, to)` when given. Sizes are given in bytes, MiB
/// (`size_mb`) and GiB (`size_gb`). With `bucket` (`1m`, `5m`, `1h`, `1d`), the answer is a
/// series instead: per bucket, the minimum, maximum, average and last WAL position and the
/// number of samples, newest bucket first, computed by the database.
#[api_operation(
    tag = "metrics",
    operation_id = "list_wal_metrics",
    success_description = "The samples, newest first (or the buckets, with `bucket`)",
    error_code = 401,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn list_wal_metrics(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    query: ValidQuery<WalMetricsQuery>,
) -> Result<Json<WalMetricsReply>, ApiError> {
    let request = query.into_inner();
    if let Some(bucket) = request.bucket {
        let series = rosetta.list_wal_series(request.query, bucket).await?;
        return Ok(Json(WalMetricsReply::Buckets(
            series.into_iter().map(WalBucketResponse::from).collect(),
        )));
    }
    let metrics = rosetta.list_wal_metrics(request.query).await?;
    Ok(Json(WalMetricsReply::Samples(
        metrics.iter().map(WalMetricResponse::from).collect(),
    )))
}
