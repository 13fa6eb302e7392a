//! The body of every error response: `{"error", "message", "details"}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One failing value of a request: where it is, what is wrong, and a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FieldError {
    /// Where the value is: `["body", "pg_port"]`, `["query", "limit"]`, `["path", "id"]`.
    pub loc: Vec<String>,
    /// What is wrong with it.
    pub msg: String,
    /// A stable code for the rule it broke (`missing`, `int_type`, `string_too_long`, …).
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// A failing value at `loc`.
    pub fn new(loc: &[&str], kind: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: loc.iter().map(|s| (*s).to_owned()).collect(),
            msg: msg.into(),
            kind: kind.to_owned(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[schemars(example = error_body_example())]
pub struct ErrorBody {
    /// The kind of error: `EntityNotFoundError`, `DuplicateEntityError`, `EntityInUseError`,
    /// `ValidationError`, `AuthenticationError`, `RouteNotFoundError`, `MethodNotAllowedError`,
    /// `PayloadTooLargeError`, `DatabaseConnectionError`, `InternalServerError`.
    pub error: String,
    /// What happened, in words.
    pub message: String,
    /// For `ValidationError`, a list of `{"loc", "msg", "type"}` (one per failing value); for
    /// `EntityNotFoundError`, `entity_type` and `entity_id`; for `DuplicateEntityError`,
    /// `entity_type`, `field` and `value`; for `EntityInUseError`, `entity_type`, `entity_id`
    /// and `used_by` (the pipelines, `{"id", "name"}`); otherwise `{}`.
    pub details: Value,
}

fn error_body_example() -> Value {
    json!({
        "error": "EntityNotFoundError",
        "message": "Source with id '42' not found",
        "details": {"entity_type": "Source", "entity_id": "42"}
    })
}
