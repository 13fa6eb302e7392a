//! The error every validated value returns when its input breaks a rule.

use std::fmt;

/// A value that breaks the rule of the type it was meant to become.
///
/// `rule` is a stable, machine-readable code (`too_long`, `invalid_characters`, …) and `message`
/// a sentence for people. Neither ever contains a secret: a rejected password is described, not
/// quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    rule: &'static str,
    message: String,
}

impl InvalidValue {
    /// A broken rule with its code and its explanation.
    pub fn new(rule: &'static str, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
        }
    }

    /// The stable code of the broken rule, such as `too_long`.
    pub fn rule(&self) -> &'static str {
        self.rule
    }

    /// What is wrong, in words.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InvalidValue {}

/// The variant among `all` that `spell` spells `value`. An enum spelled by fixed words lists its
/// variants once, and its parsing and the error naming every spelling (in that order) derive
/// from the list and its `as_str`.
pub(crate) fn spelled_as<T: Copy>(
    value: &str,
    all: &[T],
    spell: fn(T) -> &'static str,
) -> Result<T, InvalidValue> {
    all.iter()
        .copied()
        .find(|variant| spell(*variant) == value)
        .ok_or_else(|| {
            let spellings: Vec<_> = all.iter().map(|variant| spell(*variant)).collect();
            InvalidValue::new(
                "unknown_variant",
                format!("must be one of {}", spellings.join(", ")),
            )
        })
}
