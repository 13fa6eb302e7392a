//! The macro and the rules, on a group declared here.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use crate::{
    settings, Boolean, Days, Errors, List, OneOf, Parse, Rule, Seconds, SettingsGroup, Whole,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Fast,
    Safe,
}

fn even(raw: &str) -> Result<u32, crate::Invalid> {
    match raw.parse::<u32>() {
        Ok(n) if n % 2 == 0 => Ok(n),
        _ => Err("must be an even number".to_owned().into()),
    }
}

settings! {
    /// Settings of an inner group.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Inner {
        /// Lower bound.
        low: u32 = 1, env "TEST_LOW", rule Whole::within(0, 100);
        /// Upper bound; above TEST_LOW.
        high: u32 = 10, env "TEST_HIGH", rule Whole::within(0, 100);
    }
    check = Inner::ordered;
}

impl Inner {
    fn ordered(&self, errors: &mut Errors) {
        if self.high <= self.low {
            errors.add(
                "TEST_HIGH",
                format!("must be above TEST_LOW ({})", self.low),
            );
        }
    }
}

settings! {
    /// Every kind of field.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Outer {
        /// Seconds between two runs.
        every: Duration = Duration::from_secs(300),
            env "TEST_EVERY_SECONDS", rule Seconds::within(1, Seconds::YEAR);
        /// The inner group.
        inner: Inner = group;
        /// Days kept.
        kept: Duration = Duration::from_secs(30 * 86_400), env "TEST_KEPT_DAYS",
            rule Days::within(1, 3650);
        /// Whether it runs.
        enabled: bool = true, env "TEST_ENABLED", rule Boolean;
        /// How it runs.
        mode: Mode = Mode::Safe, env "TEST_MODE",
            rule OneOf::new(&[("fast", Mode::Fast), ("safe", Mode::Safe)]);
        /// Names, comma-separated.
        names: Vec<String> = Vec::new(), env "TEST_NAMES", flag "names", rule List;
        /// An even count.
        count: u32 = 2, env "TEST_COUNT", rule Parse::new(even, u32::to_string),
            shown "two";
    }
}

/// `Outer` read from these variables.
fn load(given: &[(&str, &str)]) -> Result<Outer, Vec<String>> {
    let given: HashMap<String, String> = given
        .iter()
        .map(|&(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    Outer::load(&given)
}

#[test]
fn missing_and_blank_values_take_the_declared_defaults() {
    let read = load(&[("TEST_ENABLED", "  ")]).unwrap();
    assert_eq!(read, Outer::default());
    assert_eq!(read.every, Duration::from_secs(300));
    assert_eq!(read.inner, Inner { low: 1, high: 10 });
    assert_eq!(read.kept, Duration::from_secs(30 * 86_400));
    assert!(read.enabled);
    assert_eq!(read.mode, Mode::Safe);
}

#[test]
fn values_are_read_by_their_rules() {
    let read = load(&[
        ("TEST_EVERY_SECONDS", "5"),
        ("TEST_LOW", "3"),
        ("TEST_KEPT_DAYS", " 2 "),
        ("TEST_ENABLED", "Off"),
        ("TEST_MODE", "FAST"),
        ("TEST_NAMES", "a, ,b,"),
        ("TEST_COUNT", "8"),
    ])
    .unwrap();
    assert_eq!(
        read,
        Outer {
            every: Duration::from_secs(5),
            inner: Inner { low: 3, high: 10 },
            kept: Duration::from_secs(2 * 86_400),
            enabled: false,
            mode: Mode::Fast,
            names: vec!["a".to_owned(), "b".to_owned()],
            count: 8,
        }
    );
}

#[test]
fn every_problem_is_reported_in_declaration_order_then_the_checks() {
    let errors = load(&[
        ("TEST_COUNT", "3"),
        ("TEST_MODE", "Turbo"),
        ("TEST_ENABLED", "maybe"),
        ("TEST_KEPT_DAYS", "0"),
        ("TEST_HIGH", "1"),
        ("TEST_LOW", "500"),
        ("TEST_EVERY_SECONDS", "soon"),
    ])
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "TEST_EVERY_SECONDS: must be a whole number from 1 to 31536000, got 'soon'",
            "TEST_LOW: must be a whole number from 0 to 100, got '500'",
            "TEST_HIGH: must be above TEST_LOW (1)",
            "TEST_KEPT_DAYS: must be a whole number from 1 to 3650, got '0'",
            "TEST_ENABLED: must be true or false, got 'maybe'",
            "TEST_MODE: must be fast or safe, got 'turbo'",
            "TEST_COUNT: must be an even number",
        ]
    );
}

#[test]
fn the_settings_are_listed_with_flag_help_values_and_default() {
    let settings = Outer::settings();
    let envs: Vec<_> = settings.iter().map(|s| s.env).collect();
    assert_eq!(
        envs,
        [
            "TEST_EVERY_SECONDS",
            "TEST_LOW",
            "TEST_HIGH",
            "TEST_KEPT_DAYS",
            "TEST_ENABLED",
            "TEST_MODE",
            "TEST_NAMES",
            "TEST_COUNT"
        ]
    );
    let lines: Vec<_> = settings
        .iter()
        .map(|s| format!("--{} {}", s.flag, s.help_line()))
        .collect();
    assert_eq!(
        lines,
        [
            "--test-every-seconds Seconds between two runs [default: 300]",
            "--test-low Lower bound [values: 0-100] [default: 1]",
            "--test-high Upper bound; above TEST_LOW [values: 0-100] [default: 10]",
            "--test-kept-days Days kept [values: 1-3650] [default: 30]",
            "--test-enabled Whether it runs [values: true or false] [default: true]",
            "--test-mode How it runs [values: fast or safe] [default: safe]",
            "--names Names, comma-separated [default: none]",
            "--test-count An even count [default: two]",
        ]
    );
}

#[test]
fn whole_numbers_up_to_the_type_limit_do_not_show_it() {
    let rule = Whole::<i64>::at_least(1);
    assert_eq!(rule.accepts(), None);
    assert_eq!(
        rule.parse("0").unwrap_err().messages(),
        ["must be a whole number from 1 to 9223372036854775807, got '0'"]
    );
    assert_eq!(rule.parse("5368709120").unwrap(), 5 << 30);
}

#[test]
fn a_list_of_three_words_reads_as_a_sentence() {
    #[derive(Debug, Clone, PartialEq)]
    enum Level {
        Low,
        Mid,
        High,
    }
    let rule = OneOf::new(&[
        ("low", Level::Low),
        ("mid", Level::Mid),
        ("high", Level::High),
    ]);
    assert_eq!(rule.accepts().as_deref(), Some("low, mid or high"));
    assert_eq!(rule.show(&Level::Mid), "mid");
    assert_eq!(rule.parse("HIGH").unwrap(), Level::High);
}

#[test]
fn milliseconds_read_and_show_as_whole_numbers_within_their_bounds() {
    let rule = crate::Millis::within(1, 60_000);
    assert_eq!(rule.parse("250"), Ok(Duration::from_millis(250)));
    assert_eq!(rule.show(&Duration::from_millis(200)), "200");
    assert_eq!(rule.accepts().as_deref(), Some("1-60000"));
    assert!(rule.parse("0").is_err());
    assert!(rule.parse("1.5").is_err());
}
