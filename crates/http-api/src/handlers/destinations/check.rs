//! `POST /api/v1/destinations/{id}/check`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::DestinationId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::destinations::DestinationDiagnosticsResponse;
use crate::models::params::IdPath;

/// Check whether Rosetta can sign in to a destination and write there
///
/// Checks the destination now, with its stored settings, through the writer of its type, and
/// reports each step up to the first that fails. For PostgreSQL: `connect` (sign in),
/// `create_schema` (the destination schema exists, or is created as the first run would),
/// `create_table` (a table can be created there; it is rolled back) and `bookkeeping` (Rosetta's
/// schema `rosetta` exists and may be written, or may be created; rolled back). For Snowflake:
/// `private_key` (read and decrypt the key), `sign_in` (key-pair JWT), `warehouse` (`USE
/// WAREHOUSE`; advice only when none is set), `create_schema` and `create_table` (a table
/// created, written and dropped). A type this build does not write to fails one `writer` check. Records nothing in the catalogue. No body.
///
/// Answers `200` even when the destination cannot be reached or written: `ready` is then
/// `false` and the last check says why (never a secret).
#[api_operation(
    tag = "destinations",
    operation_id = "check_destination",
    success_description = "Every check of the destination, up to the first that failed",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn check_destination(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<DestinationDiagnosticsResponse>, ApiError> {
    let id = DestinationId::new(id.into_inner());
    let diagnostics = rosetta.check_destination(id).await?;
    Ok(Json(DestinationDiagnosticsResponse::from(diagnostics)))
}
