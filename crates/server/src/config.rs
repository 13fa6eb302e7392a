//! The service's configuration: read from the settings given (flags, the environment, an
//! optional `.env`; see `cli.rs`), every value checked, every problem reported at once.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use rosetta_metadata_store::migrations::DatabaseTarget;
use rosetta_metadata_store::PoolSettings;

use crate::telemetry::LogFormat;

/// The metadata database used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/rosetta";

/// Everything `rosetta` reads from its environment.
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: the metadata database (it may hold a password: never log it whole).
    pub database_url: String,
    /// `DB_POOL_*`: the metadata pool.
    pub pool: PoolSettings,
    /// `HOST`: the address `serve` listens on.
    pub host: String,
    /// `PORT`: the port `serve` listens on (0 picks a free one).
    pub port: u16,
    /// `LOG_LEVEL`: a `tracing` filter such as `info` or `rosetta=debug,info`.
    pub log_level: String,
    /// `LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
    /// `CORS_ORIGINS`: origins allowed to call the API from a browser (`*` for any).
    pub cors_origins: Vec<String>,
    /// `HTTP_WORKERS`: threads serving HTTP (default: one per CPU).
    pub http_workers: usize,
    /// `WAL_MONITOR_*`, `WAL_METRICS_RETENTION_DAYS`, `WAL_SLOT_*_BYTES`: the WAL monitor.
    pub monitor: MonitorConfig,
    /// `APP_ENV`: `development` (the default) or `production`, where nothing is generated for
    /// the operator (an encryption key must be given).
    pub app_env: AppEnv,
    /// `ROSETTA_ENCRYPTION_KEYS`: the keys that encrypt secrets at rest, `id:base64key,…`;
    /// new writes use the highest id. Empty when not set.
    pub encryption_keys: Vec<KeySpec>,
    /// `ROSETTA_DATA_DIR`: where `serve` keeps what it generates (the key file when no key is
    /// configured); `data` by default, relative to the working directory.
    pub data_dir: PathBuf,
    /// `API_KEYS`: bearer keys accepted on `/api/v1`; the API is open when empty.
    pub api_keys: Vec<String>,
    /// `METRICS_REQUIRE_AUTH`: whether `/metrics` needs an API key too (false).
    pub metrics_require_auth: bool,
}

/// The environment the service runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppEnv {
    /// A developer's machine or a test: missing keys are generated.
    #[default]
    Development,
    /// Production: nothing is generated; every key must be configured.
    Production,
}

/// One encryption key of `ROSETTA_ENCRYPTION_KEYS`: its id and its 32 bytes. `Debug` shows the
/// id only.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// The key's id (1 or more), stored beside every value it encrypts.
    pub id: u32,
    /// The key (AES-256-GCM).
    pub key: [u8; 32],
}

impl fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySpec")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The WAL monitor's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorConfig {
    /// `WAL_MONITOR_ENABLED` (true): whether this instance schedules monitor cycles.
    pub enabled: bool,
    /// `WAL_MONITOR_INTERVAL_SECONDS` (300): time between cycles.
    pub interval: Duration,
    /// `WAL_MONITOR_CONCURRENCY` (16): probes running at once.
    pub concurrency: usize,
    /// `WAL_MONITOR_MAX_RETRIES` (3): retries of a failed probe within a cycle.
    pub max_retries: u32,
    /// `WAL_MONITOR_TIMEOUT_SECONDS` (30): how long one probe may take.
    pub timeout: Duration,
    /// `WAL_METRICS_RETENTION_DAYS` (30): how long samples are kept.
    pub retention_days: u32,
    /// `WAL_SLOT_WARN_BYTES` (1 GiB): retained WAL above which a slot is a warning.
    pub slot_warn_bytes: i64,
    /// `WAL_SLOT_CRITICAL_BYTES` (5 GiB): retained WAL above which a slot is critical.
    pub slot_critical_bytes: i64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: Duration::from_secs(300),
            concurrency: 16,
            max_retries: 3,
            timeout: Duration::from_secs(30),
            retention_days: 30,
            slot_warn_bytes: 1 << 30,
            slot_critical_bytes: 5 << 30,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database", &self.database_target())
            .field("pool", &self.pool)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("log_level", &self.log_level)
            .field("log_format", &self.log_format)
            .field("cors_origins", &self.cors_origins)
            .field("http_workers", &self.http_workers)
            .field("monitor", &self.monitor)
            .field("app_env", &self.app_env)
            .field("encryption_keys", &self.encryption_keys)
            .field("data_dir", &self.data_dir)
            .field("api_keys", &format_args!("{} key(s)", self.api_keys.len()))
            .field("metrics_require_auth", &self.metrics_require_auth)
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

    /// Reads the configuration from a set of variables.
    ///
    /// # Errors
    ///
    /// Every invalid setting, each with its name and the rule it broke.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigErrors> {
        let mut reader = Reader {
            vars,
            errors: Vec::new(),
        };
        let database_url = reader.database_url();
        let defaults = PoolSettings::default();
        let pool = PoolSettings {
            size: reader.number("DB_POOL_SIZE", defaults.size, 1, 10_000),
            max_overflow: reader.number("DB_MAX_OVERFLOW", defaults.max_overflow, 0, 10_000),
            timeout: reader.seconds("DB_POOL_TIMEOUT", defaults.timeout),
            pre_ping: reader.boolean("DB_POOL_PRE_PING", defaults.pre_ping),
            recycle: reader.seconds("DB_POOL_RECYCLE", defaults.recycle),
        };
        let host = reader.get("HOST").unwrap_or("0.0.0.0").to_owned();
        if host.parse::<std::net::IpAddr>().is_err() && host != "localhost" {
            reader.errors.push(format!(
                "HOST: must be an IP address or localhost, got '{host}'"
            ));
        }
        let port = reader.number("PORT", 8000_u16, 0, u16::MAX);
        let log_level = reader
            .get("LOG_LEVEL")
            .unwrap_or("info")
            .to_ascii_lowercase();
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            reader.errors.push(format!(
                "LOG_LEVEL: must be a level (error, warn, info, debug, trace) or a tracing filter, got '{log_level}'"
            ));
        }
        let log_format = match reader
            .get("LOG_FORMAT")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                reader
                    .errors
                    .push(format!("LOG_FORMAT: must be text or json, got '{other}'"));
                LogFormat::Text
            }
        };
        let cors_origins = reader
            .get("CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let http_workers = reader.number("HTTP_WORKERS", cpus, 1, 1024);
        let monitor = reader.monitor();
        let app_env = match reader
            .get("APP_ENV")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(other) => {
                reader.errors.push(format!(
                    "APP_ENV: must be development or production, got '{other}'"
                ));
                AppEnv::Development
            }
        };
        let encryption_keys = reader.encryption_keys();
        if app_env == AppEnv::Production
            && encryption_keys.is_empty()
            && reader.get("ROSETTA_ENCRYPTION_KEYS").is_none()
        {
            reader.errors.push(
                "ROSETTA_ENCRYPTION_KEYS: required when APP_ENV is production (id:base64key, a 32-byte key)"
                    .to_owned(),
            );
        }
        let data_dir = PathBuf::from(reader.get("ROSETTA_DATA_DIR").unwrap_or("data"));
        let api_keys = reader.api_keys();
        let metrics_require_auth = reader.boolean("METRICS_REQUIRE_AUTH", false);
        if metrics_require_auth && api_keys.is_empty() && reader.get("API_KEYS").is_none() {
            reader
                .errors
                .push("METRICS_REQUIRE_AUTH: needs API_KEYS to be set".to_owned());
        }
        if reader.errors.is_empty() {
            Ok(Self {
                http_workers,
                monitor,
                app_env,
                encryption_keys,
                data_dir,
                api_keys,
                metrics_require_auth,
                database_url,
                pool,
                host,
                port,
                log_level,
                log_format,
                cors_origins,
            })
        } else {
            Err(ConfigErrors(reader.errors))
        }
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

struct Reader<'a> {
    vars: &'a HashMap<String, String>,
    errors: Vec<String>,
}

impl Reader<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn database_url(&mut self) -> String {
        let url = self
            .get("DATABASE_URL")
            .unwrap_or(DEFAULT_DATABASE_URL)
            .to_owned();
        if let Err(e) = DatabaseTarget::parse(&url) {
            self.errors.push(format!("DATABASE_URL: {e}"));
        }
        url
    }

    fn number<T>(&mut self, name: &str, default: T, min: T, max: T) -> T
    where
        T: FromStr + PartialOrd + fmt::Display + Copy,
    {
        let Some(raw) = self.get(name) else {
            return default;
        };
        match raw.parse::<T>() {
            Ok(value) if value >= min && value <= max => value,
            _ => {
                self.errors.push(format!(
                    "{name}: must be a whole number from {min} to {max}, got '{raw}'"
                ));
                default
            }
        }
    }

    fn seconds(&mut self, name: &str, default: Duration) -> Duration {
        let seconds = self.number(name, default.as_secs(), 1, 86_400 * 365);
        Duration::from_secs(seconds)
    }

    fn monitor(&mut self) -> MonitorConfig {
        let defaults = MonitorConfig::default();
        let config = MonitorConfig {
            enabled: self.boolean("WAL_MONITOR_ENABLED", defaults.enabled),
            interval: self.seconds("WAL_MONITOR_INTERVAL_SECONDS", defaults.interval),
            concurrency: self.number("WAL_MONITOR_CONCURRENCY", defaults.concurrency, 1, 1024),
            max_retries: self.number("WAL_MONITOR_MAX_RETRIES", defaults.max_retries, 0, 10),
            timeout: self.seconds("WAL_MONITOR_TIMEOUT_SECONDS", defaults.timeout),
            retention_days: self.number(
                "WAL_METRICS_RETENTION_DAYS",
                defaults.retention_days,
                1,
                3650,
            ),
            slot_warn_bytes: self.number(
                "WAL_SLOT_WARN_BYTES",
                defaults.slot_warn_bytes,
                1,
                i64::MAX,
            ),
            slot_critical_bytes: self.number(
                "WAL_SLOT_CRITICAL_BYTES",
                defaults.slot_critical_bytes,
                1,
                i64::MAX,
            ),
        };
        if config.slot_critical_bytes <= config.slot_warn_bytes {
            self.errors.push(format!(
                "WAL_SLOT_CRITICAL_BYTES: must be larger than WAL_SLOT_WARN_BYTES ({}), got '{}'",
                config.slot_warn_bytes, config.slot_critical_bytes
            ));
        }
        config
    }

    /// `ROSETTA_ENCRYPTION_KEYS`: `id:base64key` entries, comma-separated. Errors name the
    /// entry by position and never quote a key.
    fn encryption_keys(&mut self) -> Vec<KeySpec> {
        use base64::Engine as _;
        const NAME: &str = "ROSETTA_ENCRYPTION_KEYS";
        let Some(raw) = self.get(NAME).map(str::to_owned) else {
            return Vec::new();
        };
        let mut keys: Vec<KeySpec> = Vec::new();
        for (index, entry) in raw.split(',').map(str::trim).enumerate() {
            let position = index + 1;
            let parsed = entry.split_once(':').and_then(|(id, key)| {
                let id = id.trim().parse::<u32>().ok().filter(|id| *id >= 1)?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(key.trim())
                    .ok()?;
                let key: [u8; 32] = bytes.try_into().ok()?;
                Some(KeySpec { id, key })
            });
            match parsed {
                Some(spec) if keys.iter().any(|k| k.id == spec.id) => self.errors.push(format!(
                    "{NAME}: entry {position} repeats key id {}",
                    spec.id
                )),
                Some(spec) => keys.push(spec),
                None => self.errors.push(format!(
                    "{NAME}: entry {position} must be id:base64key, with an id of 1 or more and a base64 key of 32 bytes (openssl rand -base64 32)"
                )),
            }
        }
        keys.sort_by_key(|k| k.id);
        keys
    }

    /// `API_KEYS`: comma-separated bearer keys. Errors name the key by position, never quote it.
    fn api_keys(&mut self) -> Vec<String> {
        let Some(raw) = self.get("API_KEYS").map(str::to_owned) else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        for (index, key) in raw.split(',').map(str::trim).enumerate() {
            if key.len() >= 16 && key.bytes().all(|b| b.is_ascii_graphic()) {
                keys.push(key.to_owned());
            } else {
                self.errors.push(format!(
                    "API_KEYS: key {} must be at least 16 visible ASCII characters without spaces",
                    index + 1
                ));
            }
        }
        keys
    }

    fn boolean(&mut self, name: &str, default: bool) -> bool {
        let Some(raw) = self.get(name) else {
            return default;
        };
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                self.errors
                    .push(format!("{name}: must be true or false, got '{raw}'"));
                default
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_match_the_first_implementation() {
        let config = Config::from_vars(&HashMap::new()).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.pool, PoolSettings::default());
        assert_eq!(config.pool.max_connections(), 30);
        assert_eq!((config.host.as_str(), config.port), ("0.0.0.0", 8000));
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
        let names: Vec<_> = errors
            .0
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect();
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
        assert_eq!(config.monitor, MonitorConfig::default());
        assert!(config.monitor.enabled);
        assert_eq!(config.monitor.interval, Duration::from_secs(300));
        assert_eq!(config.monitor.concurrency, 16);
        assert_eq!(config.monitor.max_retries, 3);
        assert_eq!(config.monitor.timeout, Duration::from_secs(30));
        assert_eq!(config.monitor.retention_days, 30);
        assert_eq!(config.monitor.slot_warn_bytes, 1_073_741_824);
        assert_eq!(config.monitor.slot_critical_bytes, 5_368_709_120);
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
        assert_eq!(
            config.monitor,
            MonitorConfig {
                enabled: false,
                interval: Duration::from_secs(1),
                concurrency: 4,
                max_retries: 0,
                timeout: Duration::from_secs(5),
                retention_days: 7,
                slot_warn_bytes: 100,
                slot_critical_bytes: 200,
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
        let names: Vec<_> = errors
            .0
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect();
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
        let names: Vec<_> = errors
            .0
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect();
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
}
