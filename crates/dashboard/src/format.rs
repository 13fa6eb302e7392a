//! How figures are written for people: sizes in binary units, durations, times that the
//! browser shows in the viewer's time zone, and the badges of states and verdicts.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use maud::{html, Markup};

const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/// `1536` → `1.50 KiB`; bytes below 1 KiB are whole.
pub(crate) fn bytes(value: i128) -> String {
    let negative = value < 0;
    let mut size = value.unsigned_abs() as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    let sign = if negative { "-" } else { "" };
    if unit == 0 {
        format!("{sign}{size:.0} B")
    } else if size < 10.0 {
        format!("{sign}{size:.2} {}", UNITS[unit])
    } else {
        format!("{sign}{size:.1} {}", UNITS[unit])
    }
}

/// A size, or a dash when unknown.
pub(crate) fn maybe_bytes(value: Option<impl Into<i128>>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| bytes(v.into()))
}

/// `0.25 s`, `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
pub(crate) fn duration(value: Duration) -> String {
    let seconds = value.as_secs_f64();
    if seconds < 10.0 {
        return format!("{seconds:.2} s");
    }
    let whole = value.as_secs();
    match whole {
        0..=59 => format!("{whole} s"),
        60..=3_599 => format!("{} min {} s", whole / 60, whole % 60),
        3_600..=86_399 => format!("{} h {} min", whole / 3_600, whole % 3_600 / 60),
        _ => format!("{} d {} h", whole / 86_400, whole % 86_400 / 3_600),
    }
}

/// A whole number with thin separators: `1 234 567`.
pub(crate) fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(digit);
    }
    out
}

/// A point in time: written in UTC, shown by the browser in the viewer's time zone.
pub(crate) fn time(at: DateTime<Utc>) -> Markup {
    let iso = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    html! { time datetime=(iso) data-local { (at.format("%Y-%m-%d %H:%M:%S UTC")) } }
}

/// A time or a dash.
pub(crate) fn maybe_time(at: Option<DateTime<Utc>>) -> Markup {
    match at {
        Some(at) => time(at),
        None => html! { span.muted { "never" } },
    }
}

/// A state shown as a coloured word; the word is the state, so colour is never the only cue.
pub(crate) fn badge(state: &str) -> Markup {
    html! { span class={ "badge " (state) } { (state) } }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(5 << 20), "5.00 MiB");
        assert_eq!(bytes(300 << 20), "300.0 MiB");
        assert_eq!(bytes(3 << 30), "3.00 GiB");
        assert_eq!(bytes(-(2 << 30)), "-2.00 GiB");
        assert_eq!(maybe_bytes(None::<i64>), "–");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_millis(250)), "0.25 s");
        assert_eq!(duration(Duration::from_secs(42)), "42 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 5 s");
        assert_eq!(duration(Duration::from_secs(7_800)), "2 h 10 min");
        assert_eq!(
            duration(Duration::from_secs(3 * 86_400 + 4 * 3_600)),
            "3 d 4 h"
        );
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(7), "7");
        assert_eq!(count(1_234), "1\u{202f}234");
        assert_eq!(count(1_234_567), "1\u{202f}234\u{202f}567");
    }

    #[test]
    fn times_carry_utc_for_the_browser() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let shown = time(at).into_string();
        assert!(
            shown.contains("datetime=\"2023-11-14T22:13:20Z\""),
            "{shown}"
        );
        assert!(shown.contains("2023-11-14 22:13:20 UTC"), "{shown}");
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(query_escape("/sources/3?x=1&y"), "/sources/3%3Fx%3D1%26y");
    }
}
