//! The command line: subcommands, and one flag per setting, each falling back to its
//! environment variable. Flags and variables are read as text here and checked together by
//! [`Config::from_vars`](crate::config::Config::from_vars), so every invalid setting is reported
//! at once, whichever way it came.

use std::collections::HashMap;

use clap::{Args, Parser, Subcommand};

/// The control plane for PostgreSQL change-data-capture pipelines.
///
/// Settings come from flags, then the environment, then a `.env` file in the working
/// directory, then defaults; every one is described in docs/configuration.md.
#[derive(Parser)]
#[command(name = "rosetta", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Serve the REST API and run the WAL monitor (applies pending migrations first).
    Serve(Settings),
    /// Create the metadata database if needed and apply pending migrations.
    Migrate(Settings),
    /// Re-encrypt every stored secret with the newest encryption key, in batches; safe to run
    /// again after an interruption.
    RotateKeys {
        /// Count what would be re-encrypted, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The settings.
        #[command(flatten)]
        settings: Settings,
    },
    /// Print the OpenAPI document (JSON) on standard output.
    Openapi,
}

/// Declares the settings once: the flag (its doc is the help text), the variable it falls back
/// to, and the list of names the documentation is checked against.
macro_rules! settings {
    ($( $(#[doc = $doc:literal])+ $field:ident => $var:literal, )+) => {
        /// Every setting, as a flag falling back to its environment variable. No value is
        /// shown in `--help`, as some are secrets.
        #[derive(Args, Clone, Default)]
        pub struct Settings {
            $(
                $(#[doc = $doc])+
                #[arg(long, env = $var, value_name = "VALUE", hide_env_values = true)]
                pub $field: Option<String>,
            )+
        }

        impl Settings {
            /// The name of every setting's variable, in the order of `--help`.
            pub const VARIABLES: &'static [&'static str] = &[$($var),+];

            /// The settings given, by variable name, for
            /// [`Config::from_vars`](crate::config::Config::from_vars).
            pub fn vars(&self) -> HashMap<String, String> {
                let mut vars = HashMap::new();
                $(
                    if let Some(value) = &self.$field {
                        vars.insert($var.to_owned(), value.clone());
                    }
                )+
                vars
            }
        }
    };
}

settings! {
    /// The metadata database, postgres://user:password@host:port/database (default
    /// postgres://postgres@127.0.0.1:5432/rosetta).
    database_url => "DATABASE_URL",
    /// Connections the metadata pool is sized for, 1-10000 (default 20).
    db_pool_size => "DB_POOL_SIZE",
    /// Extra connections under load, 0-10000 (default 10).
    db_max_overflow => "DB_MAX_OVERFLOW",
    /// Seconds to wait for a pooled connection (default 30).
    db_pool_timeout => "DB_POOL_TIMEOUT",
    /// Check an idle pooled connection before use: true or false (default true).
    db_pool_pre_ping => "DB_POOL_PRE_PING",
    /// Seconds after which a pooled connection is retired (default 3600).
    db_pool_recycle => "DB_POOL_RECYCLE",
    /// Address to listen on: an IP address or localhost (default 0.0.0.0).
    host => "HOST",
    /// Port to listen on; 0 picks a free one (default 8000).
    port => "PORT",
    /// Threads serving HTTP, 1-1024 (default: one per CPU).
    http_workers => "HTTP_WORKERS",
    /// A level (error, warn, info, debug, trace) or a tracing filter (default info).
    log_level => "LOG_LEVEL",
    /// text or json (default text).
    log_format => "LOG_FORMAT",
    /// Comma-separated origins allowed to call the API from a browser; * for any (default none).
    cors_origins => "CORS_ORIGINS",
    /// Whether this instance runs the WAL monitor: true or false (default true).
    wal_monitor_enabled => "WAL_MONITOR_ENABLED",
    /// Seconds between WAL monitor cycles (default 300).
    wal_monitor_interval_seconds => "WAL_MONITOR_INTERVAL_SECONDS",
    /// Probes running at once, 1-1024 (default 16).
    wal_monitor_concurrency => "WAL_MONITOR_CONCURRENCY",
    /// Retries of a failed probe within a cycle, 0-10 (default 3).
    wal_monitor_max_retries => "WAL_MONITOR_MAX_RETRIES",
    /// Seconds one probe may take before it is abandoned (default 30).
    wal_monitor_timeout_seconds => "WAL_MONITOR_TIMEOUT_SECONDS",
    /// Days WAL and slot samples are kept, 1-3650 (default 30).
    wal_metrics_retention_days => "WAL_METRICS_RETENTION_DAYS",
    /// Retained WAL in bytes above which a slot is a warning (default 1073741824).
    wal_slot_warn_bytes => "WAL_SLOT_WARN_BYTES",
    /// Retained WAL in bytes above which a slot is critical (default 5368709120).
    wal_slot_critical_bytes => "WAL_SLOT_CRITICAL_BYTES",
    /// development or production; production requires encryption keys (default development).
    app_env => "APP_ENV",
    /// Keys encrypting secrets at rest, id:base64key,...; prefer the variable, as flags show
    /// in process lists (default: a generated key file, in development only).
    encryption_keys => "ROSETTA_ENCRYPTION_KEYS",
    /// Where serve keeps what it generates, such as the key file (default data).
    data_dir => "ROSETTA_DATA_DIR",
    /// Comma-separated bearer keys required on /api/v1; prefer the variable (default: none, the
    /// API is open).
    api_keys => "API_KEYS",
    /// Whether /metrics needs an API key too: true or false (default false).
    metrics_require_auth => "METRICS_REQUIRE_AUTH",
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn serve_help() -> String {
        let mut command = Cli::command();
        let serve = command
            .find_subcommand_mut("serve")
            .expect("a serve subcommand");
        serve.render_long_help().to_string()
    }

    #[test]
    fn every_setting_has_a_flag_naming_its_variable_in_serve_help() {
        let help = serve_help();
        for variable in Settings::VARIABLES {
            assert!(
                help.contains(&format!("[env: {variable}")),
                "{variable}: {help}"
            );
            let flag = format!("--{}", variable.to_ascii_lowercase().replace('_', "-"));
            let flag = flag
                .replace("--rosetta-encryption-keys", "--encryption-keys")
                .replace("--rosetta-data-dir", "--data-dir");
            assert!(help.contains(&flag), "{flag}: {help}");
        }
    }

    #[test]
    fn every_setting_is_documented_in_the_configuration_guide() {
        let guide = include_str!("../../../docs/configuration.md");
        for variable in Settings::VARIABLES {
            assert!(
                guide.contains(&format!("`{variable}`")),
                "{variable} is not documented"
            );
        }
    }

    #[test]
    fn flags_become_the_variables_config_reads() {
        let cli = Cli::try_parse_from([
            "rosetta",
            "serve",
            "--port",
            "9100",
            "--wal-monitor-enabled",
            "false",
            "--api-keys",
            "one-key-0123456789abc",
        ])
        .unwrap();
        let Command::Serve(settings) = cli.command else {
            panic!("not serve");
        };
        let vars = settings.vars();
        assert_eq!(vars.get("PORT").map(String::as_str), Some("9100"));
        assert_eq!(
            vars.get("WAL_MONITOR_ENABLED").map(String::as_str),
            Some("false")
        );
        assert_eq!(
            vars.get("API_KEYS").map(String::as_str),
            Some("one-key-0123456789abc")
        );
    }

    #[test]
    fn rotate_keys_takes_a_dry_run_flag_and_the_settings() {
        let cli = Cli::try_parse_from([
            "rosetta",
            "rotate-keys",
            "--dry-run",
            "--database-url",
            "postgres://db/meta",
        ])
        .unwrap();
        let Command::RotateKeys { dry_run, settings } = cli.command else {
            panic!("not rotate-keys");
        };
        assert!(dry_run);
        assert_eq!(
            settings.vars().get("DATABASE_URL").map(String::as_str),
            Some("postgres://db/meta")
        );
    }
}
