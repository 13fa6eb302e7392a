//! The declarations of `request_part!` drive both the document and the reader.

use apistos::schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Value};

use super::RequestPart;
use crate::extract::FromBody;
use crate::models::destinations::{
    CreateDestinationBody, LegacySnowflakeDestinationBody, PostgresConfigBody, SnowflakeConfigBody,
};
use crate::models::sources::CreateSourceBody;

/// The properties and the required properties a part documents.
fn documented<T: JsonSchema>() -> (Vec<String>, Vec<String>) {
    let schema = SchemaGenerator::default().into_root_schema_for::<T>();
    let names = |key: &str, field: fn(&Value) -> Vec<String>| {
        schema.get(key).map(field).unwrap_or_default()
    };
    let properties = names("properties", |v| {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    });
    let required = names("required", |v| {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    });
    (properties, required)
}

fn documented_fields_are_read<T: JsonSchema + RequestPart>() {
    let (properties, _) = documented::<T>();
    assert!(!properties.is_empty());
    for property in &properties {
        assert!(T::knows(property), "{property} is documented, not read");
    }
    assert!(!T::knows("colour"));
}

#[test]
fn every_documented_field_is_a_field_the_reader_knows() {
    documented_fields_are_read::<SnowflakeConfigBody>();
    documented_fields_are_read::<PostgresConfigBody>();
    documented_fields_are_read::<CreateSourceBody>();
    documented_fields_are_read::<LegacySnowflakeDestinationBody>();
}

#[test]
fn the_legacy_body_documents_the_snowflake_fields_under_their_prefix() {
    let (properties, required) = documented::<LegacySnowflakeDestinationBody>();
    assert_eq!(properties[0], "name");
    assert!(properties[1..].iter().all(|p| p.starts_with("snowflake_")));
    assert_eq!(
        properties.len(),
        1 + documented::<SnowflakeConfigBody>().0.len()
    );
    assert_eq!(
        required,
        [
            "name",
            "snowflake_account",
            "snowflake_user",
            "snowflake_database",
            "snowflake_schema"
        ]
    );
    assert!(!LegacySnowflakeDestinationBody::knows("account"));
}

#[test]
fn the_legacy_body_is_read_with_the_snowflake_declaration_under_its_prefix() {
    let body = json!({
        "name": "Snow",
        "snowflake_account": "acme",
        "snowflake_user": "",
        "snowflake_schema": "CDC",
        "snowflake_role": 7
    });
    let Value::Object(body) = body else {
        unreachable!()
    };
    let errors = CreateDestinationBody::from_body(&body).unwrap_err();
    let failing: Vec<(String, &str)> = errors
        .iter()
        .map(|e| (e.loc.join("."), e.kind.as_str()))
        .collect();
    assert_eq!(
        failing,
        [
            ("body.snowflake_user".to_owned(), "string_too_short"),
            ("body.snowflake_database".to_owned(), "missing"),
            ("body.snowflake_role".to_owned(), "string_type"),
        ]
    );
}
