//! Request logging with a request id, and the guarantee that every error answers JSON.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use tracing::Instrument;

use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;

/// The header that carries the request id, both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of a request: the client's `x-request-id` when it sent a sane one, else a new one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned)
}

fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = std::process::id() as u64;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    format!(
        "{:08x}{:016x}{:06x}",
        seed,
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed) & 0xff_ffff
    )
}

/// Logs each request (method, path, status, latency, request id) and echoes the id in
/// `x-request-id`. The query string is not logged: it is the client's business.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = request_id(&req);
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.path(),
        request_id = %id,
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    // Handlers' errors arrive here as responses already; an `Err` can only come from another
    // middleware, and actix-web renders it further out.
    let mut response = match result {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            span.in_scope(|| tracing::error!(error = %error, "request failed in a middleware"));
            return Err(error);
        }
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, latency_ms, "request served");
        } else {
            tracing::info!(status, latency_ms, "request served");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// Whether the response is JSON already, or a page that a route rendered on purpose (the
/// dashboard's error pages): neither is rewritten.
fn is_json_or_page(response: &ServiceResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"))
}

/// Turns every error response that is not JSON yet (a method not allowed on a resource, a
/// framework error) into the contract's JSON shape, keeping its status. HTML pages rendered
/// by a route (the dashboard's) are left as they are.
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = next.call(req).await?.map_into_boxed_body();
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() || is_json_or_page(&response) {
        return Ok(response);
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        },
        s if s.is_client_error() => {
            ApiError::invalid(&["request"], "bad_request", "The request is malformed")
        }
        _ => ApiError::Internal,
    };
    let (req, _) = response.into_parts();
    let mut replacement = error.error_response();
    *replacement.status_mut() = status;
    Ok(ServiceResponse::new(req, replacement))
}
