//! `GET /api/v1/sources`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::models::params::PageQuery;
use crate::models::sources::SourceResponse;

/// List sources
///
/// A page of sources ordered by id.
#[api_operation(
    tag = "sources",
    operation_id = "list_sources",
    success_description = "The page of sources",
    error_code = 401,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn list_sources(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    page: ValidQuery<PageQuery>,
) -> Result<Json<Vec<SourceResponse>>, ApiError> {
    let sources = rosetta.list_sources(page.into_inner()).await?;
    Ok(Json(
        sources.into_iter().map(SourceResponse::from).collect(),
    ))
}
