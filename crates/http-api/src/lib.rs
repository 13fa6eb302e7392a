//! Rosetta's REST API: the routes of the contract on actix-web, documented with apistos, on
//! top of the use cases of `rosetta-app`.
//!
//! - Bodies, queries and paths are validated whole: one `422` lists every failing value.
//! - Every error, including an unknown route or a wrong method, answers the contract's JSON
//!   shape; nothing answers HTML or plain text.
//! - Secrets are write-only: no response type has a field for them.
//! - `GET /openapi.json` serves the document generated from these handlers; `/docs`, `/redoc`
//!   and `/rapidoc` render it.
//! - With API keys, every `/api/v1` route but `/api/v1/health` needs `Authorization: Bearer`.
//! - Every request is counted and timed by route pattern; `GET /metrics` renders the metrics
//!   through a renderer the binary passes in.

pub mod auth;
mod docs_pages;
pub mod error;
pub mod extract;
pub mod fields;
pub mod handlers;
pub mod metrics;
pub mod middleware;
pub mod models;
pub mod openapi;
pub mod request;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use apistos::app::{BuildConfig, OpenApiWrapper};
use apistos::web::{delete, get, post, put, resource, scope};
use rosetta_app::Rosetta;

use crate::auth::ApiKeys;
use crate::error::ApiError;
use crate::handlers::destinations;
use crate::handlers::health::SharedHealthCheck;
use crate::handlers::prometheus::{self, MetricsEndpoint};
use crate::handlers::{health, sources};
use crate::handlers::{pipelines, wal_metrics};
use crate::metrics::MetricsRenderer;

pub use crate::handlers::health::HealthCheck;

async fn route_not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// Every documented route behind the API key. `/api/v1/health` is not among them: it is
/// registered before this scope, outside it, so that probes need no key.
fn routes() -> apistos::web::Scope {
    scope("/api/v1")
        .service(
            resource("/sources")
                .route(post().to(sources::create_source))
                .route(get().to(sources::list_sources)),
        )
        .service(
            resource("/sources/{id}")
                .route(get().to(sources::get_source))
                .route(put().to(sources::update_source))
                .route(delete().to(sources::delete_source)),
        )
        .service(resource("/sources/{id}/wal").route(get().to(sources::get_source_wal)))
        .service(resource("/sources/{id}/check").route(post().to(sources::check_source)))
        .service(
            resource("/destinations")
                .route(post().to(destinations::create_destination))
                .route(get().to(destinations::list_destinations)),
        )
        .service(
            resource("/destinations/{id}")
                .route(get().to(destinations::get_destination))
                .route(put().to(destinations::update_destination))
                .route(delete().to(destinations::delete_destination)),
        )
        .service(
            resource("/destinations/{id}/check").route(post().to(destinations::check_destination)),
        )
        .service(
            resource("/pipelines")
                .route(post().to(pipelines::create_pipeline))
                .route(get().to(pipelines::list_pipelines)),
        )
        .service(
            resource("/pipelines/{id}")
                .route(get().to(pipelines::get_pipeline))
                .route(put().to(pipelines::update_pipeline))
                .route(delete().to(pipelines::delete_pipeline)),
        )
        .service(resource("/pipelines/{id}/start").route(post().to(pipelines::start_pipeline)))
        .service(resource("/pipelines/{id}/pause").route(post().to(pipelines::pause_pipeline)))
        .service(resource("/pipelines/{id}/refresh").route(post().to(pipelines::refresh_pipeline)))
        .service(
            resource("/pipelines/{id}/tables").route(get().to(pipelines::list_pipeline_tables)),
        )
        .service(resource("/metrics/wal").route(get().to(wal_metrics::list_wal_metrics)))
}

/// What the application is built from. The default (no use cases, no health check, no keys,
/// no metrics) is enough to render the OpenAPI document without a database.
#[derive(Clone, Default)]
pub struct AppOptions {
    /// The use cases; `None` only to render the document.
    pub rosetta: Option<Rosetta>,
    /// What `/health` reports on; `None` only to render the document.
    pub health: Option<SharedHealthCheck>,
    /// The keys `/api/v1` accepts; none leaves it open.
    pub api_keys: ApiKeys,
    /// Renders `GET /metrics`; without it the route is not served.
    pub metrics: Option<MetricsRenderer>,
    /// Whether `/metrics` needs an API key too.
    pub metrics_require_auth: bool,
    /// More routes to serve beside the API (the binary passes the web dashboard's), registered
    /// after the API's so that they cannot shadow one of them.
    pub pages: Option<fn(&mut web::ServiceConfig)>,
}

/// The application: routes, documentation, API keys, JSON errors, request logging and
/// metrics.
pub fn app(
    options: AppOptions,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let AppOptions {
        rosetta,
        health,
        api_keys,
        metrics,
        metrics_require_auth,
        pages,
    } = options;
    let mut app = actix_web::App::new().app_data(Data::new(api_keys));
    if let Some(rosetta) = rosetta {
        app = app.app_data(Data::new(rosetta));
    }
    if let Some(check) = health {
        app = app.app_data(Data::new(check));
    }
    let app = app
        .app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
        .document(openapi::spec())
        .service(resource("/health").route(get().to(health::health)))
        .service(resource("/health/live").route(get().to(health::live)))
        .service(resource("/api/v1/health").route(get().to(health::api_health)))
        .service(routes().wrap(from_fn(auth::require_api_key)))
        .default_service(web::to(route_not_found))
        .build_with(openapi::OPENAPI_PATH, BuildConfig::default())
        // The documentation pages, with their browser code embedded (no CDN).
        .configure(docs_pages::configure)
        .configure(|config| {
            if let Some(pages) = pages {
                pages(config);
            }
        });
    // Registered on the built app, past apistos: the document leaves it out altogether, so
    // the served document is the one `rosetta openapi` prints without a recorder.
    let app = match metrics {
        Some(render) => app
            .app_data(Data::new(MetricsEndpoint {
                render,
                require_auth: metrics_require_auth,
            }))
            .service(web::resource("/metrics").route(web::get().to(prometheus::metrics))),
        None => app,
    };
    app.wrap(from_fn(middleware::json_errors))
        .wrap(from_fn(middleware::log_requests))
        .wrap(from_fn(metrics::record_http_metrics))
        // gzip, brotli or zstd when the client asks (`Accept-Encoding`): a dashboard page of a
        // thousand rows is a tenth of its size gzipped.
        .wrap(actix_web::middleware::Compress::default())
}

/// The routes of a process that runs only the data plane (`rosetta replicate`): `/health`,
/// `/health/live` and `/metrics`, with the same JSON errors, request logs and request metrics
/// as [`app`]; no API and no documentation.
pub fn operations_app(
    health: SharedHealthCheck,
    api_keys: ApiKeys,
    metrics: Option<MetricsRenderer>,
    metrics_require_auth: bool,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut app = actix_web::App::new()
        .app_data(Data::new(api_keys))
        .app_data(Data::new(health))
        .service(web::resource("/health").route(web::get().to(health::health)))
        .service(web::resource("/health/live").route(web::get().to(health::live)));
    if let Some(render) = metrics {
        app = app
            .app_data(Data::new(MetricsEndpoint {
                render,
                require_auth: metrics_require_auth,
            }))
            .service(web::resource("/metrics").route(web::get().to(prometheus::metrics)));
    }
    app.default_service(web::to(route_not_found))
        .wrap(from_fn(middleware::json_errors))
        .wrap(from_fn(middleware::log_requests))
        .wrap(from_fn(metrics::record_http_metrics))
}

/// The OpenAPI document, rendered in-process from the same routes the server serves.
///
/// # Errors
///
/// When the document cannot be rendered.
pub async fn openapi_document() -> anyhow::Result<serde_json::Value> {
    let service = actix_web::test::init_service(app(AppOptions::default())).await;
    let request = actix_web::test::TestRequest::get()
        .uri(openapi::OPENAPI_PATH)
        .to_request();
    let body = actix_web::test::call_and_read_body(&service, request).await;
    Ok(serde_json::from_slice(&body)?)
}
