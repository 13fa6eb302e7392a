//! `GET /api/v1/sources/{id}/wal`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::SourceId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::params::IdPath;
use crate::models::source_wal::SourceWalResponse;

/// Get the health of a source's WAL
///
/// The verdict of the WAL monitor on the source (`ok`, `warning` or `critical`) with every
/// finding, worst first; the latest probe outcome; and what the last successful probe read,
/// replication slots included. Answers from what the monitor recorded: it does not probe the
/// source. A source never probed yet is a `warning` (`not_probed_yet`) with `probe` and
/// `reading` `null` and no slots.
#[api_operation(
    tag = "sources",
    operation_id = "get_source_wal",
    success_description = "The verdict on the source's WAL, its latest probe and reading",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn get_source_wal(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<SourceWalResponse>, ApiError> {
    let report = rosetta
        .source_wal_report(SourceId::new(id.into_inner()))
        .await?;
    Ok(Json(SourceWalResponse::from(report)))
}
