//! Rosetta's REST API: the routes of the contract on actix-web, documented with apistos, on
//! top of the use cases of `rosetta-app`.
//!
//! - Bodies, queries and paths are validated whole: one `422` lists every failing value.
//! - Every error, including an unknown route or a wrong method, answers the contract's JSON
//!   shape; nothing answers HTML or plain text.
//! - Secrets are write-only: no response type has a field for them.
//! - `GET /openapi.json` serves the document generated from these handlers; `/docs`, `/redoc`
//!   and `/rapidoc` render it.

pub mod error;
pub mod extract;
pub mod fields;
pub mod handlers;
pub mod middleware;
pub mod models;
pub mod openapi;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use apistos::app::{BuildConfig, OpenApiWrapper};
use apistos::web::{delete, get, post, put, resource, scope};
use apistos::{RapidocConfig, RedocConfig, SwaggerUIConfig};
use rosetta_app::Rosetta;

use crate::error::ApiError;
use crate::handlers::destinations;
use crate::handlers::health::SharedHealthCheck;
use crate::handlers::{health, sources};
use crate::handlers::{pipelines, wal_metrics};

pub use crate::handlers::health::HealthCheck;

async fn route_not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// Every documented route.
fn routes() -> apistos::web::Scope {
    scope("/api/v1")
        .service(resource("/health").route(get().to(health::api_health)))
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
        .service(resource("/metrics/wal").route(get().to(wal_metrics::list_wal_metrics)))
}

/// The application: routes, documentation, JSON errors and request logging. `rosetta` and
/// `health` are `None` only to render the OpenAPI document without a database.
pub fn app(
    rosetta: Option<Rosetta>,
    health_check: Option<SharedHealthCheck>,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut app = actix_web::App::new();
    if let Some(rosetta) = rosetta {
        app = app.app_data(Data::new(rosetta));
    }
    if let Some(check) = health_check {
        app = app.app_data(Data::new(check));
    }
    app.app_data(web::PayloadConfig::new(extract::MAX_BODY_BYTES))
        .document(openapi::spec())
        .service(resource("/health").route(get().to(health::health)))
        .service(resource("/health/live").route(get().to(health::live)))
        .service(routes())
        .default_service(web::to(route_not_found))
        .build_with(
            openapi::OPENAPI_PATH,
            BuildConfig::default()
                .with_ui(SwaggerUIConfig::new(&"/docs"))
                .with_ui(RedocConfig::new(&"/redoc"))
                .with_ui(RapidocConfig::new(&"/rapidoc")),
        )
        .wrap(from_fn(middleware::json_errors))
        .wrap(from_fn(middleware::log_requests))
}

/// The OpenAPI document, rendered in-process from the same routes the server serves.
///
/// # Errors
///
/// When the document cannot be rendered.
pub async fn openapi_document() -> anyhow::Result<serde_json::Value> {
    let service = actix_web::test::init_service(app(None, None)).await;
    let request = actix_web::test::TestRequest::get()
        .uri(openapi::OPENAPI_PATH)
        .to_request();
    let body = actix_web::test::call_and_read_body(&service, request).await;
    Ok(serde_json::from_slice(&body)?)
}
