//! Logs: `tracing` events as text or JSON lines on standard error.

use std::ffi::OsStr;
use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The filter for `level`, with the PostgreSQL driver kept at `info` whatever is asked: at
/// `debug` it logs every statement's parameters, passwords included.
pub fn filter(level: &str) -> String {
    let mut directives: Vec<&str> = level
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.contains("tokio_postgres"))
        .collect();
    directives.push("tokio_postgres=info");
    directives.join(",")
}

/// Whether text lines are coloured: only when they go to a terminal, and never when `NO_COLOR`
/// is set to anything but the empty string (<https://no-color.org>). A file or a pipe gets
/// plain text, so that log collectors and `grep` see no escape codes.
pub fn use_colour(to_terminal: bool, no_color: Option<&OsStr>) -> bool {
    to_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// Installs the global subscriber. `level` is a `tracing` filter (`info`,
/// `rosetta=debug,info`, …). Calling it twice keeps the first subscriber.
pub fn init(level: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter(level)).unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(!use_colour(false, None));
        assert!(!use_colour(false, Some(OsStr::new("1"))));
    }

    #[test]
    fn the_driver_never_logs_below_info() {
        assert_eq!(filter("trace"), "trace,tokio_postgres=info");
        assert_eq!(
            filter("info, tokio_postgres=trace ,rosetta=debug"),
            "info,rosetta=debug,tokio_postgres=info"
        );
    }
}
