//! The `rosetta` command line as a process: flags win over the environment, every invalid
//! setting is reported at once by name, and `serve --help` describes every setting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn rosetta(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rosetta"));
    command.args(args).env_clear();
    // The working directory has no .env: run from a fresh temporary one.
    let dir = std::env::temp_dir().join(format!("rosetta-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    command.current_dir(&dir);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// A configured key, so that no run writes a key file.
const ENCRYPTION_KEYS: &str = "1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_flag_overrides_its_environment_variable() {
    // Both values are invalid, each in its own way: the message names the flag's.
    let output = rosetta(
        &["serve", "--port", "70000"],
        &[
            ("PORT", "not-a-port"),
            ("DATABASE_URL", "postgres://127.0.0.1:1/none"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("PORT: must be a whole number from 0 to 65535, got '70000'"),
        "{err}"
    );
    assert!(!err.contains("not-a-port"), "{err}");
}

#[test]
fn every_invalid_setting_is_reported_at_once_with_its_name_and_rule() {
    let output = rosetta(
        &[
            "serve",
            "--wal-monitor-concurrency",
            "0",
            "--log-format",
            "xml",
        ],
        &[
            ("HTTP_WORKERS", "0"),
            ("WAL_SLOT_WARN_BYTES", "10"),
            ("WAL_SLOT_CRITICAL_BYTES", "5"),
            ("API_KEYS", "short"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    for expected in [
        "LOG_FORMAT: must be text or json, got 'xml'",
        "HTTP_WORKERS: must be a whole number from 1 to 1024, got '0'",
        "WAL_MONITOR_CONCURRENCY: must be a whole number from 1 to 1024, got '0'",
        "WAL_SLOT_CRITICAL_BYTES: must be larger than WAL_SLOT_WARN_BYTES",
        "API_KEYS: key 1 must be at least 16 visible ASCII characters",
    ] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
    assert!(!err.contains("short"), "{err}");
}

#[test]
fn serve_help_describes_every_setting_without_showing_values() {
    let output = rosetta(
        &["serve", "--help"],
        &[("API_KEYS", "a-secret-api-key-0123456789")],
    );
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in rosetta_server::cli::Settings::variables() {
        assert!(
            help.contains(&format!("[env: {variable}")),
            "{variable}: {help}"
        );
    }
    assert!(!help.contains("a-secret-api-key"), "{help}");
}

#[test]
fn serve_refuses_an_open_api_on_the_network_unless_asked() {
    let unreachable = ("DATABASE_URL", "postgres://127.0.0.1:1/none");
    let output = rosetta(&["serve"], &[("HOST", "0.0.0.0"), unreachable]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    for named in ["HOST: 0.0.0.0", "API_KEYS", "ALLOW_UNAUTHENTICATED=true"] {
        assert!(err.contains(named), "{named}: {err}");
    }
    // Asked for, or with keys, it goes on to the database (and fails there, with status 1).
    for extra in [
        ("ALLOW_UNAUTHENTICATED", "true"),
        ("API_KEYS", "a-good-api-key-0123456789"),
    ] {
        let output = rosetta(
            &["serve"],
            &[
                ("HOST", "0.0.0.0"),
                unreachable,
                extra,
                ("ROSETTA_ENCRYPTION_KEYS", ENCRYPTION_KEYS),
            ],
        );
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    }
    // Commands that do not listen take the image's HOST=0.0.0.0 without keys.
    let output = rosetta(&["migrate"], &[("HOST", "0.0.0.0"), unreachable]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}
