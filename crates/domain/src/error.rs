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
