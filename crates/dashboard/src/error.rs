//! What a page answers when it cannot show what was asked: an HTML page with the status the
//! API would answer (404, 503, 500, 403), or a redirect to the sign-in page.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::html;
use rosetta_app::AppError;
use rosetta_domain::EntityKind;

use crate::layout;

/// Why a page is not shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    /// No such source, destination or pipeline.
    #[error("{entity} {id} not found")]
    NotFound {
        /// What was looked for.
        entity: EntityKind,
        /// Its id, as asked.
        id: String,
    },
    /// API keys are configured and the request has no valid session.
    #[error("sign-in required")]
    SignIn {
        /// Where to come back to after signing in (a local path).
        next: String,
        /// Whether the request came from htmx (answered 401, so its banner shows).
        background: bool,
    },
    /// A form without a valid anti-forgery token, or from another site.
    #[error("cross-site request refused")]
    Forgery,
    /// The metadata database cannot be reached.
    #[error("the metadata database is unavailable")]
    Unavailable,
    /// A bug or an unexpected state; logged where it happened.
    #[error("internal error")]
    Internal,
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound { entity, id } => Self::NotFound {
                entity,
                id: id.to_string(),
            },
            AppError::Unavailable(cause) => {
                tracing::warn!(error = %format!("{cause:#}"), "metadata database unavailable");
                Self::Unavailable
            }
            other => {
                tracing::error!(error = %format!("{other:#}"), "dashboard request failed");
                Self::Internal
            }
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::SignIn {
                background: true, ..
            } => StatusCode::UNAUTHORIZED,
            Self::SignIn { .. } => StatusCode::SEE_OTHER,
            Self::Forgery => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignIn { next, background } = self {
            let location = format!("/sign-in?next={}", crate::format::query_escape(next));
            let mut response = HttpResponse::build(self.status_code());
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.insert_header((header::LOCATION, value));
            }
            if *background {
                // htmx then reloads the page, which lands on the sign-in form.
                response.insert_header(("HX-Redirect", location));
                return response
                    .content_type("text/html; charset=utf-8")
                    .body("<!doctype html><title>Sign in again</title><p>Your session has ended: <a href=\"/sign-in\">sign in again</a>.</p>");
            }
            return response.finish();
        }
        let (title, message) = match self {
            Self::NotFound { entity, id } => {
                let entity = entity.as_str().to_lowercase();
                (
                    format!("No such {entity}"),
                    format!("There is no {entity} with id {id}: it may have been deleted."),
                )
            }
            Self::Forgery => (
                "Form refused".to_owned(),
                "This form came from another site or has expired. Go back, reload the page and \
                 try again."
                    .to_owned(),
            ),
            Self::Unavailable => (
                "The metadata database is unavailable".to_owned(),
                "Rosetta cannot reach its metadata database right now. Try again in a moment; \
                 the server's log says more."
                    .to_owned(),
            ),
            Self::Internal | Self::SignIn { .. } => (
                "Something went wrong".to_owned(),
                "The server could not show this page. The server's log says more.".to_owned(),
            ),
        };
        let body = html! {
            h1 { (title) }
            p.notice.error role="alert" { (message) }
            p { a href="/" { "Back to the overview" } }
        };
        layout::bare(&title, body, self.status_code())
    }
}

/// What a page handler returns.
pub(crate) type PageResult = Result<HttpResponse, PageError>;
