//! The `settings!` macro: one declaration per setting, from which the struct, its `Default` and
//! its [`SettingsGroup`](crate::SettingsGroup) impl are generated.

/// Declares a struct of settings.
///
/// Each field is either a setting,
///
/// ```text
/// /// Help text (the field's doc, on one line in `--help`).
/// pub field: Type = default_expression,
///     env "VARIABLE" [, flag "other-flag"], rule RuleExpression [, shown "default in words"];
/// ```
///
/// or a nested group, whose settings are listed and read in its place:
///
/// ```text
/// /// What the group is for.
/// pub field: OtherGroup = group;
/// ```
///
/// The flag is the variable in lower case with dashes unless `flag` names another; `shown`
/// replaces the default's text where the value is computed (`one per CPU`). After the struct,
/// `check = function;` names a `fn(&Self, &mut Errors)` run once every field is read, for the
/// rules that compare settings. Fields are read, and their problems reported, in the order
/// declared, which is also the order of [`SettingsGroup::settings`](crate::SettingsGroup).
#[macro_export]
macro_rules! settings {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($body:tt)* }
        $(check = $check:expr;)?
    ) => {
        $crate::settings! {
            @fields [$(#[$meta])* $vis struct $name] [$($check)?] [] $($body)*
        }
    };

    // A nested group.
    (@fields $head:tt $check:tt [$($done:tt)*]
        $(#[doc = $doc:literal])*
        $fvis:vis $field:ident : $ty:ty = group;
        $($rest:tt)*
    ) => {
        $crate::settings! {
            @fields $head $check
            [$($done)* [[$($doc)*] [] [$fvis] $field [$ty] (group)]]
            $($rest)*
        }
    };

    // A setting.
    (@fields $head:tt $check:tt [$($done:tt)*]
        $(#[doc = $doc:literal])*
        $fvis:vis $field:ident : $ty:ty = $default:expr,
            env $env:literal $(, flag $flag:literal)?, rule $rule:expr $(, shown $shown:literal)?;
        $($rest:tt)*
    ) => {
        $crate::settings! {
            @fields $head $check
            [$($done)* [
                [$($doc)*]
                [concat!("\n\n`", $env, "`")]
                [$fvis] $field [$ty]
                (setting [$default] $env [$($flag)?] [$rule] [$($shown)?])
            ]]
            $($rest)*
        }
    };

    // Every field seen: the struct and its impls.
    (@fields
        [$(#[$meta:meta])* $vis:vis struct $name:ident]
        [$($check:expr)?]
        [$([[$($doc:literal)*] [$($env_doc:expr)?] [$fvis:vis] $field:ident [$ty:ty] $spec:tt])*]
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $(
                $(#[doc = $doc])*
                $(#[doc = $env_doc])?
                $fvis $field: $ty,
            )*
        }

        impl ::core::default::Default for $name {
            fn default() -> Self {
                Self {
                    $($field: $crate::settings!(@default $ty, $spec),)*
                }
            }
        }

        impl $crate::SettingsGroup for $name {
            fn settings() -> ::std::vec::Vec<$crate::Setting> {
                let mut settings = ::std::vec::Vec::new();
                $($crate::settings!(@describe settings, [$($doc)*], $ty, $spec);)*
                settings
            }

            fn read(raw: &$crate::Raw<'_>, errors: &mut $crate::Errors) -> Self {
                // Struct expressions evaluate their fields in the order written: problems are
                // reported in the order declared.
                let value = Self {
                    $($field: $crate::settings!(@read raw, errors, $ty, $spec),)*
                };
                $(($check)(&value, errors);)?
                value
            }
        }
    };

    (@default $ty:ty, (group)) => {
        <$ty as ::core::default::Default>::default()
    };
    (@default $ty:ty, (setting [$default:expr] $($rest:tt)*)) => {
        $default
    };

    (@describe $list:ident, [$($doc:literal)*], $ty:ty, (group)) => {
        $list.extend(<$ty as $crate::SettingsGroup>::settings())
    };
    (@describe $list:ident, [$($doc:literal)*], $ty:ty,
        (setting [$default:expr] $env:literal [$($flag:literal)?] [$rule:expr] [$($shown:literal)?])
    ) => {
        $list.push({
            let default: $ty = $default;
            $crate::describe(
                $env,
                $crate::settings!(@option $($flag)?),
                &[$($doc),*],
                &$rule,
                &default,
                $crate::settings!(@option $($shown)?),
            )
        })
    };

    (@read $raw:ident, $errors:ident, $ty:ty, (group)) => {
        <$ty as $crate::SettingsGroup>::read($raw, $errors)
    };
    (@read $raw:ident, $errors:ident, $ty:ty,
        (setting [$default:expr] $env:literal [$($flag:literal)?] [$rule:expr] [$($shown:literal)?])
    ) => {
        $crate::read_setting($raw, $errors, $env, &$rule, || -> $ty { $default })
    };

    (@option) => {
        ::core::option::Option::None
    };
    (@option $value:literal) => {
        ::core::option::Option::Some($value)
    };
}
