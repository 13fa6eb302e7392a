//! Reading request values field by field, collecting every failing value instead of stopping at
//! the first, so that one `422` lists them all.

use std::collections::HashMap;
use std::str::FromStr;

use rosetta_domain::InvalidValue;
use serde_json::{Map, Value};

use crate::error::FieldError;

/// Where the values come from: the first element of every error's `loc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The JSON body.
    Body,
    /// The query string.
    Query,
    /// The path.
    Path,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Self::Body => "body",
            Self::Query => "query",
            Self::Path => "path",
        }
    }
}

/// The values of one JSON object or query string, read with their errors collected.
pub struct Fields<'a> {
    origin: Origin,
    /// The path to this object inside the body (`["config"]` for a nested object).
    prefix: Vec<String>,
    values: Values<'a>,
    errors: Vec<FieldError>,
}

enum Values<'a> {
    Json(&'a Map<String, Value>),
    Text(&'a HashMap<String, String>),
}

/// The type of a JSON value, named as error messages name it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The error code of a domain rule, in the vocabulary of the first implementation.
fn kind_of(error: &InvalidValue) -> &'static str {
    match error.rule() {
        "too_short" => "string_too_short",
        "too_long" => "string_too_long",
        "invalid_characters" => "string_pattern_mismatch",
        "out_of_range" => "value_out_of_range",
        "unknown_variant" => "enum",
        other => other,
    }
}

impl<'a> Fields<'a> {
    /// The fields of a JSON object in the body.
    pub fn json(map: &'a Map<String, Value>) -> Self {
        Self {
            origin: Origin::Body,
            prefix: Vec::new(),
            values: Values::Json(map),
            errors: Vec::new(),
        }
    }

    /// The fields of a nested JSON object, `prefix` naming where it is.
    pub fn nested(map: &'a Map<String, Value>, prefix: &[&str]) -> Self {
        Self {
            prefix: prefix.iter().map(|s| (*s).to_owned()).collect(),
            ..Self::json(map)
        }
    }

    /// The parameters of a query string or path.
    pub fn text(origin: Origin, map: &'a HashMap<String, String>) -> Self {
        Self {
            origin,
            prefix: Vec::new(),
            values: Values::Text(map),
            errors: Vec::new(),
        }
    }

    fn loc(&self, name: &str) -> Vec<String> {
        let mut loc = vec![self.origin.as_str().to_owned()];
        loc.extend(self.prefix.iter().cloned());
        loc.push(name.to_owned());
        loc
    }

    /// Records a failing value.
    pub fn fail(&mut self, name: &str, kind: &str, msg: impl Into<String>) {
        self.errors.push(FieldError {
            loc: self.loc(name),
            msg: msg.into(),
            kind: kind.to_owned(),
        });
    }

    /// Adds errors found elsewhere (a nested object).
    pub fn absorb(&mut self, errors: Vec<FieldError>) {
        self.errors.extend(errors);
    }

    /// Whether a field is present (and not `null`).
    pub fn has(&self, name: &str) -> bool {
        match self.values {
            Values::Json(map) => map.get(name).is_some_and(|v| !v.is_null()),
            Values::Text(map) => map.contains_key(name),
        }
    }

    /// The raw JSON value of a field, when present and not `null`.
    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        match self.values {
            Values::Json(map) => map.get(name).filter(|v| !v.is_null()),
            Values::Text(_) => None,
        }
    }

    /// The names of the fields present.
    pub fn names(&self) -> Vec<String> {
        match self.values {
            Values::Json(map) => map.keys().cloned().collect(),
            Values::Text(map) => map.keys().cloned().collect(),
        }
    }

    /// A string field, when present; a value of another type is an error.
    pub fn string(&mut self, name: &str) -> Option<String> {
        match self.values {
            Values::Json(map) => match map.get(name) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    let msg = format!("Input should be a valid string, got {}", type_name(other));
                    self.fail(name, "string_type", msg);
                    None
                }
            },
            Values::Text(map) => map.get(name).cloned(),
        }
    }

    /// An integer field, when present: a JSON integer, or a string of digits (as the first
    /// implementation accepted).
    pub fn integer(&mut self, name: &str) -> Option<i64> {
        let parsed = match self.values {
            Values::Json(map) => match map.get(name) {
                None | Some(Value::Null) => return None,
                Some(Value::Number(n)) => n.as_i64().ok_or("int_type"),
                Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| "int_parsing"),
                Some(_) => Err("int_type"),
            },
            Values::Text(map) => match map.get(name) {
                None => return None,
                Some(s) => s.trim().parse::<i64>().map_err(|_| "int_parsing"),
            },
        };
        match parsed {
            Ok(value) => Some(value),
            Err(kind) => {
                self.fail(name, kind, "Input should be a valid integer");
                None
            }
        }
    }

    /// A boolean query flag (`true`/`false`, `1`/`0`) or JSON boolean, when present.
    pub fn boolean(&mut self, name: &str) -> Option<bool> {
        let parsed = match self.values {
            Values::Json(map) => match map.get(name) {
                None | Some(Value::Null) => return None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => None,
            },
            Values::Text(map) => match map.get(name).map(|s| s.to_ascii_lowercase()) {
                None => return None,
                Some(s) => match s.as_str() {
                    "true" | "1" | "yes" | "on" => Some(true),
                    "false" | "0" | "no" | "off" => Some(false),
                    _ => None,
                },
            },
        };
        if parsed.is_none() {
            self.fail(name, "bool_parsing", "Input should be a valid boolean");
        }
        parsed
    }

    /// A field parsed from its string form by `parse` (a domain constructor).
    pub fn parse_str<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        let raw = self.string(name)?;
        self.check(name, parse(&raw))
    }

    /// A field parsed from its integer form by `parse`.
    pub fn parse_int<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(i64) -> Result<T, InvalidValue>,
    ) -> Option<T> {
        let raw = self.integer(name)?;
        self.check(name, parse(raw))
    }

    /// A field parsed with [`FromStr`] whose error is an [`InvalidValue`] (an enum).
    pub fn parse_enum<T: FromStr<Err = InvalidValue>>(&mut self, name: &str) -> Option<T> {
        self.parse_str(name, str::parse)
    }

    /// Records the error of a parse, if any, and returns its value.
    pub fn check<T>(&mut self, name: &str, parsed: Result<T, InvalidValue>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                self.fail(name, kind_of(&e), e.message().to_owned());
                None
            }
        }
    }

    /// Makes a missing field an error; passes a present one through.
    pub fn require<T>(&mut self, name: &str, value: Option<T>) -> Option<T> {
        if value.is_none() && !self.has(name) {
            self.fail(name, "missing", "Field required");
        }
        value
    }

    /// Refuses every field that `known` does not know.
    pub fn deny_unknown(&mut self, known: impl Fn(&str) -> bool) {
        let mut unknown: Vec<String> = self.names().into_iter().filter(|n| !known(n)).collect();
        unknown.sort();
        for name in unknown {
            self.fail(&name, "extra_forbidden", "Extra inputs are not permitted");
        }
    }

    /// The value built from the fields, or every error found.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        build().ok_or_else(|| {
            vec![FieldError {
                loc: vec![self.origin.as_str().to_owned()],
                msg: "Input is incomplete".to_owned(),
                kind: "missing".to_owned(),
            }]
        })
    }

    /// The errors found so far, taken out: the fields read on report none of them.
    pub fn take_errors(&mut self) -> Vec<FieldError> {
        std::mem::take(&mut self.errors)
    }
}
