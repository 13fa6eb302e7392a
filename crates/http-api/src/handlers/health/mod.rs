//! `GET /health`, `GET /api/v1/health` and `GET /health/live`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::{Data, Json};
use apistos::api_operation;
use async_trait::async_trait;
use chrono::Utc;

use crate::models::health::{HealthChecks, HealthReply, HealthResponse, LiveResponse};

/// How long the database check may take before it counts as failed.
pub const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What the health report asks of the rest of the service.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// Whether the metadata database answers a trivial query.
    async fn database(&self) -> bool;

    /// Whether the WAL monitor's scheduler runs and its last cycle finished.
    fn wal_monitor(&self) -> bool;

    /// Whether the data plane runs in this process and its last poll succeeded.
    fn replicator(&self) -> bool;
}

/// The health check the handlers use.
pub type SharedHealthCheck = Arc<dyn HealthCheck>;

async fn report(check: &dyn HealthCheck) -> HealthReply {
    let database = tokio::time::timeout(DATABASE_CHECK_TIMEOUT, check.database())
        .await
        .unwrap_or(false);
    HealthReply(HealthResponse {
        status: if database { "healthy" } else { "unhealthy" }.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        timestamp: Utc::now().into(),
        checks: HealthChecks {
            database,
            wal_monitor: check.wal_monitor(),
            replicator: check.replicator(),
        },
    })
}

/// Health of the service
///
/// `200` with `status` `healthy` while the metadata database answers within two seconds; `503`
/// with the same body and `status` `unhealthy` otherwise.
#[api_operation(tag = "health", operation_id = "health")]
pub async fn health(check: Data<SharedHealthCheck>) -> HealthReply {
    report(check.as_ref().as_ref()).await
}

/// Health of the service (under the API prefix)
///
/// The same report as `GET /health`. Like it, and unlike the rest of `/api/v1`, it needs no API
/// key, so that load balancers and probes configured with this path keep working.
#[api_operation(tag = "health", operation_id = "api_health")]
pub async fn api_health(check: Data<SharedHealthCheck>) -> HealthReply {
    report(check.as_ref().as_ref()).await
}

/// Liveness of the process
///
/// `200` whenever the process serves requests; touches no database.
#[api_operation(tag = "health", operation_id = "live", success_description = "Alive")]
pub async fn live() -> Json<LiveResponse> {
    Json(LiveResponse {
        status: "alive".to_owned(),
    })
}
