//! `POST /api/v1/destinations`

use actix_web::web::Data;
use apistos::actix::CreatedJson;
use apistos::api_operation;
use rosetta_app::Rosetta;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::models::destinations::{CreateDestinationBody, DestinationResponse};

/// Create a destination
///
/// Registers where pipelines deliver: `{"name", "type", "config"}` with `type` `SNOWFLAKE` or
/// `POSTGRES` (any case), or the first version's flat `snowflake_*` fields as a `SNOWFLAKE`
/// destination. Unknown `config` fields are refused. Secrets are stored and never returned.
#[api_operation(
    tag = "destinations",
    operation_id = "create_destination",
    success_description = "The destination as stored (its config without secrets)",
    error_code = 401,
    error_code = 409,
    error_code = 413,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn create_destination(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    body: ValidJson<CreateDestinationBody>,
) -> Result<CreatedJson<DestinationResponse>, ApiError> {
    let destination = rosetta.create_destination(body.into_inner()).await?;
    Ok(CreatedJson(DestinationResponse::from(destination)))
}
