//! The health report.

use std::collections::BTreeMap;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::paths::{MediaType, Response, Responses};
use apistos::reference_or::ReferenceOr;
use apistos::schemars::JsonSchema;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion, VersionSpecificSchema};
use serde::Serialize;

/// What each dependency answered.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct HealthChecks {
    /// The metadata database answered within the check's timeout.
    pub database: bool,
    /// The WAL monitor's scheduler runs and its last cycle finished.
    pub wal_monitor: bool,
    /// The data plane runs in this process and its last poll of the catalogue succeeded
    /// (*extension*).
    pub replicator: bool,
}

/// The service's health.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct HealthResponse {
    /// `healthy`, or `unhealthy` when the metadata database does not answer.
    #[schemars(example = &"healthy")]
    pub status: String,
    /// The running version of Rosetta.
    #[schemars(example = &"0.1.0")]
    pub version: String,
    /// When the check ran (RFC 3339, UTC).
    pub timestamp: Timestamp,
    /// Each dependency's answer.
    pub checks: HealthChecks,
}

/// A health report answered `200` when healthy and `503` otherwise, with the same body.
pub struct HealthReply(pub HealthResponse);

impl Responder for HealthReply {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse<Self::Body> {
        let status = if self.0.checks.database {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        HttpResponse::build(status).json(self.0)
    }
}

impl ApiComponent for HealthReply {
    fn child_schemas(v: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        let mut schemas = <HealthResponse as ApiComponent>::child_schemas(v);
        schemas.extend(<HealthResponse as ApiComponent>::schema(v));
        schemas
    }

    fn schema(v: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        <HealthResponse as ApiComponent>::schema(v)
    }

    fn responses(
        v: OpenApiVersion,
        _content_type: Option<String>,
        _description: Option<String>,
    ) -> Option<Responses> {
        let (name, _) = Self::schema(v)?;
        let response = |description: &str| {
            let schema = VersionSpecificSchema::OAS3_0(ReferenceOr::Reference {
                _ref: format!("#/components/schemas/{name}"),
            });
            ReferenceOr::Object(Response {
                description: description.to_owned(),
                content: BTreeMap::from([(
                    "application/json".to_owned(),
                    MediaType {
                        schema: Some(schema),
                        ..MediaType::default()
                    },
                )]),
                ..Response::default()
            })
        };
        Some(Responses {
            responses: BTreeMap::from([
                ("200".to_owned(), response("Healthy")),
                (
                    "503".to_owned(),
                    response("Unhealthy: the metadata database does not answer"),
                ),
            ]),
            ..Responses::default()
        })
    }
}

/// The answer of `/health/live`.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct LiveResponse {
    /// Always `alive`: the process serves requests.
    #[schemars(example = &"alive")]
    pub status: String,
}
use crate::models::timestamp::Timestamp;
