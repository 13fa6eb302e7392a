//! `GET /api/v1/pipelines/{id}/tables` (*extension*)

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::PipelineId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::params::IdPath;
use crate::models::pipeline_runtime::PipelineTableResponse;

/// List a pipeline's tables
///
/// Every table of the pipeline's publication with its state on the data plane (`queued`,
/// `copying`, `copied`, `streaming`, `error`) and the rows its copy wrote, ordered by schema and
/// name; empty until a replicator has run the pipeline.
#[api_operation(
    tag = "pipelines",
    operation_id = "list_pipeline_tables",
    success_description = "The pipeline's tables and their states",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn list_pipeline_tables(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<Vec<PipelineTableResponse>>, ApiError> {
    let tables = rosetta
        .pipeline_tables(PipelineId::new(id.into_inner()))
        .await?;
    Ok(Json(
        tables
            .into_iter()
            .map(PipelineTableResponse::from)
            .collect(),
    ))
}
