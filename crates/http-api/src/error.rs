//! The one error type of the API: every failure answers the contract's JSON shape
//! `{"error", "message", "details"}`, never HTML, plain text, SQL or a secret.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use apistos::paths::{Header, MediaType, ParameterDefinition, Response};
use apistos::reference_or::ReferenceOr;
use apistos::schemars::Schema;
use apistos::{
    ApiComponent, ApiErrorComponent, ApistosSchema, OpenApiVersion, VersionSpecificSchema,
};
use rosetta_app::AppError;
use rosetta_domain::{EntityKind, PipelineRef};
use serde_json::{json, Value};

pub use rosetta_api_types::error::{ErrorBody, FieldError};

/// Everything a request can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// `404 EntityNotFoundError`.
    NotFound {
        /// What was looked for.
        entity: EntityKind,
        /// Its id, as asked.
        id: String,
    },
    /// `409 DuplicateEntityError`.
    Duplicate {
        /// What was being written.
        entity: EntityKind,
        /// The unique field.
        field: &'static str,
        /// The value already taken.
        value: String,
    },
    /// `409 EntityInUseError`: a delete refused while pipelines use the entity.
    InUse {
        /// What was being deleted.
        entity: EntityKind,
        /// Its id.
        id: i64,
        /// The pipelines in the way.
        used_by: Vec<PipelineRef>,
    },
    /// `422 ValidationError`, one entry per failing value.
    Validation(Vec<FieldError>),
    /// `401 AuthenticationError`: no accepted API key, with a `WWW-Authenticate` challenge.
    Unauthenticated {
        /// Whether a bearer key was sent (and refused), as opposed to none at all.
        presented: bool,
    },
    /// `413 PayloadTooLargeError`.
    PayloadTooLarge {
        /// The largest body accepted, in bytes.
        limit: usize,
    },
    /// `404 RouteNotFoundError`.
    RouteNotFound,
    /// `405 MethodNotAllowedError`.
    MethodNotAllowed,
    /// `503 DatabaseConnectionError`: the metadata database cannot be reached.
    DatabaseUnavailable,
    /// `500 InternalServerError`: details are logged, never sent.
    Internal,
}

impl ApiError {
    /// One failing value.
    pub fn invalid(loc: &[&str], kind: &str, msg: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(loc, kind, msg)])
    }

    fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "EntityNotFoundError",
            Self::Duplicate { .. } => "DuplicateEntityError",
            Self::InUse { .. } => "EntityInUseError",
            Self::Validation(_) => "ValidationError",
            Self::Unauthenticated { .. } => "AuthenticationError",
            Self::PayloadTooLarge { .. } => "PayloadTooLargeError",
            Self::RouteNotFound => "RouteNotFoundError",
            Self::MethodNotAllowed => "MethodNotAllowedError",
            Self::DatabaseUnavailable => "DatabaseConnectionError",
            Self::Internal => "InternalServerError",
        }
    }

    fn details(&self) -> Value {
        match self {
            Self::NotFound { entity, id } => {
                json!({"entity_type": entity.as_str(), "entity_id": id})
            }
            Self::Duplicate {
                entity,
                field,
                value,
            } => {
                json!({"entity_type": entity.as_str(), "field": field, "value": value})
            }
            Self::InUse {
                entity,
                id,
                used_by,
            } => json!({
                "entity_type": entity.as_str(),
                "entity_id": id.to_string(),
                "used_by": used_by
                    .iter()
                    .map(|p| json!({"id": p.id.get(), "name": p.name.as_str()}))
                    .collect::<Vec<_>>(),
            }),
            Self::Validation(errors) => json!(errors),
            Self::PayloadTooLarge { limit } => json!({"limit_bytes": limit}),
            _ => json!({}),
        }
    }

    /// The body this error answers with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code().to_owned(),
            message: self.to_string(),
            details: self.details(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { entity, id } => write!(f, "{entity} with id '{id}' not found"),
            Self::Duplicate {
                entity,
                field,
                value,
            } => {
                write!(f, "{entity} with {field} '{value}' already exists")
            }
            Self::InUse {
                entity,
                id,
                used_by,
            } => {
                let names: Vec<_> = used_by
                    .iter()
                    .map(|p| format!("{} ({})", p.id, p.name))
                    .collect();
                write!(
                    f,
                    "{entity} with id '{id}' is used by pipelines: {}; delete them first or pass ?cascade=true",
                    names.join(", ")
                )
            }
            Self::Validation(_) => f.write_str("Request validation failed"),
            Self::Unauthenticated { .. } => f.write_str("Missing or invalid API key"),
            Self::PayloadTooLarge { limit } => {
                write!(f, "The request body is larger than {limit} bytes")
            }
            Self::RouteNotFound => f.write_str("No route matches this path"),
            Self::MethodNotAllowed => f.write_str("This method is not allowed on this route"),
            Self::DatabaseUnavailable => f.write_str("The metadata database is unavailable"),
            Self::Internal => f.write_str("An internal error occurred"),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::Duplicate { .. } | Self::InUse { .. } => StatusCode::CONFLICT,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let Self::Unauthenticated { presented } = self {
            // RFC 6750: a refused token is `invalid_token`; a request without one gets the bare
            // challenge.
            let challenge = if *presented {
                r#"Bearer realm="rosetta", error="invalid_token""#
            } else {
                r#"Bearer realm="rosetta""#
            };
            response.insert_header((WWW_AUTHENTICATE, challenge));
        }
        response.json(self.body())
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound { entity, id } => Self::NotFound {
                entity,
                id: id.to_string(),
            },
            AppError::Duplicate {
                entity,
                field,
                value,
            } => Self::Duplicate {
                entity,
                field,
                value,
            },
            AppError::InUse {
                entity,
                id,
                used_by,
            } => Self::InUse {
                entity,
                id,
                used_by,
            },
            AppError::Unavailable(cause) => {
                tracing::warn!(error = %format!("{cause:#}"), "metadata database unavailable");
                Self::DatabaseUnavailable
            }
            other => {
                tracing::error!(error = %format!("{other:#}"), "request failed");
                Self::Internal
            }
        }
    }
}

/// The statuses an operation may document, with the description each gets.
const DOCUMENTED: [(u16, &str); 8] = [
    (
        401,
        "Missing or invalid API key (when the server has `API_KEYS`): `AuthenticationError`, with a `WWW-Authenticate: Bearer` challenge",
    ),
    (
        404,
        "Not found: `EntityNotFoundError` (or `RouteNotFoundError`)",
    ),
    (405, "Method not allowed: `MethodNotAllowedError`"),
    (
        409,
        "Conflict: `DuplicateEntityError` (name taken) or `EntityInUseError` (delete refused)",
    ),
    (413, "Body too large: `PayloadTooLargeError`"),
    (
        422,
        "Invalid request: `ValidationError`, one `details` entry per failing value",
    ),
    (500, "Internal error: `InternalServerError`"),
    (
        503,
        "Metadata database unavailable: `DatabaseConnectionError`",
    ),
];

fn error_schema(oas_version: OpenApiVersion) -> (String, ReferenceOr<ApistosSchema>) {
    let schema = <ErrorBody as ApiComponent>::schema(oas_version);
    schema.unwrap_or_else(|| {
        (
            "ErrorBody".to_owned(),
            ReferenceOr::Object(ApistosSchema::default()),
        )
    })
}

/// The `WWW-Authenticate` header of a `401`.
fn challenge_header(oas_version: OpenApiVersion) -> Header {
    let schema = Schema::try_from(json!({"type": "string"})).unwrap_or_default();
    Header {
        required: Some(true),
        description: Some(
            "`Bearer realm=\"rosetta\"`, with `error=\"invalid_token\"` when a key was sent and refused"
                .to_owned(),
        ),
        definition: Some(ParameterDefinition::Schema(ReferenceOr::Object(
            ApistosSchema::new(schema, oas_version),
        ))),
        ..Header::default()
    }
}

impl ApiErrorComponent for ApiError {
    fn schemas_by_status_code(
        oas_version: OpenApiVersion,
    ) -> BTreeMap<String, (String, ReferenceOr<ApistosSchema>)> {
        DOCUMENTED
            .iter()
            .map(|(code, _)| (code.to_string(), error_schema(oas_version)))
            .collect()
    }

    fn error_responses(oas_version: OpenApiVersion) -> Vec<(String, Response)> {
        let (name, _) = error_schema(oas_version);
        DOCUMENTED
            .iter()
            .map(|(code, description)| {
                let schema = VersionSpecificSchema::OAS3_0(ReferenceOr::Reference {
                    _ref: format!("#/components/schemas/{name}"),
                });
                let content = BTreeMap::from([(
                    "application/json".to_owned(),
                    MediaType {
                        schema: Some(schema),
                        ..MediaType::default()
                    },
                )]);
                let headers = if *code == 401 {
                    BTreeMap::from([(
                        "WWW-Authenticate".to_owned(),
                        ReferenceOr::Object(challenge_header(oas_version)),
                    )])
                } else {
                    BTreeMap::new()
                };
                (
                    code.to_string(),
                    Response {
                        description: (*description).to_owned(),
                        content,
                        headers,
                        ..Response::default()
                    },
                )
            })
            .collect()
    }
}
