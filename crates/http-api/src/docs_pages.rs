//! The API documentation pages (`/docs`: Swagger UI, `/redoc`: ReDoc, `/rapidoc`: RapiDoc),
//! served with the browser code embedded in the binary (`rosetta-web-assets`), so that they
//! work without internet: each page loads `/openapi.json` and scripts from `/assets/…` only,
//! and its Content-Security-Policy lets it load nothing else.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rosetta_web_assets as assets;

use crate::error::ApiError;
use crate::openapi::OPENAPI_PATH;

/// Swagger UI's start-up, a script of ours so that no page runs inline code. The validator
/// badge would call validator.swagger.io: it is off.
const SWAGGER_INIT: &str = "window.addEventListener('load', function () {\n  \
    var root = document.getElementById('swagger-ui');\n  \
    window.ui = SwaggerUIBundle({ url: root.dataset.spec, dom_id: '#swagger-ui', \
    validatorUrl: null, deepLinking: true });\n});\n";
/// Where [`SWAGGER_INIT`] is served.
const SWAGGER_INIT_PATH: &str = "/assets/rosetta/swagger-init.js";

/// What the pages may load: their own origin only. The UIs style their elements inline and
/// ReDoc searches in a worker made from a blob.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Registers the pages and the assets.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/docs", web::get().to(swagger_ui))
        .route("/redoc", web::get().to(redoc))
        .route("/rapidoc", web::get().to(rapidoc))
        .route("/assets/{path:.*}", web::get().to(asset));
}

fn page(title: &str, head: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n{head}</head>\n<body>\n{body}</body>\n</html>\n"
        ))
}

async fn swagger_ui() -> HttpResponse {
    page(
        "Rosetta API — Swagger UI",
        &format!(
            "<link rel=\"stylesheet\" href=\"{}\">\n",
            assets::path_of("swagger-ui-dist", "swagger-ui.css")
        ),
        &format!(
            "<div id=\"swagger-ui\" data-spec=\"{OPENAPI_PATH}\"></div>\n\
             <script src=\"{}\"></script>\n<script src=\"{SWAGGER_INIT_PATH}\"></script>\n",
            assets::path_of("swagger-ui-dist", "swagger-ui-bundle.js")
        ),
    )
}

async fn redoc() -> HttpResponse {
    page(
        "Rosetta API — ReDoc",
        "",
        &format!(
            "<redoc spec-url=\"{OPENAPI_PATH}\"></redoc>\n<script src=\"{}\"></script>\n",
            assets::path_of("redoc", "redoc.standalone.js")
        ),
    )
}

async fn rapidoc() -> HttpResponse {
    page(
        "Rosetta API — RapiDoc",
        &format!(
            "<script type=\"module\" src=\"{}\"></script>\n",
            assets::path_of("rapidoc", "rapidoc-min.js")
        ),
        &format!(
            "<rapi-doc spec-url=\"{OPENAPI_PATH}\" load-fonts=\"false\" render-style=\"read\" \
             show-header=\"false\"></rapi-doc>\n"
        ),
    )
}

/// An embedded file: cached for good, since its path names its version.
async fn asset(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (content_type, bytes) = if request.path() == SWAGGER_INIT_PATH {
        ("text/javascript; charset=utf-8", SWAGGER_INIT.as_bytes())
    } else {
        let asset = assets::get(request.path()).ok_or(ApiError::RouteNotFound)?;
        (asset.content_type, asset.bytes)
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}
