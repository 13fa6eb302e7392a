//! `POST /api/v1/sources/{id}/check`

use actix_web::web::{Data, Json};
use apistos::api_operation;
use rosetta_app::Rosetta;
use rosetta_domain::SourceId;

use crate::auth::ApiKey;
use crate::error::ApiError;
use crate::extract::ValidPath;
use crate::models::params::IdPath;
use crate::models::source_wal::SourceCheckResponse;

/// Check whether a source is ready for a pipeline
///
/// Probes the source now, with its stored connection settings, and reports every check:
/// reachable, server version, `wal_level = logical`, publication, replication privilege, a free
/// replication slot (required), then advice (slot created, `pg_monitor`, primary). Records
/// nothing: neither a WAL sample nor the monitor's probe status changes. No body.
///
/// Answers `200` even when the source cannot be reached: `ready` is then `false`, `reachable`
/// is the only check and it fails with the reason (never a secret), and `reading` is `null`.
#[api_operation(
    tag = "sources",
    operation_id = "check_source",
    success_description = "Every check of the source and what the probe read",
    error_code = 401,
    error_code = 404,
    error_code = 422,
    error_code = 500,
    error_code = 503
)]
pub async fn check_source(
    _key: ApiKey,
    rosetta: Data<Rosetta>,
    id: ValidPath<IdPath>,
) -> Result<Json<SourceCheckResponse>, ApiError> {
    let source_id = SourceId::new(id.into_inner());
    let diagnostics = rosetta.check_source(source_id).await?;
    Ok(Json(SourceCheckResponse::new(source_id, diagnostics)))
}
