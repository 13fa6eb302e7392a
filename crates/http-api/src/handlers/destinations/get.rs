//! `GET /api/v1/destinations/{id}`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::DestinationId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::destinations::DestinationResponse;
use crate::models::params::IdPath;

/// Get a destination
#[api_operation(
    tag = "destinations",
    operation_id = "get_destination",
    success_description = "The destination (its config without secrets)",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn get_destination(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<DestinationResponse>, ApiError> {
    let id = DestinationId::new(id.into_inner());
    let destination = rosetta.get_destination(id).await?;
    Ok(Json(DestinationResponse::from(destination)))
}
