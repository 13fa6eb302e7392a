//! The bodies of Rosetta's REST API (`docs/api.md`), shared by the server
//! (`rosetta-http-api`, which answers with them) and its clients (`rosetta-client`, which
//! reads them): one Rust type per JSON object of a response, `Serialize` and `Deserialize`,
//! with its JSON schema, and its conversion from the domain's entities beside it
//! (`From<Source> for SourceResponse`, …). Request bodies are the domain's own input types
//! (`NewSource`, `SourceUpdate`, …), which the server reads and [`requests`] writes as the API
//! reads them.
//!
//! The crate has no web framework: with the `openapi` feature (the server's), each type is
//! also an apistos `ApiComponent` of the OpenAPI document.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod destinations;
pub mod error;
pub mod health;
pub mod pipeline_runtime;
pub mod pipelines;
pub mod requests;
pub mod source_wal;
pub mod sources;
pub mod timestamp;
pub mod wal_metrics;

#[cfg(feature = "openapi")]
pub mod openapi;

/// Implements `ApiComponent` for a type that nests other documented types, so that the nested
/// schemas are rewritten for the document's OpenAPI version like root ones (with the `openapi`
/// feature; nothing without it).
#[cfg(feature = "openapi")]
#[macro_export]
macro_rules! nesting_component {
    ($type:ty) => {
        impl apistos::ApiComponent for $type {
            fn child_schemas(
                oas_version: apistos::OpenApiVersion,
            ) -> Vec<(
                String,
                apistos::reference_or::ReferenceOr<apistos::ApistosSchema>,
            )> {
                $crate::openapi::child_schemas_of::<Self>(oas_version)
            }

            fn schema(
                oas_version: apistos::OpenApiVersion,
            ) -> Option<(
                String,
                apistos::reference_or::ReferenceOr<apistos::ApistosSchema>,
            )> {
                $crate::openapi::schema_of::<Self>(oas_version)
            }
        }
    };
}

/// Without the `openapi` feature, there is no OpenAPI component to implement.
#[cfg(not(feature = "openapi"))]
#[macro_export]
macro_rules! nesting_component {
    ($type:ty) => {};
}
