//! Settings declared once: each crate declares its settings with [`settings!`] (the field, its
//! default, its environment variable and so its flag, its help text, which is the field's doc,
//! and the [`Rule`] that reads it from text) and gets the struct, its `Default`, and a
//! [`SettingsGroup`] impl that lists the settings and reads them, reporting every invalid one.
//!
//! The crate knows no command-line or configuration framework and depends on nothing but `std`:
//! the binary turns [`SettingsGroup::settings`] into flags, collects the text given for each
//! variable and hands it to [`SettingsGroup::load`].
//!
//! ```
//! use std::collections::HashMap;
//! use std::time::Duration;
//!
//! use rosetta_settings::{settings, Seconds, SettingsGroup, Whole};
//!
//! settings! {
//!     /// How often and how widely the example works.
//!     #[derive(Debug, PartialEq, Eq)]
//!     pub struct Example {
//!         /// Seconds between two runs.
//!         pub interval: Duration = Duration::from_secs(300),
//!             env "EXAMPLE_INTERVAL_SECONDS", rule Seconds::within(1, Seconds::YEAR);
//!         /// Workers running at once.
//!         pub workers: usize = 4, env "EXAMPLE_WORKERS", rule Whole::within(1, 64);
//!     }
//! }
//!
//! let given = HashMap::from([("EXAMPLE_WORKERS".to_owned(), "8".to_owned())]);
//! let example = Example::load(&given).unwrap();
//! assert_eq!(example, Example { interval: Duration::from_secs(300), workers: 8 });
//!
//! let given = HashMap::from([("EXAMPLE_WORKERS".to_owned(), "0".to_owned())]);
//! assert_eq!(
//!     Example::load(&given).unwrap_err(),
//!     ["EXAMPLE_WORKERS: must be a whole number from 1 to 64, got '0'"]
//! );
//! assert_eq!(Example::settings()[0].flag, "example-interval-seconds");
//! assert_eq!(Example::settings()[1].help_line(), "Workers running at once [values: 1-64] [default: 4]");
//! ```

use std::collections::HashMap;

mod macros;
mod rules;

pub use rules::{Boolean, Days, List, Millis, OneOf, Parse, Seconds, Whole, WholeNumber};

/// One setting, as a command line or a documentation check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The environment variable, such as `WAL_MONITOR_INTERVAL_SECONDS`.
    pub env: &'static str,
    /// The long flag without its dashes: the variable's name in lower case with dashes
    /// (`wal-monitor-interval-seconds`), unless the declaration names another.
    pub flag: String,
    /// What it does: the field's doc on one line, without its final period.
    pub help: String,
    /// The values it takes, when its rule can say so briefly (`1-1024`, `true or false`).
    pub accepts: Option<String>,
    /// The default as the variable would spell it (`300`, `text`), or in words (`none`).
    pub default: String,
}

impl Setting {
    /// The help text of its flag: `help [values: …] [default: …]`.
    pub fn help_line(&self) -> String {
        let mut line = self.help.clone();
        if let Some(accepts) = &self.accepts {
            line.push_str(&format!(" [values: {accepts}]"));
        }
        line.push_str(&format!(" [default: {}]", self.default));
        line
    }
}

/// The text given for each setting, by variable name.
#[derive(Debug, Clone, Copy)]
pub struct Raw<'a> {
    vars: &'a HashMap<String, String>,
}

impl<'a> Raw<'a> {
    /// The values in `vars`.
    pub fn new(vars: &'a HashMap<String, String>) -> Self {
        Self { vars }
    }

    /// The value given for `env`, trimmed; `None` when it is missing or blank, which means the
    /// default.
    pub fn get(&self, env: &str) -> Option<&'a str> {
        self.vars
            .get(env)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }
}

/// Why a value was refused: one message, or one per bad entry of a list. A message names
/// neither the variable (the reader adds it) nor a secret (it describes the entry by position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(Vec<String>);

impl Invalid {
    /// Several problems of one value, in the order found.
    pub fn many(messages: Vec<String>) -> Self {
        Self(messages)
    }

    /// The messages.
    pub fn messages(&self) -> &[String] {
        &self.0
    }
}

impl From<String> for Invalid {
    fn from(message: String) -> Self {
        Self(vec![message])
    }
}

/// Every problem found while reading settings, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors {
    found: Vec<(&'static str, String)>,
}

impl Errors {
    /// Records that `env` is wrong, and why.
    pub fn add(&mut self, env: &'static str, message: impl Into<String>) {
        self.found.push((env, message.into()));
    }

    /// Whether a problem of `env` was recorded, so that a check of several settings can stay
    /// silent about a value already reported as invalid.
    pub fn reported(&self, env: &str) -> bool {
        self.found.iter().any(|(name, _)| *name == env)
    }

    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// Every problem as `NAME: message`.
    pub fn into_messages(self) -> Vec<String> {
        self.found
            .into_iter()
            .map(|(env, message)| format!("{env}: {message}"))
            .collect()
    }
}

/// How a setting is read from text and how its default is shown.
pub trait Rule {
    /// What the text becomes.
    type Value;

    /// Reads `raw` (trimmed, never empty).
    ///
    /// # Errors
    ///
    /// When `raw` breaks the rule: what is wrong, quoting `raw` only if it cannot be a secret.
    fn parse(&self, raw: &str) -> Result<Self::Value, Invalid>;

    /// `value` as the variable would spell it, for the help and the documentation check.
    fn show(&self, value: &Self::Value) -> String;

    /// The values it takes, when that is short enough for a help line.
    fn accepts(&self) -> Option<String> {
        None
    }
}

/// A struct of settings declared with [`settings!`].
pub trait SettingsGroup: Default {
    /// Its settings, nested groups included, in the order declared.
    fn settings() -> Vec<Setting>;

    /// Reads it from `raw`: a missing value takes its default, an invalid one is recorded in
    /// `errors` (and takes its default, so that reading goes on and reports every problem).
    fn read(raw: &Raw<'_>, errors: &mut Errors) -> Self;

    /// Reads it from the text given for each variable.
    ///
    /// # Errors
    ///
    /// Every problem, as `NAME: message`, in the order of [`SettingsGroup::settings`], then
    /// those of the checks that compare settings.
    fn load(vars: &HashMap<String, String>) -> Result<Self, Vec<String>> {
        let mut errors = Errors::default();
        let value = Self::read(&Raw::new(vars), &mut errors);
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(errors.into_messages())
        }
    }
}

/// Reads one setting for [`settings!`].
#[doc(hidden)]
pub fn read_setting<R: Rule>(
    raw: &Raw<'_>,
    errors: &mut Errors,
    env: &'static str,
    rule: &R,
    default: impl FnOnce() -> R::Value,
) -> R::Value {
    let Some(text) = raw.get(env) else {
        return default();
    };
    match rule.parse(text) {
        Ok(value) => value,
        Err(Invalid(messages)) => {
            for message in messages {
                errors.add(env, message);
            }
            default()
        }
    }
}

/// Describes one setting for [`settings!`].
#[doc(hidden)]
pub fn describe<R: Rule>(
    env: &'static str,
    flag: Option<&str>,
    doc: &[&str],
    rule: &R,
    default: &R::Value,
    shown: Option<&str>,
) -> Setting {
    let help = doc
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Setting {
        env,
        flag: flag.map_or_else(|| env.to_ascii_lowercase().replace('_', "-"), str::to_owned),
        help: help.strip_suffix('.').unwrap_or(&help).to_owned(),
        accepts: rule.accepts(),
        default: shown.map_or_else(|| rule.show(default), str::to_owned),
    }
}

#[cfg(test)]
mod tests;
