//! Request and response bodies and parameters: each documents its part of the OpenAPI document
//! and turns what a client sent into domain values.

/// Implements `ApiComponent` for a type that nests other documented types, so that the nested
/// schemas are rewritten for the document's OpenAPI version like root ones.
macro_rules! nesting_component {
    ($type:ty) => {
        impl apistos::ApiComponent for $type {
            fn child_schemas(
                oas_version: apistos::OpenApiVersion,
            ) -> Vec<(
                String,
                apistos::reference_or::ReferenceOr<apistos::ApistosSchema>,
            )> {
                crate::openapi::child_schemas_of::<Self>(oas_version)
            }

            fn schema(
                oas_version: apistos::OpenApiVersion,
            ) -> Option<(
                String,
                apistos::reference_or::ReferenceOr<apistos::ApistosSchema>,
            )> {
                crate::openapi::schema_of::<Self>(oas_version)
            }
        }
    };
}

pub(crate) use nesting_component;

pub mod destinations;
pub mod health;
pub mod params;
pub mod pipeline_runtime;
pub mod pipelines;
pub mod source_wal;
pub mod sources;
pub mod timestamp;
pub mod wal_metrics;
