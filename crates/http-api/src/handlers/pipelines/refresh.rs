//! `POST /api/v1/pipelines/{id}/refresh`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::PipelineId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::params::IdPath;
use crate::models::pipelines::PipelineResponse;

/// Refresh a pipeline
///
/// Status `REFRESH`: a full re-copy is requested; the metadata is unchanged. Allowed from any
/// state; refreshing a pipeline already in `REFRESH` changes nothing. No body.
#[api_operation(
    tag = "pipelines",
    operation_id = "refresh_pipeline",
    success_description = "The pipeline, with a re-copy requested",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn refresh_pipeline(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<PipelineResponse>, ApiError> {
    let details = rosetta
        .refresh_pipeline(PipelineId::new(id.into_inner()))
        .await?;
    Ok(Json(PipelineResponse::from(details)))
}
