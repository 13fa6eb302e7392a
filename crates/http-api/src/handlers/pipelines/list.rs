//! `GET /api/v1/pipelines`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::models::pipelines::{PipelineListQuery, PipelineResponse};

/// List pipelines
///
/// A page of pipelines ordered by id, each with its source, destination and metadata;
/// `status` keeps only the pipelines in that status.
#[api_operation(
    tag = "pipelines",
    operation_id = "list_pipelines",
    success_description = "The page of pipelines",
    error_code = 401,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn list_pipelines(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    query: ValidQuery<PipelineListQuery>,
) -> Result<Json<Vec<PipelineResponse>>, ApiError> {
    let (page, status) = query.into_inner();
    let pipelines = rosetta.list_pipelines(page, status).await?;
    Ok(Json(
        pipelines.into_iter().map(PipelineResponse::from).collect(),
    ))
}
