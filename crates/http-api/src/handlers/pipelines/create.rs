//! `POST /api/v1/pipelines`

use actix_web::web::Data;
use apistos::actix::CreatedJson;
use apistos::api_operation;
use rosetta_app::Rosetta;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::models::pipelines::{CreatePipelineBody, NewPipelineRequest, PipelineResponse};

/// Create a pipeline
///
/// Connects an existing source to an existing destination (`404 EntityNotFoundError` names the
/// one missing). The pipeline and its runtime metadata are created together: with `status`
/// `START` (the default) the metadata is `RUNNING` from now, with `PAUSE` it is `PAUSED`.
#[api_operation(
    tag = "pipelines",
    operation_id = "create_pipeline",
    success_description = "The pipeline as stored, with its source, destination and metadata",
    error_code = 401,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn create_pipeline(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    body: ValidJson<CreatePipelineBody>,
) -> Result<CreatedJson<PipelineResponse>, ApiError> {
    let NewPipelineRequest {
        name,
        source_id,
        destination_id,
        status,
    } = body.into_inner();
    let details = rosetta
        .create_pipeline(name, source_id, destination_id, status)
        .await?;
    Ok(CreatedJson(PipelineResponse::from(details)))
}
