//! `POST /api/v1/pipelines/{id}/start`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::PipelineId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::params::IdPath;
use crate::models::pipelines::PipelineResponse;

/// Start a pipeline
///
/// Status `START`, metadata `RUNNING`, `last_start_at` now and the last error cleared. Allowed from
/// any state; starting a started pipeline changes nothing (`last_start_at` stays). No body.
#[api_operation(
    tag = "pipelines",
    operation_id = "start_pipeline",
    success_description = "The pipeline, started",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn start_pipeline(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<PipelineResponse>, ApiError> {
    let details = rosetta
        .start_pipeline(PipelineId::new(id.into_inner()))
        .await?;
    Ok(Json(PipelineResponse::from(details)))
}
