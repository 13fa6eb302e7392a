//! `GET /api/v1/pipelines/{id}`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::PipelineId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::params::IdPath;
use crate::models::pipelines::PipelineResponse;

/// Get a pipeline
#[api_operation(
    tag = "pipelines",
    operation_id = "get_pipeline",
    success_description = "The pipeline, with its source, destination and metadata",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn get_pipeline(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<PipelineResponse>, ApiError> {
    let details = rosetta
        .get_pipeline(PipelineId::new(id.into_inner()))
        .await?;
    Ok(Json(PipelineResponse::from(details)))
}
