//! `PUT /api/v1/pipelines/{id}`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::PipelineId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::{ValidJson, ValidPath};
use crate::models::params::IdPath;
use crate::models::pipelines::{PipelineResponse, UpdatePipelineBody};

/// Update a pipeline
///
/// A partial update of `name`, `source_id`, `destination_id` and `status`: omitted fields keep
/// their value, a new source or destination must exist, and a status change has the side
/// effects of the matching action (`start`, `pause`, `refresh`).
#[api_operation(
    tag = "pipelines",
    operation_id = "update_pipeline",
    success_description = "The pipeline as stored after the update",
    error_code = 401,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn update_pipeline(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
    body: ValidJson<UpdatePipelineBody>,
) -> Result<Json<PipelineResponse>, ApiError> {
    let id = PipelineId::new(id.into_inner());
    let details = rosetta.update_pipeline(id, body.into_inner()).await?;
    Ok(Json(PipelineResponse::from(details)))
}
