//! `GET /metrics`: every metric in the Prometheus text exposition format. Left out of the
//! OpenAPI document: it is for scrapers, not for API clients, and its body is not JSON.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};

use crate::auth::ApiKeys;
use crate::error::ApiError;
use crate::metrics::MetricsRenderer;

/// The content type of the text exposition format.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What `/metrics` serves, and whether it needs an API key (`METRICS_REQUIRE_AUTH`).
#[derive(Clone)]
pub struct MetricsEndpoint {
    /// Renders the metrics.
    pub render: MetricsRenderer,
    /// Whether a request needs an accepted API key, as `/api/v1` does.
    pub require_auth: bool,
}

/// Renders the metrics, after checking the API key when `METRICS_REQUIRE_AUTH` asks for one.
///
/// # Errors
///
/// [`ApiError::Unauthenticated`].
pub async fn metrics(
    req: HttpRequest,
    endpoint: Data<MetricsEndpoint>,
    keys: Data<ApiKeys>,
) -> Result<HttpResponse, ApiError> {
    if endpoint.require_auth {
        keys.authorize(&req)?;
    }
    let body = (endpoint.render)();
    Ok(HttpResponse::Ok().content_type(EXPOSITION).body(body))
}
