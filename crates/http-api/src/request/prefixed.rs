//! A part whose fields are spelled with a prefix (`snowflake_account` for `account`), so that one
//! declaration serves both a nested object and the same fields laid flat in a larger body.

use std::borrow::Cow;
use std::marker::PhantomData;

use apistos::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use super::RequestPart;
use crate::fields::Fields;

/// The prefix of the fields of a [`Prefixed`] part.
pub trait Prefix {
    /// What every field's name starts with.
    const PREFIX: &'static str;
}

/// The part `P` with every field named `X::PREFIX` + its name; flattened into a larger part.
/// Documentation only: never built.
pub struct Prefixed<P, X>(PhantomData<(P, X)>);

impl<P: RequestPart, X: Prefix> RequestPart for Prefixed<P, X> {
    type Output = P::Output;

    fn read(fields: &mut Fields<'_>, prefix: &str) -> Option<P::Output> {
        P::read(fields, &format!("{prefix}{}", X::PREFIX))
    }

    fn knows(name: &str) -> bool {
        name.strip_prefix(X::PREFIX).is_some_and(P::knows)
    }
}

/// `P`'s properties and required names, each with the prefix; `P`'s own description and
/// unknown-field rule are its own, not the including part's.
impl<P: JsonSchema, X: Prefix> JsonSchema for Prefixed<P, X> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("{}{}", X::PREFIX, P::schema_name()).into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("Prefixed<{}, {}>", P::schema_id(), X::PREFIX).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = P::json_schema(generator);
        let object = schema.ensure_object();
        for key in ["title", "description", "additionalProperties"] {
            object.remove(key);
        }
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            let renamed: Map<String, Value> = std::mem::take(properties)
                .into_iter()
                .map(|(name, property)| (format!("{}{name}", X::PREFIX), property))
                .collect();
            *properties = renamed;
        }
        if let Some(Value::Array(required)) = object.get_mut("required") {
            for name in required.iter_mut() {
                if let Value::String(name) = name {
                    name.insert_str(0, X::PREFIX);
                }
            }
        }
        schema
    }
}
