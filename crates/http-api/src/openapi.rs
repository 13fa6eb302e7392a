//! The OpenAPI document's frame (title, description, tags) and the rendering of schemas that
//! nest other documented types.

use apistos::info::Info;
use apistos::reference_or::ReferenceOr;
use apistos::schemars::{JsonSchema, Schema};
use apistos::spec::Spec;
use apistos::tag::Tag;
use apistos::{ApistosSchema, OpenApiVersion};
use serde_json::Value;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

fn tag(name: &str, description: &str) -> Tag {
    Tag {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        ..Tag::default()
    }
}

/// The document's metadata; apistos adds every route, body, parameter and response.
pub fn spec() -> Spec {
    Spec {
        info: Info {
            title: "Rosetta".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: Some(
                "The control plane for PostgreSQL change-data-capture pipelines: the catalogue of \
                 sources, destinations and pipelines, each pipeline's lifecycle, and the WAL of \
                 every source. Every error answers `{\"error\", \"message\", \"details\"}`. When the \
                 server has API keys (`API_KEYS`), every `/api/v1` route except `/api/v1/health` \
                 needs `Authorization: Bearer <key>` and answers `401` without it."
                    .to_owned(),
            ),
            ..Info::default()
        },
        tags: vec![
            tag("sources", "PostgreSQL databases to replicate from"),
            tag(
                "destinations",
                "Where pipelines deliver: Snowflake or PostgreSQL",
            ),
            tag(
                "pipelines",
                "A source connected to a destination, and its lifecycle",
            ),
            tag("metrics", "WAL samples of the sources"),
            tag("health", "Whether the service and its database answer"),
        ],
        ..Spec::default()
    }
}

/// The schemas that `T` refers to, each rewritten for `oas_version` as a root schema is.
///
/// apistos takes them as schemars leaves them under `components/schemas`, where the rewriting
/// for OpenAPI 3.0 (`examples` → `example`, `const` → `enum`, nullable types, `$ref` siblings)
/// never reaches; and a nested type's entry replaces the rewritten one its own routes register.
/// A response that nests documented types (a pipeline nests its source, destination and
/// metadata) implements `ApiComponent::child_schemas` with this.
pub(crate) fn child_schemas_of<T: JsonSchema>(
    oas_version: OpenApiVersion,
) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
    let mut settings = oas_version.get_schema_settings();
    let mut root = settings
        .clone()
        .into_generator()
        .into_root_schema_for::<T>();
    let definitions = root
        .ensure_object()
        .get("components")
        .and_then(|components| components.get("schemas"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    definitions
        .into_iter()
        .map(|(name, definition)| {
            let mut schema = Schema::try_from(definition).unwrap_or_default();
            for transform in &mut settings.transforms {
                transform.transform(&mut schema);
            }
            let schema = ApistosSchema::new(schema, oas_version);
            (name, ReferenceOr::Object(schema))
        })
        .collect()
}

/// The schema of `T` itself, as `#[derive(ApiComponent)]` renders it.
pub(crate) fn schema_of<T: JsonSchema>(
    oas_version: OpenApiVersion,
) -> Option<(String, ReferenceOr<ApistosSchema>)> {
    let mut root = oas_version
        .get_schema_settings()
        .into_generator()
        .into_root_schema_for::<T>();
    let schema = ApistosSchema::new(Schema::from(root.ensure_object().clone()), oas_version);
    Some((T::schema_name().to_string(), ReferenceOr::Object(schema)))
}
