//! `GET /api/v1/destinations`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::models::destinations::DestinationResponse;
use crate::models::params::PageQuery;

/// List destinations
///
/// A page of destinations ordered by id.
#[api_operation(
    tag = "destinations",
    operation_id = "list_destinations",
    success_description = "The page of destinations",
    error_code = 401,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn list_destinations(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    page: ValidQuery<PageQuery>,
) -> Result<Json<Vec<DestinationResponse>>, ApiError> {
    let destinations = rosetta.list_destinations(page.into_inner()).await?;
    Ok(Json(
        destinations
            .into_iter()
            .map(DestinationResponse::from)
            .collect(),
    ))
}
