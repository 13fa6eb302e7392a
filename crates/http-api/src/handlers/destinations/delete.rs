//! `DELETE /api/v1/destinations/{id}`

use actix_web::web::Data;
use apistos::actix::NoContent;
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::DestinationId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::{ValidPath, ValidQuery};
use crate::models::params::{DeleteQuery, IdPath};

/// Delete a destination
///
/// Refused with `409 EntityInUseError`, naming the pipelines, while pipelines use it, unless
/// `cascade=true` asks to delete those pipelines too.
#[api_operation(
    tag = "destinations",
    operation_id = "delete_destination",
    success_description = "Deleted",
    error_code = 401,
    error_code = 404,
    error_code = 409,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn delete_destination(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
    mode: ValidQuery<DeleteQuery>,
) -> Result<NoContent, ApiError> {
    let id = DestinationId::new(id.into_inner());
    rosetta.delete_destination(id, mode.into_inner()).await?;
    Ok(NoContent)
}
