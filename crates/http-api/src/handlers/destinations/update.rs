//! `PUT /api/v1/destinations/{id}`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::DestinationId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::{ValidJson, ValidPath};
use crate::models::destinations::{DestinationResponse, UpdateDestinationBody};
use crate::models::params::IdPath;

/// Update a destination
///
/// A partial update: a new `name`, and a `config` that replaces the whole configuration. The
/// config is read against `type` when given (changing the type needs a full config of the new
/// type), else against the stored type. A config of the same type that leaves its secret out
/// keeps the stored secret.
#[api_operation(
    tag = "destinations",
    operation_id = "update_destination",
    success_description = "The destination as stored after the update",
    error_code = 401,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn update_destination(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
    body: ValidJson<UpdateDestinationBody>,
) -> Result<Json<DestinationResponse>, ApiError> {
    let id = DestinationId::new(id.into_inner());
    let destination = rosetta.update_destination(id, body.into_inner()).await?;
    Ok(Json(DestinationResponse::from(destination)))
}
