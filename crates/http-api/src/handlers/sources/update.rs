//! `PUT /api/v1/sources/{id}`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::SourceId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::{ValidJson, ValidPath};
use crate::models::params::IdPath;
use crate::models::sources::{SourceResponse, UpdateSourceBody};

/// Update a source
///
/// A partial update: omitted fields, the password too, keep their value.
#[api_operation(
    tag = "sources",
    operation_id = "update_source",
    success_description = "The source as stored after the update",
    error_code = 401,
    error_code = 404,
    error_code = 409,
    error_code = 413,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn update_source(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
    body: ValidJson<UpdateSourceBody>,
) -> Result<Json<SourceResponse>, ApiError> {
    let id = SourceId::new(id.into_inner());
    let source = rosetta.update_source(id, body.into_inner()).await?;
    Ok(Json(SourceResponse::from(source)))
}
