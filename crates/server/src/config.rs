//! The service's configuration: every setting of the binary and of the crates it assembles,
//! read from the settings given (flags, the environment, an optional `.env`; see `cli.rs`),
//! every value checked, every problem reported at once.
//!
//! Each crate declares its own settings with `rosetta_settings::settings!` (the pool, the WAL
//! monitor, the WAL thresholds); [`Config`] declares those of the binary the same way and nests
//! the others, so a setting is written down once, where it is used.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use rosetta_app::{MonitorSettings, ReplicatorSettings};
use rosetta_domain::WalThresholds;
use rosetta_metadata_store::migrations::DatabaseTarget;
use rosetta_metadata_store::PoolSettings;
use rosetta_settings::{Boolean, Errors, Invalid, List, OneOf, Parse, Raw, SettingsGroup, Whole};

pub use crate::keys::KeySpec;
use crate::keys::{parse_keys, KeyText};
use crate::telemetry::LogFormat;

/// The metadata database used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/rosetta";

rosetta_settings::settings! {
    /// Everything `rosetta` reads from its environment. `Debug` shows no secret.
    #[derive(Clone)]
    pub struct Config {
        /// The metadata database, postgres://user:password@host:port/database.
        // It may hold a password: log `database_target()`, never the URL.
        pub database_url: String = DEFAULT_DATABASE_URL.to_owned(),
            env "DATABASE_URL", rule Parse::new(database_url, String::clone);
        /// The metadata pool.
        pub pool: PoolSettings = group;
        /// Address to listen on: an IP address or localhost. Any but a loopback address needs
        /// API_KEYS, or ALLOW_UNAUTHENTICATED.
        pub host: String = "127.0.0.1".to_owned(),
            env "HOST", rule Parse::new(host, String::clone);
        /// Port to listen on; 0 picks a free one.
        pub port: u16 = 8000, env "PORT", rule Whole::within(0, u16::MAX);
        /// Threads serving HTTP.
        pub http_workers: usize = one_per_cpu(),
            env "HTTP_WORKERS", rule Whole::within(1, 1024), shown "one per CPU";
        /// A level (error, warn, info, debug, trace) or a tracing filter such as
        /// rosetta_http_api=debug,info.
        pub log_level: String = "info".to_owned(),
            env "LOG_LEVEL", rule Parse::new(log_level, String::clone);
        /// Log lines as text, or as one JSON object per line.
        pub log_format: LogFormat = LogFormat::Text, env "LOG_FORMAT",
            rule OneOf::new(&[("text", LogFormat::Text), ("json", LogFormat::Json)]);
        /// Comma-separated origins allowed to call the API from a browser; * for any.
        pub cors_origins: Vec<String> = Vec::new(), env "CORS_ORIGINS", rule List;
        /// Whether this instance schedules WAL monitor cycles.
        pub wal_monitor_enabled: bool = true, env "WAL_MONITOR_ENABLED", rule Boolean;
        /// How the WAL monitor runs its cycles (and bounds each probe).
        pub monitor: MonitorSettings = group;
        /// What the WAL monitor judges slots by.
        pub wal_thresholds: WalThresholds = group;
        /// Whether serve runs the data plane (the replicator) beside the API; `rosetta
        /// replicate` runs it alone.
        pub replicator_enabled: bool = true, env "REPLICATOR_ENABLED", rule Boolean;
        /// How the replicator runs pipelines.
        pub replicator: ReplicatorSettings = group;
        /// Where it runs: in production, nothing is generated for the operator (an encryption
        /// key must be given).
        pub app_env: AppEnv = AppEnv::Development, env "APP_ENV",
            rule OneOf::new(&[("development", AppEnv::Development), ("production", AppEnv::Production)]);
        /// Keys encrypting secrets at rest, id:base64key,...; new writes use the highest id.
        /// Without them, serve generates a key file, in development only. Prefer the variable:
        /// flags show in process lists.
        pub encryption_keys: Vec<KeySpec> = Vec::new(), env "ROSETTA_ENCRYPTION_KEYS",
            flag "encryption-keys", rule Parse::new(encryption_keys, |keys| count(keys));
        /// Where serve keeps what it generates, such as the key file, relative to the working
        /// directory.
        pub data_dir: PathBuf = PathBuf::from("data"), env "ROSETTA_DATA_DIR", flag "data-dir",
            rule Parse::new(|raw| Ok(PathBuf::from(raw)), |dir| dir.display().to_string());
        /// Comma-separated bearer keys required on /api/v1. Without them the API is open, so
        /// serve listens on a loopback HOST only, unless ALLOW_UNAUTHENTICATED. Prefer the
        /// variable.
        pub api_keys: Vec<String> = Vec::new(),
            env "API_KEYS", rule Parse::new(api_keys, |keys| count(keys));
        /// Whether /metrics needs an API key too (requires API_KEYS).
        pub metrics_require_auth: bool = false, env "METRICS_REQUIRE_AUTH", rule Boolean;
        /// Whether serve may listen on a HOST other than loopback without API_KEYS, serving an
        /// API that anyone who can reach it may change.
        pub allow_unauthenticated: bool = false, env "ALLOW_UNAUTHENTICATED", rule Boolean;
    }
    check = Config::check;
}

/// The environment the service runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// A developer's machine or a test: missing keys are generated.
    Development,
    /// Production: nothing is generated; every key must be configured.
    Production,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database", &self.database_target())
            .field("pool", &self.pool)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("http_workers", &self.http_workers)
            .field("log_level", &self.log_level)
            .field("log_format", &self.log_format)
            .field("cors_origins", &self.cors_origins)
            .field("wal_monitor_enabled", &self.wal_monitor_enabled)
            .field("monitor", &self.monitor)
            .field("wal_thresholds", &self.wal_thresholds)
            .field("replicator_enabled", &self.replicator_enabled)
            .field("replicator", &self.replicator)
            .field("app_env", &self.app_env)
            .field("encryption_keys", &self.encryption_keys)
            .field("data_dir", &self.data_dir)
            .field("api_keys", &format_args!("{} key(s)", self.api_keys.len()))
            .field("metrics_require_auth", &self.metrics_require_auth)
            .field("allow_unauthenticated", &self.allow_unauthenticated)
            .finish()
    }
}

impl Config {
    /// Where the metadata database is, without credentials.
    pub fn database_target(&self) -> String {
        DatabaseTarget::parse(&self.database_url)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| "an invalid DATABASE_URL".to_owned())
    }

    /// Reads the configuration of any command from a set of variables.
    ///
    /// # Errors
    ///
    /// Every invalid setting, each with its name and the rule it broke.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigErrors> {
        Self::load(vars).map_err(ConfigErrors)
    }

    /// Reads the configuration of `serve`: that of [`Config::from_vars`], and an API without
    /// keys only on a loopback address, unless `ALLOW_UNAUTHENTICATED` says an open API is
    /// wanted.
    ///
    /// # Errors
    ///
    /// Every invalid setting, as [`Config::from_vars`], and the open API.
    pub fn for_serve(vars: &HashMap<String, String>) -> Result<Self, ConfigErrors> {
        let mut errors = Errors::default();
        let config = Self::read(&Raw::new(vars), &mut errors);
        config.check_listener(&mut errors);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigErrors(errors.into_messages()))
        }
    }

    /// The rules between settings, for every command. A setting already reported as invalid
    /// is not reported again.
    fn check(&self, errors: &mut Errors) {
        const KEYS: &str = "ROSETTA_ENCRYPTION_KEYS";
        if self.app_env == AppEnv::Production
            && self.encryption_keys.is_empty()
            && !errors.reported(KEYS)
        {
            errors.add(
                KEYS,
                "required when APP_ENV is production (id:base64key, a 32-byte key)",
            );
        }
        if self.metrics_require_auth && self.no_api_keys(errors) {
            errors.add("METRICS_REQUIRE_AUTH", "needs API_KEYS to be set");
        }
    }

    /// An API without keys is served on a loopback address only, unless asked for.
    fn check_listener(&self, errors: &mut Errors) {
        if self.no_api_keys(errors)
            && !self.allow_unauthenticated
            && !errors.reported("HOST")
            && !is_loopback(&self.host)
        {
            errors.add(
                "HOST",
                format!(
                    "{} is not a loopback address and API_KEYS is not set, so anyone who can \
                     reach it could change the catalogue: set API_KEYS, or \
                     ALLOW_UNAUTHENTICATED=true to serve an open API",
                    self.host
                ),
            );
        }
    }

    /// Whether the API is open: no key given (a key given but invalid is reported already).
    fn no_api_keys(&self, errors: &Errors) -> bool {
        self.api_keys.is_empty() && !errors.reported("API_KEYS")
    }
}

/// Every problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.0.join("; "))
    }
}

impl std::error::Error for ConfigErrors {}

fn one_per_cpu() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Whether `host` (a valid `HOST`) only accepts connections from this machine.
fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How a list of secrets is shown: by count only.
fn count<T>(values: &[T]) -> String {
    match values.len() {
        0 => "none".to_owned(),
        n => format!("{n} key(s)"),
    }
}

fn database_url(raw: &str) -> Result<String, Invalid> {
    match DatabaseTarget::parse(raw) {
        Ok(_) => Ok(raw.to_owned()),
        Err(e) => Err(e.to_string().into()),
    }
}

fn host(raw: &str) -> Result<String, Invalid> {
    if raw == "localhost" || raw.parse::<IpAddr>().is_ok() {
        Ok(raw.to_owned())
    } else {
        Err(format!("must be an IP address or localhost, got '{raw}'").into())
    }
}

fn log_level(raw: &str) -> Result<String, Invalid> {
    let level = raw.to_ascii_lowercase();
    if tracing_subscriber::EnvFilter::try_new(&level).is_ok() {
        Ok(level)
    } else {
        Err(format!(
            "must be a level (error, warn, info, debug, trace) or a tracing filter, got '{level}'"
        )
        .into())
    }
}

/// `ROSETTA_ENCRYPTION_KEYS`: errors name the entry by position and never quote a key.
fn encryption_keys(raw: &str) -> Result<Vec<KeySpec>, Invalid> {
    parse_keys(raw, KeyText::Variable).map_err(Invalid::many)
}

/// `API_KEYS`: comma-separated bearer keys. Errors name the key by position, never quote it.
fn api_keys(raw: &str) -> Result<Vec<String>, Invalid> {
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for (index, key) in raw.split(',').map(str::trim).enumerate() {
        if key.len() >= 16 && key.bytes().all(|b| b.is_ascii_graphic()) {
            keys.push(key.to_owned());
        } else {
            problems.push(format!(
                "key {} must be at least 16 visible ASCII characters without spaces",
                index + 1
            ));
        }
    }
    if problems.is_empty() {
        Ok(keys)
    } else {
        Err(Invalid::many(problems))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The names of the settings reported, in order.
    fn names(errors: &ConfigErrors) -> Vec<&str> {
        errors
            .0
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect()
    }

    #[test]
    fn defaults_match_the_first_implementation_but_listen_on_loopback() {
        let config = Config::from_vars(&HashMap::new()).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.pool, PoolSettings::default());
        assert_eq!(config.pool.max_connections(), 30);
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 8000));
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(config.cors_origins.is_empty());
    }

    #[test]
    fn pool_settings_are_read_from_their_variables() {
        let config = Config::from_vars(&vars(&[
            ("DB_POOL_SIZE", "5"),
            ("DB_MAX_OVERFLOW", "0"),
            ("DB_POOL_TIMEOUT", "3"),
            ("DB_POOL_PRE_PING", "false"),
            ("DB_POOL_RECYCLE", "60"),
        ]))
        .unwrap();
        assert_eq!(
            config.pool,
            PoolSettings {
                size: 5,
                max_overflow: 0,
                timeout: Duration::from_secs(3),
                pre_ping: false,
                recycle: Duration::from_secs(60),
            }
        );
    }

    #[test]
    fn every_invalid_setting_is_reported_at_once_without_secrets() {
        let errors = Config::from_vars(&vars(&[
            ("DATABASE_URL", "mysql://user:s3cret@host/db"),
            ("DB_POOL_SIZE", "0"),
            ("DB_MAX_OVERFLOW", "-1"),
            ("DB_POOL_TIMEOUT", "soon"),
            ("DB_POOL_PRE_PING", "maybe"),
            ("PORT", "70000"),
            ("LOG_FORMAT", "xml"),
        ]))
        .unwrap_err();
        let names = names(&errors);
        assert_eq!(
            names,
            [
                "DATABASE_URL",
                "DB_POOL_SIZE",
                "DB_MAX_OVERFLOW",
                "DB_POOL_TIMEOUT",
                "DB_POOL_PRE_PING",
                "PORT",
                "LOG_FORMAT"
            ]
        );
        assert!(!errors.to_string().contains("s3cret"));
    }

    #[test]
    fn the_wal_monitor_defaults_follow_the_issue() {
        let config = Config::from_vars(&HashMap::new()).unwrap();
        assert_eq!(config.monitor, MonitorSettings::default());
        assert_eq!(config.wal_thresholds, WalThresholds::default());
        assert!(config.wal_monitor_enabled);
        assert_eq!(config.monitor.interval, Duration::from_secs(300));
        assert_eq!(config.monitor.concurrency, 16);
        assert_eq!(config.monitor.max_retries, 3);
        assert_eq!(config.monitor.probe_timeout, Duration::from_secs(30));
        assert_eq!(config.monitor.retention, Duration::from_secs(30 * 86_400));
        assert_eq!(config.wal_thresholds.warn_bytes, 1_073_741_824);
        assert_eq!(config.wal_thresholds.critical_bytes, 5_368_709_120);
    }

    #[test]
    fn wal_monitor_settings_are_read_and_checked() {
        let config = Config::from_vars(&vars(&[
            ("WAL_MONITOR_ENABLED", "false"),
            ("WAL_MONITOR_INTERVAL_SECONDS", "1"),
            ("WAL_MONITOR_CONCURRENCY", "4"),
            ("WAL_MONITOR_MAX_RETRIES", "0"),
            ("WAL_MONITOR_TIMEOUT_SECONDS", "5"),
            ("WAL_METRICS_RETENTION_DAYS", "7"),
            ("WAL_SLOT_WARN_BYTES", "100"),
            ("WAL_SLOT_CRITICAL_BYTES", "200"),
        ]))
        .unwrap();
        assert!(!config.wal_monitor_enabled);
        assert_eq!(
            config.monitor,
            MonitorSettings {
                interval: Duration::from_secs(1),
                concurrency: 4,
                max_retries: 0,
                probe_timeout: Duration::from_secs(5),
                retention: Duration::from_secs(7 * 86_400),
            }
        );
        assert_eq!(
            config.wal_thresholds,
            WalThresholds {
                warn_bytes: 100,
                critical_bytes: 200,
            }
        );
        let errors = Config::from_vars(&vars(&[
            ("WAL_MONITOR_ENABLED", "sometimes"),
            ("WAL_MONITOR_INTERVAL_SECONDS", "0"),
            ("WAL_MONITOR_CONCURRENCY", "0"),
            ("WAL_MONITOR_MAX_RETRIES", "11"),
            ("WAL_MONITOR_TIMEOUT_SECONDS", "-1"),
            ("WAL_METRICS_RETENTION_DAYS", "0"),
            ("WAL_SLOT_WARN_BYTES", "500"),
            ("WAL_SLOT_CRITICAL_BYTES", "400"),
        ]))
        .unwrap_err();
        let names = names(&errors);
        assert_eq!(
            names,
            [
                "WAL_MONITOR_ENABLED",
                "WAL_MONITOR_INTERVAL_SECONDS",
                "WAL_MONITOR_CONCURRENCY",
                "WAL_MONITOR_MAX_RETRIES",
                "WAL_MONITOR_TIMEOUT_SECONDS",
                "WAL_METRICS_RETENTION_DAYS",
                "WAL_SLOT_CRITICAL_BYTES",
            ]
        );
    }

    #[test]
    fn keys_are_read_sorted_and_never_shown() {
        let config = Config::from_vars(&vars(&[
            (
                "ROSETTA_ENCRYPTION_KEYS",
                "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=, 1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
            ),
            ("API_KEYS", "first-key-0123456789,second-key-0123456789"),
            ("METRICS_REQUIRE_AUTH", "true"),
            ("APP_ENV", "production"),
            ("ROSETTA_DATA_DIR", "/var/lib/rosetta"),
        ]))
        .unwrap();
        assert_eq!(
            config
                .encryption_keys
                .iter()
                .map(|k| k.id)
                .collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(config.encryption_keys[1].key, [2_u8; 32]);
        assert_eq!(config.api_keys.len(), 2);
        assert!(config.metrics_require_auth);
        assert_eq!(config.app_env, AppEnv::Production);
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/rosetta"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("AgICAg"), "{shown}");
        assert!(!shown.contains("first-key"), "{shown}");
    }

    #[test]
    fn bad_keys_are_reported_by_position_without_their_value() {
        let errors = Config::from_vars(&vars(&[
            (
                "ROSETTA_ENCRYPTION_KEYS",
                "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=,0:AQEB,1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=,short-secret-key",
            ),
            ("API_KEYS", "tiny-secret,good-key-0123456789"),
            ("APP_ENV", "staging"),
        ]))
        .unwrap_err();
        let text = errors.to_string();
        assert!(
            text.contains("ROSETTA_ENCRYPTION_KEYS: entry 2 must be id:base64key"),
            "{text}"
        );
        assert!(text.contains("entry 3 repeats key id 1"), "{text}");
        assert!(text.contains("entry 4 must be"), "{text}");
        assert!(text.contains("API_KEYS: key 1 must be"), "{text}");
        assert!(
            text.contains("APP_ENV: must be development or production"),
            "{text}"
        );
        assert!(!text.contains("short-secret"), "{text}");
        assert!(!text.contains("tiny-secret"), "{text}");
    }

    #[test]
    fn production_needs_an_encryption_key_and_metrics_auth_needs_api_keys() {
        let errors = Config::from_vars(&vars(&[
            ("APP_ENV", "production"),
            ("METRICS_REQUIRE_AUTH", "true"),
        ]))
        .unwrap_err();
        let names = names(&errors);
        assert_eq!(names, ["ROSETTA_ENCRYPTION_KEYS", "METRICS_REQUIRE_AUTH"]);
        let development = Config::from_vars(&HashMap::new()).unwrap();
        assert_eq!(development.app_env, AppEnv::Development);
        assert!(development.encryption_keys.is_empty());
        assert!(development.api_keys.is_empty());
        assert_eq!(development.data_dir, PathBuf::from("data"));
    }

    #[test]
    fn the_debug_output_hides_the_database_password() {
        let config = Config::from_vars(&vars(&[(
            "DATABASE_URL",
            "postgres://u:s3cret@db:5433/meta",
        )]))
        .unwrap();
        let shown = format!("{config:?}");
        assert!(shown.contains("db:5433/meta"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn serve_without_api_keys_listens_on_loopback_by_default() {
        let config = Config::for_serve(&HashMap::new()).unwrap();
        assert_eq!(config.host, "127.0.0.1");
        assert!(config.api_keys.is_empty());
        for host in ["localhost", "127.0.0.2", "::1"] {
            let config = Config::for_serve(&vars(&[("HOST", host)])).unwrap();
            assert_eq!(config.host, host);
        }
    }

    #[test]
    fn serve_refuses_another_address_without_api_keys() {
        for host in ["0.0.0.0", "::", "10.1.2.3"] {
            let errors = Config::for_serve(&vars(&[("HOST", host)])).unwrap_err();
            assert_eq!(names(&errors), ["HOST"], "{errors}");
            let text = errors.to_string();
            for named in [host, "API_KEYS", "ALLOW_UNAUTHENTICATED=true"] {
                assert!(text.contains(named), "{named}: {text}");
            }
        }
        // Reported with every other problem, at once.
        let errors =
            Config::for_serve(&vars(&[("HOST", "0.0.0.0"), ("PORT", "http")])).unwrap_err();
        assert_eq!(names(&errors), ["PORT", "HOST"]);
        // Commands that do not listen take the same HOST (the container image sets it).
        assert!(Config::from_vars(&vars(&[("HOST", "0.0.0.0")])).is_ok());
    }

    #[test]
    fn an_open_api_on_another_address_must_be_asked_for() {
        let config = Config::for_serve(&vars(&[
            ("HOST", "0.0.0.0"),
            ("ALLOW_UNAUTHENTICATED", "true"),
        ]))
        .unwrap();
        assert!(config.allow_unauthenticated);
        assert!(config.api_keys.is_empty());
        assert!(!Config::default().allow_unauthenticated);
    }

    #[test]
    fn with_api_keys_serve_listens_where_it_is_told() {
        let keys = ("API_KEYS", "first-key-0123456789");
        let config = Config::for_serve(&vars(&[("HOST", "0.0.0.0"), keys])).unwrap();
        assert_eq!(config.host, "0.0.0.0");
        // The default stays loopback: a deployment says where to listen.
        let config = Config::for_serve(&vars(&[keys])).unwrap();
        assert_eq!(config.host, "127.0.0.1");
        // Invalid keys are reported as such, not as an open API as well.
        let errors =
            Config::for_serve(&vars(&[("HOST", "0.0.0.0"), ("API_KEYS", "short")])).unwrap_err();
        assert_eq!(names(&errors), ["API_KEYS"]);
    }
}
