//! `GET /api/v1/sources/{id}`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::SourceId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::params::IdPath;
use crate::models::sources::SourceResponse;

/// Get a source
#[api_operation(
    tag = "sources",
    operation_id = "get_source",
    success_description = "The source (without its password)",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn get_source(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<SourceResponse>, ApiError> {
    let source = rosetta.get_source(SourceId::new(id.into_inner())).await?;
    Ok(Json(SourceResponse::from(source)))
}
