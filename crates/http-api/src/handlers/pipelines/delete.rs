//! `DELETE /api/v1/pipelines/{id}`

use actix_web::web::Data;
use apistos::actix::NoContent;
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::PipelineId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::params::IdPath;

/// Delete a pipeline
///
/// Its runtime metadata goes with it; its source and destination stay.
#[api_operation(
    tag = "pipelines",
    operation_id = "delete_pipeline",
    success_description = "Deleted",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn delete_pipeline(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<NoContent, ApiError> {
    rosetta
        .delete_pipeline(PipelineId::new(id.into_inner()))
        .await?;
    Ok(NoContent)
}
