//! Extractors that validate a whole request part at once and answer the contract's `422` with
//! every failing value, documented in OpenAPI exactly like actix-web's `Json`, `Query` and `Path`
//! of the type that describes the part.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Json, Path, Query};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use apistos::paths::{Parameter, RequestBody};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body type: documents the body and turns the parsed object into a validated value.
pub trait FromBody: ApiComponent {
    /// What a valid body becomes.
    type Output;

    /// Validates the body, returning every failing value.
    ///
    /// # Errors
    ///
    /// One [`FieldError`] per failing value.
    fn from_body(object: &Map<String, Value>) -> Result<Self::Output, Vec<FieldError>>;
}

/// A query-string or path type: documents the parameters and validates their values.
pub trait FromParams: ApiComponent {
    /// What valid parameters become.
    type Output;

    /// Validates the parameters, returning every failing value.
    ///
    /// # Errors
    ///
    /// One [`FieldError`] per failing value.
    fn from_params(params: &HashMap<String, String>) -> Result<Self::Output, Vec<FieldError>>;
}

/// A validated JSON body, described by `B`.
pub struct ValidJson<B: FromBody>(pub B::Output, PhantomData<B>);

/// Validated query parameters, described by `Q`.
pub struct ValidQuery<Q: FromParams>(pub Q::Output, PhantomData<Q>);

/// Validated path parameters, described by `P`.
pub struct ValidPath<P: FromParams>(pub P::Output, PhantomData<P>);

impl<B: FromBody> ValidJson<B> {
    /// The validated value.
    pub fn into_inner(self) -> B::Output {
        self.0
    }
}

impl<Q: FromParams> ValidQuery<Q> {
    /// The validated value.
    pub fn into_inner(self) -> Q::Output {
        self.0
    }
}

impl<P: FromParams> ValidPath<P> {
    /// The validated value.
    pub fn into_inner(self) -> P::Output {
        self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    match req.mime_type() {
        // No declared type: try the body as JSON, as lenient clients expect.
        Ok(None) => true,
        Ok(Some(mime)) => mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON),
        Err(_) => false,
    }
}

fn parse_body<B: FromBody>(bytes: &[u8]) -> Result<B::Output, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(&["body"], "missing", "Field required"));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(&["body"], "json_invalid", format!("Invalid JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(ApiError::invalid(
            &["body"],
            "model_attributes_type",
            "Input should be a valid dictionary or object",
        ));
    };
    B::from_body(&object).map_err(ApiError::Validation)
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

impl<B: FromBody + 'static> FromRequest for ValidJson<B> {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json(req) {
            return Box::pin(std::future::ready(Err(ApiError::invalid(
                &["body"],
                "content_type",
                "Content-Type must be application/json",
            ))));
        }
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge {
                        limit: MAX_BODY_BYTES,
                    }
                } else {
                    ApiError::invalid(
                        &["body"],
                        "body_unreadable",
                        "The request body could not be read",
                    )
                }
            })?;
            parse_body::<B>(&bytes).map(|output| Self(output, PhantomData))
        })
    }
}

/// The query string as a map; a name given twice keeps its first value.
fn query_params(req: &HttpRequest) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        params
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    params
}

impl<Q: FromParams + 'static> FromRequest for ValidQuery<Q> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = Q::from_params(&query_params(req))
            .map(|output| Self(output, PhantomData))
            .map_err(ApiError::Validation);
        std::future::ready(parsed)
    }
}

impl<P: FromParams + 'static> FromRequest for ValidPath<P> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let params: HashMap<String, String> = req
            .match_info()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let parsed = P::from_params(&params)
            .map(|output| Self(output, PhantomData))
            .map_err(ApiError::Validation);
        std::future::ready(parsed)
    }
}

/// Documents a wrapper exactly as the actix-web extractor it stands for.
macro_rules! documented_as {
    ($wrapper:ident < $param:ident : $bound:ident >, $as:ident) => {
        impl<$param: $bound> ApiComponent for $wrapper<$param> {
            fn content_type() -> String {
                <$as<$param> as ApiComponent>::content_type()
            }

            fn required() -> bool {
                <$as<$param> as ApiComponent>::required()
            }

            fn child_schemas(v: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
                <$as<$param> as ApiComponent>::child_schemas(v)
            }

            fn raw_schema(v: OpenApiVersion) -> Option<ReferenceOr<ApistosSchema>> {
                <$as<$param> as ApiComponent>::raw_schema(v)
            }

            fn schema(v: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
                <$as<$param> as ApiComponent>::schema(v)
            }

            fn request_body(v: OpenApiVersion, description: Option<String>) -> Option<RequestBody> {
                <$as<$param> as ApiComponent>::request_body(v, description)
            }

            fn parameters(v: OpenApiVersion, description: Option<String>) -> Vec<Parameter> {
                <$as<$param> as ApiComponent>::parameters(v, description)
            }
        }
    };
}

documented_as!(ValidJson<B: FromBody>, Json);
documented_as!(ValidQuery<Q: FromParams>, Query);
documented_as!(ValidPath<P: FromParams>, Path);
