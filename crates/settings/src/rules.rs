//! The rules a setting's text is read by: whole numbers in a range, seconds, days, booleans,
//! one of a few words, comma-separated lists, and any parse function of the declaring crate.

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use crate::{Invalid, Rule};

/// An integer type a [`Whole`] rule can read.
pub trait WholeNumber: FromStr + PartialOrd + Display + Copy {
    /// Its largest value, the upper bound of [`Whole::at_least`].
    const MAX: Self;
}

macro_rules! whole_numbers {
    ($($ty:ty),+) => {
        $(impl WholeNumber for $ty {
            const MAX: Self = <$ty>::MAX;
        })+
    };
}

whole_numbers!(u16, u32, u64, usize, i32, i64);

/// A whole number from `min` to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Whole<T> {
    min: T,
    max: T,
    /// Whether `max` is worth showing in the help (not the type's largest value).
    bounded: bool,
}

impl<T: WholeNumber> Whole<T> {
    /// From `min` to `max`, both included.
    pub const fn within(min: T, max: T) -> Self {
        Self {
            min,
            max,
            bounded: true,
        }
    }

    /// From `min` up to the largest value of the type.
    pub const fn at_least(min: T) -> Self {
        Self {
            min,
            max: T::MAX,
            bounded: false,
        }
    }
}

impl<T: WholeNumber> Rule for Whole<T> {
    type Value = T;

    fn parse(&self, raw: &str) -> Result<T, Invalid> {
        match raw.parse::<T>() {
            Ok(value) if value >= self.min && value <= self.max => Ok(value),
            _ => Err(format!(
                "must be a whole number from {} to {}, got '{raw}'",
                self.min, self.max
            )
            .into()),
        }
    }

    fn show(&self, value: &T) -> String {
        value.to_string()
    }

    fn accepts(&self) -> Option<String> {
        self.bounded.then(|| format!("{}-{}", self.min, self.max))
    }
}

/// A duration written as a whole number of seconds, from `min` to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Seconds(Whole<u64>);

impl Seconds {
    /// A year in seconds, the usual upper bound.
    pub const YEAR: u64 = 365 * 86_400;

    /// From `min` to `max` seconds, both included.
    pub const fn within(min: u64, max: u64) -> Self {
        Self(Whole::within(min, max))
    }
}

impl Rule for Seconds {
    type Value = Duration;

    fn parse(&self, raw: &str) -> Result<Duration, Invalid> {
        self.0.parse(raw).map(Duration::from_secs)
    }

    fn show(&self, value: &Duration) -> String {
        value.as_secs().to_string()
    }
}

/// A duration written as a whole number of days, from `min` to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Days(Whole<u32>);

impl Days {
    const SECONDS: u64 = 86_400;

    /// From `min` to `max` days, both included.
    pub const fn within(min: u32, max: u32) -> Self {
        Self(Whole::within(min, max))
    }
}

impl Rule for Days {
    type Value = Duration;

    fn parse(&self, raw: &str) -> Result<Duration, Invalid> {
        self.0
            .parse(raw)
            .map(|days| Duration::from_secs(u64::from(days) * Self::SECONDS))
    }

    fn show(&self, value: &Duration) -> String {
        (value.as_secs() / Self::SECONDS).to_string()
    }

    fn accepts(&self) -> Option<String> {
        self.0.accepts()
    }
}

/// A duration written as a whole number of milliseconds, from `min` to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Millis(Whole<u64>);

impl Millis {
    /// From `min` to `max` milliseconds, both included.
    pub const fn within(min: u64, max: u64) -> Self {
        Self(Whole::within(min, max))
    }
}

impl Rule for Millis {
    type Value = Duration;

    fn parse(&self, raw: &str) -> Result<Duration, Invalid> {
        self.0.parse(raw).map(Duration::from_millis)
    }

    fn show(&self, value: &Duration) -> String {
        value.as_millis().to_string()
    }

    fn accepts(&self) -> Option<String> {
        self.0.accepts()
    }
}

/// `true` or `false`; also `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
#[derive(Debug, Clone, Copy)]
pub struct Boolean;

impl Rule for Boolean {
    type Value = bool;

    fn parse(&self, raw: &str) -> Result<bool, Invalid> {
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(format!("must be true or false, got '{raw}'").into()),
        }
    }

    fn show(&self, value: &bool) -> String {
        value.to_string()
    }

    fn accepts(&self) -> Option<String> {
        Some("true or false".to_owned())
    }
}

/// One of a few words, in any case, each standing for a value.
#[derive(Debug, Clone, Copy)]
pub struct OneOf<T: 'static> {
    choices: &'static [(&'static str, T)],
}

impl<T> OneOf<T> {
    /// The words and what they stand for; the first word of a value is how it is shown.
    pub const fn new(choices: &'static [(&'static str, T)]) -> Self {
        Self { choices }
    }

    /// `a or b`, `a, b or c`.
    fn words(&self) -> String {
        let words: Vec<&str> = self.choices.iter().map(|(word, _)| *word).collect();
        match words.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => words.join(""),
        }
    }
}

impl<T: Clone + PartialEq> Rule for OneOf<T> {
    type Value = T;

    fn parse(&self, raw: &str) -> Result<T, Invalid> {
        let word = raw.to_ascii_lowercase();
        self.choices
            .iter()
            .find(|(choice, _)| *choice == word)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| format!("must be {}, got '{word}'", self.words()).into())
    }

    fn show(&self, value: &T) -> String {
        self.choices
            .iter()
            .find(|(_, choice)| choice == value)
            .map(|(word, _)| (*word).to_owned())
            .unwrap_or_default()
    }

    fn accepts(&self) -> Option<String> {
        Some(self.words())
    }
}

/// Comma-separated words, trimmed, blank entries dropped; shown as `none` when empty.
#[derive(Debug, Clone, Copy)]
pub struct List;

impl Rule for List {
    type Value = Vec<String>;

    fn parse(&self, raw: &str) -> Result<Vec<String>, Invalid> {
        Ok(raw
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(str::to_owned)
            .collect())
    }

    fn show(&self, value: &Vec<String>) -> String {
        if value.is_empty() {
            "none".to_owned()
        } else {
            value.join(",")
        }
    }
}

/// A rule of the declaring crate: a function reading the text and one showing a value.
pub struct Parse<T> {
    parse: fn(&str) -> Result<T, Invalid>,
    show: fn(&T) -> String,
}

impl<T> Parse<T> {
    /// Reads with `parse`, shows with `show`.
    pub const fn new(parse: fn(&str) -> Result<T, Invalid>, show: fn(&T) -> String) -> Self {
        Self { parse, show }
    }
}

impl<T> Rule for Parse<T> {
    type Value = T;

    fn parse(&self, raw: &str) -> Result<T, Invalid> {
        (self.parse)(raw)
    }

    fn show(&self, value: &T) -> String {
        (self.show)(value)
    }
}
