//! How each domain value a request carries is read from its field and documented: one impl per
//! type, its schema built from the limits the domain checks, so that the two cannot drift apart.

use std::borrow::Cow;
use std::marker::PhantomData;

use apistos::schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use chrono::{DateTime, Utc};
use rosetta_domain::{
    Charset, DeleteMode, DestinationId, DestinationType, InvalidValue, Limit, Name, PipelineStatus,
    PortNumber, PublicationName, ReplicationId, Secret, SnowflakeMode, SourceId, SslMode, Text,
    WalBucket, MAX_TEXT_CHARS, MIN_TEXT_CHARS,
};

use crate::fields::Fields;
use crate::models::destinations::{DestinationTypeName, SnowflakeModeName};
use crate::models::pipelines::PipelineStatusName;
use crate::models::sources::SslModeName;
use crate::models::wal_metrics::WalBucketName;

/// A value a request field holds: how it is read, and how the OpenAPI document describes it.
pub trait RequestValue: Sized {
    /// The value of the field `name`, when present; a value that is not valid is recorded in
    /// `fields` (with the error codes of the contract) and read as `None`.
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self>;

    /// The schema of the field's value.
    fn schema(generator: &mut SchemaGenerator) -> Schema;
}

/// Documents a request field holding a `T` with `T`'s [`RequestValue::schema`]. Documentation
/// only: never built.
pub struct Field<T>(PhantomData<T>);

impl<T: RequestValue> JsonSchema for Field<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        std::any::type_name::<T>().into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::schema(generator)
    }
}

/// The pattern of the names made of `charset`, as the schema documents them:
/// `^[A-Za-z0-9_-]{1,255}$` for [`Name::CHARSET`].
pub fn name_pattern(charset: Charset) -> String {
    let mut class = String::from("A-Za-z0-9");
    // A `-` is literal only at the end of a class; `\`, `]` and `^` are escaped.
    let mut dash = false;
    for &c in charset.extra() {
        match c {
            '-' => dash = true,
            '\\' | ']' | '^' | '[' => {
                class.push('\\');
                class.push(c);
            }
            _ => class.push(c),
        }
    }
    if dash {
        class.push('-');
    }
    format!("^[{class}]{{{MIN_TEXT_CHARS},{MAX_TEXT_CHARS}}}$")
}

/// The schema of text the catalogue stores, of `pattern` when given.
fn text_schema(pattern: Option<String>) -> Schema {
    let mut schema = json_schema!({
        "type": "string",
        "minLength": MIN_TEXT_CHARS,
        "maxLength": MAX_TEXT_CHARS,
    });
    if let Some(pattern) = pattern {
        schema.insert("pattern".to_owned(), pattern.into());
    }
    schema
}

/// The schema of an integer of at least `minimum` (and at most `maximum`).
fn integer_schema(minimum: i64, maximum: Option<i64>) -> Schema {
    let mut schema = json_schema!({
        "type": "integer",
        "format": "int64",
        "minimum": minimum,
    });
    if let Some(maximum) = maximum {
        schema.insert("maximum".to_owned(), maximum.into());
    }
    schema
}

/// Implements [`RequestValue`] for text the domain validates with `parse_owned`, documented
/// by `$schema`.
macro_rules! text_value {
    ($($value:ty => $schema:expr;)*) => {$(
        impl RequestValue for $value {
            fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
                let raw = fields.string(name)?;
                fields.check(name, Self::parse_owned(raw))
            }

            fn schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    )*};
}

text_value! {
    Name => text_schema(Some(name_pattern(Name::CHARSET)));
    PublicationName => text_schema(Some(name_pattern(PublicationName::CHARSET)));
    Text => text_schema(None);
    // A secret is write-only: requests send it, no response holds it.
    Secret => {
        let mut schema = text_schema(None);
        schema.insert("writeOnly".to_owned(), true.into());
        schema
    };
}

impl RequestValue for PortNumber {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        fields.parse_int(name, Self::new)
    }

    fn schema(_: &mut SchemaGenerator) -> Schema {
        integer_schema(Self::MIN.into(), Some(Self::MAX.into()))
    }
}

impl RequestValue for ReplicationId {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        fields.parse_int(name, Self::new)
    }

    fn schema(_: &mut SchemaGenerator) -> Schema {
        integer_schema(Self::MIN, None)
    }
}

impl RequestValue for Limit {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        fields.parse_int(name, Self::new)
    }

    fn schema(_: &mut SchemaGenerator) -> Schema {
        integer_schema(Self::MIN.into(), Some(Self::MAX.into()))
    }
}

/// The id of a stored entity, as a request names it: a positive integer (the store numbers
/// rows from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityId(i64);

impl EntityId {
    /// The smallest id.
    pub const MIN: i64 = 1;

    /// Validates an id.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when it is smaller than [`EntityId::MIN`].
    pub fn new(value: i64) -> Result<Self, InvalidValue> {
        (value >= Self::MIN).then_some(Self(value)).ok_or_else(|| {
            InvalidValue::new(
                "out_of_range",
                format!("must be a positive integer, got {value}"),
            )
        })
    }

    /// The id.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl RequestValue for EntityId {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        fields.parse_int(name, Self::new)
    }

    fn schema(_: &mut SchemaGenerator) -> Schema {
        integer_schema(Self::MIN, None)
    }
}

/// Implements [`RequestValue`] for domain ids: an [`EntityId`] of that kind.
macro_rules! id_value {
    ($($id:ty),*) => {$(
        impl RequestValue for $id {
            fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
                EntityId::read(fields, name).map(|id| Self::new(id.get()))
            }

            fn schema(generator: &mut SchemaGenerator) -> Schema {
                EntityId::schema(generator)
            }
        }
    )*};
}

id_value!(SourceId, DestinationId);

/// A moment in RFC 3339 (`2026-11-26T00:00:00Z`), in UTC once read.
impl RequestValue for DateTime<Utc> {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        let raw = fields.string(name)?;
        match DateTime::parse_from_rfc3339(raw.trim()) {
            Ok(moment) => Some(moment.with_timezone(&Utc)),
            Err(_) => {
                fields.fail(
                    name,
                    "datetime_parsing",
                    "Input should be an RFC 3339 date-time, such as 2026-11-26T00:00:00Z",
                );
                None
            }
        }
    }

    fn schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<Self>()
    }
}

/// `cascade`: `true` deletes the pipelines that use the entity too.
impl RequestValue for DeleteMode {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        let cascade = fields.boolean(name)?;
        Some(if cascade {
            Self::Cascade
        } else {
            Self::Restrict
        })
    }

    fn schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "boolean" })
    }
}

/// Implements [`RequestValue`] for domain enums read with their `FromStr` (whose error is an
/// [`InvalidValue`]), each documented by the enum of `models` that lists its spellings.
macro_rules! enum_value {
    ($($value:ty => $documented:ty),* $(,)?) => {$(
        impl RequestValue for $value {
            fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
                fields.parse_enum(name)
            }

            fn schema(generator: &mut SchemaGenerator) -> Schema {
                generator.subschema_for::<$documented>()
            }
        }
    )*};
}

enum_value! {
    SslMode => SslModeName,
    DestinationType => DestinationTypeName,
    SnowflakeMode => SnowflakeModeName,
    PipelineStatus => PipelineStatusName,
    WalBucket => WalBucketName,
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    /// Whether the documented pattern of `charset` accepts exactly what `parse` accepts.
    fn agree<T>(charset: Charset, parse: fn(&str) -> Result<T, InvalidValue>) {
        let pattern = Regex::new(&name_pattern(charset)).unwrap();
        let mut samples: Vec<String> = (0..=0x17F_u32)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b"))
            .collect();
        samples.extend(["", "a", "-", "_"].map(str::to_owned));
        samples.extend([254, 255, 256].map(|n| "x".repeat(n)));
        for sample in samples {
            assert_eq!(
                pattern.is_match(&sample),
                parse(&sample).is_ok(),
                "{sample:?} against {pattern}"
            );
        }
    }

    #[test]
    fn the_documented_patterns_accept_exactly_the_names_the_domain_accepts() {
        assert_eq!(name_pattern(Name::CHARSET), "^[A-Za-z0-9_-]{1,255}$");
        assert_eq!(
            name_pattern(PublicationName::CHARSET),
            "^[A-Za-z0-9_]{1,255}$"
        );
        agree(Name::CHARSET, Name::parse);
        agree(PublicationName::CHARSET, PublicationName::parse);
    }

    #[test]
    fn the_documented_enums_spell_what_the_domain_reads() {
        let spelled = |value: Result<serde_json::Value, serde_json::Error>| {
            value.ok().and_then(|v| v.as_str().map(str::to_owned))
        };
        for mode in SslMode::ALL {
            let documented = spelled(serde_json::to_value(SslModeName::from(mode)));
            assert_eq!(documented.as_deref(), Some(mode.as_str()));
        }
        for kind in [DestinationType::Snowflake, DestinationType::Postgres] {
            let documented = spelled(serde_json::to_value(DestinationTypeName::from(kind)));
            assert_eq!(documented.as_deref(), Some(kind.as_str()));
        }
        for mode in SnowflakeMode::ALL {
            let documented = spelled(serde_json::to_value(SnowflakeModeName::from(mode)));
            assert_eq!(documented.as_deref(), Some(mode.as_str()));
        }
        for status in [
            PipelineStatus::Start,
            PipelineStatus::Pause,
            PipelineStatus::Refresh,
        ] {
            let documented = spelled(serde_json::to_value(PipelineStatusName::from(status)));
            assert_eq!(documented.as_deref(), Some(status.as_str()));
        }
    }

    #[test]
    fn ids_in_requests_are_positive() {
        assert!(EntityId::new(0).is_err());
        assert_eq!(EntityId::new(1).map(EntityId::get), Ok(1));
    }
}
