//! One declaration per request body, query string or path: `request_part!` turns a list of
//! fields into the type that documents the part in OpenAPI and the reader that validates it,
//! both driven by the [`RequestValue`] of each field's domain type.

mod prefixed;
mod values;

pub use prefixed::{Prefix, Prefixed};
pub use values::{name_pattern, EntityId, Field, RequestValue};

use std::borrow::Cow;

use crate::fields::Fields;

/// An object of a request declared with [`request_part!`]: fields read together, every failing
/// value recorded, then built into one value.
pub trait RequestPart {
    /// What valid fields become.
    type Output;

    /// Reads every field (named `{prefix}{field}`), recording every failing value in `fields`;
    /// `None` when a value is missing or invalid.
    fn read(fields: &mut Fields<'_>, prefix: &str) -> Option<Self::Output>;

    /// Whether `name` is one of its fields.
    fn knows(name: &str) -> bool;
}

/// The name of the field `name` of a part whose fields are named after `prefix`.
pub fn prefixed<'a>(prefix: &str, name: &'a str) -> Cow<'a, str> {
    if prefix.is_empty() {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("{prefix}{name}"))
    }
}

/// Declares a request part once: its documented type and its reader.
///
/// ```text
/// request_part! {
///     /// Documentation of the part (the schema's description).
///     body struct CreateThingBody => NewThing {
///         /// Documentation of the field.
///         #[schemars(example = &"orders")]
///         required name: Name,
///         optional password: Secret,
///         default port: PortNumber,
///         default schema: Text = PostgresConfig::default_schema(),
///         optional kind as "type": DestinationType,
///         flatten page: PageQuery,
///     }
/// }
/// ```
///
/// - The kind is `body` (a [`FromBody`](crate::extract::FromBody) JSON body), `query` or `path`
///   (a [`FromParams`](crate::extract::FromParams)), or `object` (a part of a body, read with
///   [`RequestPart::read`]).
/// - Each field is a [`RequestValue`]: it says how the value is read and what its schema is.
///   `required` fields are missing when absent; `optional` ones are `None`; `default` ones take
///   `Default::default()` or the expression after `=`. `as "key"` names the field in requests
///   when its Rust name cannot. `flatten` takes the fields of another part, at the same level.
/// - Without `with`, the output is a struct (named by one identifier) with the fields' names,
///   built from their values once every required one is there.
/// - With `with |f| expr`, `expr` builds an `Option` of the output from the fields' values as
///   read (`Option`s but for defaulted fields), and may read or record more failing values in
///   `f`: it runs whatever failed, so that it can report more.
/// - Attributes and doc comments go to the documented type (`#[schemars(…)]` included).
macro_rules! request_part {
    (
        $(#[$attr:meta])*
        $kind:ident struct $name:ident => $output:ty {
            $($fields:tt)*
        } with |$f:pat_param| $build:expr
    ) => {
        $crate::request::request_part!(@struct [$(#[$attr])*] $name [] $($fields)*);
        $crate::request::request_part!(
            @impl $kind $name [$output] [with $f, $build] $($fields)*
        );
    };
    (
        $(#[$attr:meta])*
        $kind:ident struct $name:ident => $output:ident {
            $($fields:tt)*
        }
    ) => {
        $crate::request::request_part!(@struct [$(#[$attr])*] $name [] $($fields)*);
        $crate::request::request_part!(
            @impl $kind $name [$output] [literal $output] $($fields)*
        );
    };

    // The documented type, one field at a time: a flattened part needs an attribute of its own.
    (@struct [$($attrs:tt)*] $name:ident [$($done:tt)*] $(,)?) => {
        #[derive(::apistos::schemars::JsonSchema)]
        #[schemars(crate = "apistos")]
        $($attrs)*
        pub struct $name {
            $($done)*
        }
    };
    (@struct $attrs:tt $name:ident [$($done:tt)*]
        $(#[$fattr:meta])* flatten $field:ident : $ty:ty $(, $($rest:tt)*)?
    ) => {
        $crate::request::request_part!(@struct $attrs $name [
            $($done)*
            $(#[$fattr])*
            #[schemars(flatten)]
            pub $field: $ty,
        ] $($($rest)*)?);
    };
    (@struct $attrs:tt $name:ident [$($done:tt)*]
        $(#[$fattr:meta])* $mode:ident $field:ident $(as $key:literal)? : $ty:ty
        $(= $default:expr)? $(, $($rest:tt)*)?
    ) => {
        $crate::request::request_part!(@struct $attrs $name [
            $($done)*
            $(#[$fattr])*
            $(#[schemars(rename = $key)])?
            pub $field: $crate::request::request_part!(@schema_type $mode $ty),
        ] $($($rest)*)?);
    };

    (@schema_type required $ty:ty) => { $crate::request::Field<$ty> };
    (@schema_type optional $ty:ty) => { ::core::option::Option<$crate::request::Field<$ty>> };
    (@schema_type default $ty:ty) => { ::core::option::Option<$crate::request::Field<$ty>> };

    // The reader and the extractor's trait.
    (@impl $kind:ident $name:ident [$output:ty] $build:tt
        $(
            $(#[$fattr:meta])* $mode:ident $field:ident $(as $key:literal)? : $ty:ty
            $(= $default:expr)?
        ),* $(,)?
    ) => {
        impl $crate::request::RequestPart for $name {
            type Output = $output;

            fn read(
                fields: &mut $crate::fields::Fields<'_>,
                prefix: &str,
            ) -> ::core::option::Option<$output> {
                $(
                    let $field = $crate::request::request_part!(
                        @read $mode fields prefix $field [$($key)?] $ty [$($default)?]
                    );
                )*
                $crate::request::request_part!(@build fields $build [$($mode $field)*])
            }

            fn knows(name: &str) -> bool {
                $(
                    if $crate::request::request_part!(@knows $mode name $field [$($key)?] $ty) {
                        return true;
                    }
                )*
                false
            }
        }

        $crate::models::nesting_component!($name);
        $crate::request::request_part!(@extractor $kind $name);
    };

    (@key $field:ident []) => { stringify!($field) };
    (@key $field:ident [$key:literal]) => { $key };

    (@read flatten $fields:ident $prefix:ident $field:ident $key:tt $ty:ty []) => {
        <$ty as $crate::request::RequestPart>::read($fields, $prefix)
    };
    (@read required $fields:ident $prefix:ident $field:ident $key:tt $ty:ty []) => {{
        let key = $crate::request::prefixed($prefix, $crate::request::request_part!(@key $field $key));
        let value = <$ty as $crate::request::RequestValue>::read($fields, &key);
        $fields.require(&key, value)
    }};
    (@read optional $fields:ident $prefix:ident $field:ident $key:tt $ty:ty []) => {{
        let key = $crate::request::prefixed($prefix, $crate::request::request_part!(@key $field $key));
        <$ty as $crate::request::RequestValue>::read($fields, &key)
    }};
    (@read default $fields:ident $prefix:ident $field:ident $key:tt $ty:ty []) => {{
        let key = $crate::request::prefixed($prefix, $crate::request::request_part!(@key $field $key));
        <$ty as $crate::request::RequestValue>::read($fields, &key).unwrap_or_default()
    }};
    (@read default $fields:ident $prefix:ident $field:ident $key:tt $ty:ty [$default:expr]) => {{
        let key = $crate::request::prefixed($prefix, $crate::request::request_part!(@key $field $key));
        <$ty as $crate::request::RequestValue>::read($fields, &key).unwrap_or_else(|| $default)
    }};

    // Every field is read before the value is built, so that every failing value is recorded.
    (@build $fields:ident [literal $output:ident] [$($mode:ident $field:ident)*]) => {{
        $($crate::request::request_part!(@unwrap $mode $field);)*
        ::core::option::Option::Some($output { $($field),* })
    }};
    (@build $fields:ident [with $f:pat_param, $build:expr] [$($mode:ident $field:ident)*]) => {{
        let $f = $fields;
        $build
    }};

    (@unwrap required $field:ident) => {
        let $field = $field?;
    };
    (@unwrap flatten $field:ident) => {
        let $field = $field?;
    };
    (@unwrap $mode:ident $field:ident) => {};

    (@knows flatten $name:ident $field:ident $key:tt $ty:ty) => {
        <$ty as $crate::request::RequestPart>::knows($name)
    };
    (@knows $mode:ident $name:ident $field:ident $key:tt $ty:ty) => {
        $name == $crate::request::request_part!(@key $field $key)
    };

    (@extractor object $name:ident) => {};
    (@extractor body $name:ident) => {
        impl $crate::extract::FromBody for $name {
            type Output = <Self as $crate::request::RequestPart>::Output;

            fn from_body(
                object: &::serde_json::Map<::std::string::String, ::serde_json::Value>,
            ) -> ::core::result::Result<Self::Output, ::std::vec::Vec<$crate::error::FieldError>> {
                let mut fields = $crate::fields::Fields::json(object);
                let value = <Self as $crate::request::RequestPart>::read(&mut fields, "");
                fields.finish(|| value)
            }
        }
    };
    (@extractor query $name:ident) => {
        $crate::request::request_part!(@params $name Query);
    };
    (@extractor path $name:ident) => {
        $crate::request::request_part!(@params $name Path);
    };
    (@params $name:ident $origin:ident) => {
        impl $crate::extract::FromParams for $name {
            type Output = <Self as $crate::request::RequestPart>::Output;

            fn from_params(
                params: &::std::collections::HashMap<::std::string::String, ::std::string::String>,
            ) -> ::core::result::Result<Self::Output, ::std::vec::Vec<$crate::error::FieldError>> {
                let mut fields =
                    $crate::fields::Fields::text($crate::fields::Origin::$origin, params);
                let value = <Self as $crate::request::RequestPart>::read(&mut fields, "");
                fields.finish(|| value)
            }
        }
    };
}

pub(crate) use request_part;

#[cfg(test)]
mod tests;
