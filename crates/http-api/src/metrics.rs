//! HTTP request metrics, through the `metrics` facade: the binary installs the recorder (and so
//! decides the exposition format); without one, recording costs next to nothing.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::Error;
use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};

/// Counter of requests served, by `method`, `route` and `status`.
pub const HTTP_REQUESTS: &str = "rosetta_http_requests_total";
/// Histogram of the time taken to serve a request, by `method` and `route`, in seconds.
pub const HTTP_REQUEST_DURATION: &str = "rosetta_http_request_duration_seconds";

/// Bucket bounds of [`HTTP_REQUEST_DURATION`], in seconds: 1 ms to 10 s.
pub const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `route` of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Renders every metric in the text exposition format, for `GET /metrics`. The binary owns
/// the recorder and passes this in, so that this crate stays exporter-agnostic.
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

/// Registers the help text and unit of the HTTP metrics with the installed recorder.
pub fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests served, by method, route pattern and status"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to serve an HTTP request, by method and route pattern"
    );
}

/// The `method` label: the standard methods as they are, anything else as `other`, so that a
/// client inventing methods cannot create series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Counts each request and times it, labelled by the route's pattern
/// (`/api/v1/sources/{id}`), never by the raw path: ids would make a series per entity.
pub async fn record_http_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let method = method_label(req.method());
    // Resolved from the app's route map, so it is known before routing and for any outcome.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let started = Instant::now();
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status.as_str().to_owned())
        .increment(1);
    histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    result.map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let invented = Method::from_bytes(b"BREW");
        assert_eq!(invented.as_ref().map(method_label).ok(), Some("other"));
    }
}
