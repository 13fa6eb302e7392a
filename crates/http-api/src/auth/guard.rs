//! The API-key check in front of `/api/v1`, and the handler argument that both documents the
//! bearer scheme on an operation and refuses to run a handler the check did not pass.

use std::future::{ready, Ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, ResponseError};
use apistos::ApiSecurity;

use super::ApiKeys;
use crate::error::ApiError;

/// A request that passed the API-key check (or reached an open API).
///
/// Handlers behind the key take it as an argument: apistos then documents the `bearer` scheme
/// on their operation, and a handler mounted by mistake outside the check answers `401` rather
/// than serving anyone.
#[derive(Debug, Clone, Copy, ApiSecurity)]
#[openapi_security(
    name = "bearer",
    scheme(
        description = "An API key from `API_KEYS`, sent as `Authorization: Bearer <key>`. Required on every `/api/v1` route except `/api/v1/health` when the server has keys configured.",
        security_type(http(scheme = "bearer", bearer_format = "API key"))
    )
)]
pub struct ApiKey {
    _checked: (),
}

impl FromRequest for ApiKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = req.extensions().get::<ApiKey>().copied();
        ready(checked.ok_or(ApiError::Unauthenticated { presented: false }))
    }
}

/// Answers `401` unless the request carries an accepted key or the API is open; the key itself
/// is never logged.
pub async fn require_api_key(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Without the keys the app was built with, nothing can be checked: refuse.
    let verdict = req.app_data::<Data<ApiKeys>>().map_or(
        Err(ApiError::Unauthenticated { presented: false }),
        |keys| keys.authorize(req.request()),
    );
    match verdict {
        Ok(()) => {
            req.extensions_mut().insert(ApiKey { _checked: () });
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Err(error) => {
            let (req, _) = req.into_parts();
            Ok(ServiceResponse::new(req, error.error_response()))
        }
    }
}
