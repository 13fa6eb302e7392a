//! Schemas of types that nest other documented types, for apistos (the `openapi` feature).

use apistos::reference_or::ReferenceOr;
use apistos::{ApistosSchema, OpenApiVersion};
use schemars::{JsonSchema, Schema};
use serde_json::Value;

/// The schemas that `T` refers to, each rewritten for `oas_version` as a root schema is.
///
/// apistos takes them as schemars leaves them under `components/schemas`, where the rewriting
/// for OpenAPI 3.0 (`examples` → `example`, `const` → `enum`, nullable types, `$ref` siblings)
/// never reaches; and a nested type's entry replaces the rewritten one its own routes register.
/// A response that nests documented types (a pipeline nests its source, destination and
/// metadata) implements `ApiComponent::child_schemas` with this.
pub fn child_schemas_of<T: JsonSchema>(
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
pub fn schema_of<T: JsonSchema>(
    oas_version: OpenApiVersion,
) -> Option<(String, ReferenceOr<ApistosSchema>)> {
    let mut root = oas_version
        .get_schema_settings()
        .into_generator()
        .into_root_schema_for::<T>();
    let schema = ApistosSchema::new(Schema::from(root.ensure_object().clone()), oas_version);
    Some((T::schema_name().to_string(), ReferenceOr::Object(schema)))
}
