//! `POST /api/v1/sources`

use actix_web::web::Data;
use apistos::actix::CreatedJson;
use apistos::api_operation;
use rosetta_app::Rosetta;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::models::sources::{CreateSourceBody, SourceResponse};

/// Create a source
///
/// Registers a PostgreSQL database to replicate from. The password is stored and never returned.
#[api_operation(
    tag = "sources",
    operation_id = "create_source",
    success_description = "The source as stored (without its password)",
    error_code = 401,
    error_code = 409,
    error_code = 413,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn create_source(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    body: ValidJson<CreateSourceBody>,
) -> Result<CreatedJson<SourceResponse>, ApiError> {
    let source = rosetta.create_source(body.into_inner()).await?;
    Ok(CreatedJson(SourceResponse::from(source)))
}
