//! The health report.

use std::collections::BTreeMap;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::paths::{MediaType, Response, Responses};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion, VersionSpecificSchema};

pub use rosetta_api_types::health::{HealthChecks, HealthResponse, LiveResponse};

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
