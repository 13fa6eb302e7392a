//! `GET /api/v1/metrics/wal`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;

use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::models::wal_metrics::{WalMetricResponse, WalMetricsQuery};

/// List WAL samples
///
/// The WAL samples kept, newest first: every source's, or one source's with `source_id`; at
/// most `limit` of them. Sizes are given in bytes, MiB (`size_mb`) and GiB (`size_gb`).
#[api_operation(
    tag = "metrics",
    operation_id = "list_wal_metrics",
    success_description = "The samples, newest first",
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn list_wal_metrics(
    rosetta: Data<Rosetta>,
    query: ValidQuery<WalMetricsQuery>,
) -> Result<Json<Vec<WalMetricResponse>>, ApiError> {
    let metrics = rosetta.list_wal_metrics(query.into_inner()).await?;
    Ok(Json(metrics.iter().map(WalMetricResponse::from).collect()))
}
