//! Destinations: where pipelines deliver, each with a typed configuration.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::spelled_as;
use crate::{DestinationId, InvalidValue, Name, PortNumber, Secret, Text};

/// The kinds of destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DestinationType {
    /// A Snowflake account.
    Snowflake,
    /// A PostgreSQL database.
    Postgres,
}

impl DestinationType {
    /// Every type.
    pub const ALL: [Self; 2] = [Self::Snowflake, Self::Postgres];

    /// The upper-case spelling used by the API and the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Snowflake => "SNOWFLAKE",
            Self::Postgres => "POSTGRES",
        }
    }
}

impl fmt::Display for DestinationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DestinationType {
    type Err = InvalidValue;

    /// Accepts the type in any case (`snowflake`, `Postgres`, …).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        spelled_as(&value.to_ascii_uppercase(), &Self::ALL, Self::as_str)
    }
}

/// How a Snowflake destination keeps the source's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SnowflakeMode {
    /// Each table kept equal to its source table (`mirror`, the default).
    #[default]
    Mirror,
    /// An append-only `LANDING_<TABLE>` per source table: the row's columns and what changed
    /// (`changelog`).
    Changelog,
}

impl SnowflakeMode {
    /// Every mode.
    pub const ALL: [Self; 2] = [Self::Mirror, Self::Changelog];

    /// The lower-case spelling used by the API and the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mirror => "mirror",
            Self::Changelog => "changelog",
        }
    }
}

impl fmt::Display for SnowflakeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SnowflakeMode {
    type Err = InvalidValue;

    /// Accepts the mode in any case (`Changelog`, `MIRROR`, …).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        spelled_as(&value.to_ascii_lowercase(), &Self::ALL, Self::as_str)
    }
}

/// How to reach a Snowflake account, and how its tables are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnowflakeConfig {
    /// Account identifier.
    pub account: Text,
    /// User that loads the data.
    pub user: Text,
    /// Database written to.
    pub database: Text,
    /// Schema written to.
    pub schema: Text,
    /// Role to assume.
    pub role: Option<Text>,
    /// Warehouse that runs the loads.
    pub warehouse: Option<Text>,
    /// Host, when not derived from the account.
    pub host: Option<Text>,
    /// Path of the private key used for key-pair authentication.
    pub private_key_path: Option<Text>,
    /// Passphrase of that private key (write-only).
    pub private_key_passphrase: Option<Secret>,
    /// How tables are written (mirror unless said otherwise).
    pub mode: SnowflakeMode,
}

/// How to reach a PostgreSQL destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// Host name or address.
    pub host: Text,
    /// Port, 5432 unless said otherwise.
    pub port: PortNumber,
    /// Database written to.
    pub database: Text,
    /// Role that writes.
    pub username: Text,
    /// Schema written to, `public` unless said otherwise.
    pub schema: Text,
    /// Password of that role (write-only).
    pub password: Option<Secret>,
}

impl PostgresConfig {
    /// The schema written to when a configuration names none.
    pub const DEFAULT_SCHEMA: &'static str = "public";

    /// [`PostgresConfig::DEFAULT_SCHEMA`], as the value a configuration holds.
    pub fn default_schema() -> Text {
        Text::known_valid(Self::DEFAULT_SCHEMA)
    }
}

/// A destination's type together with its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationConfig {
    /// A Snowflake destination.
    Snowflake(SnowflakeConfig),
    /// A PostgreSQL destination.
    Postgres(PostgresConfig),
}

impl DestinationConfig {
    /// The type of this configuration.
    pub const fn destination_type(&self) -> DestinationType {
        match self {
            Self::Snowflake(_) => DestinationType::Snowflake,
            Self::Postgres(_) => DestinationType::Postgres,
        }
    }

    /// Keeps the stored secret when a replacement configuration of the same type leaves its
    /// secret out, so that a client editing a destination does not have to send the secret again.
    #[must_use]
    pub fn keeping_secret_of(mut self, stored: &Self) -> Self {
        match (&mut self, stored) {
            (Self::Snowflake(new), Self::Snowflake(old))
                if new.private_key_passphrase.is_none() =>
            {
                new.private_key_passphrase
                    .clone_from(&old.private_key_passphrase);
            }
            (Self::Postgres(new), Self::Postgres(old)) if new.password.is_none() => {
                new.password.clone_from(&old.password);
            }
            _ => {}
        }
        self
    }
}

/// Where a pipeline delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Its id.
    pub id: DestinationId,
    /// Its unique, lower-cased name.
    pub name: Name,
    /// Its type and configuration.
    pub config: DestinationConfig,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What creating a destination needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDestination {
    /// Its unique name.
    pub name: Name,
    /// Its type and configuration.
    pub config: DestinationConfig,
}

/// A partial update of a destination: `None` keeps the stored value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DestinationUpdate {
    /// A new name.
    pub name: Option<Name>,
    /// A replacement configuration (it may change the type).
    pub config: Option<DestinationConfig>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Text {
        Text::parse(value).unwrap_or_else(|e| panic!("{value}: {e}"))
    }

    fn postgres(password: Option<&str>) -> DestinationConfig {
        DestinationConfig::Postgres(PostgresConfig {
            host: text("db"),
            port: PortNumber::default(),
            database: text("dw"),
            username: text("loader"),
            schema: text("public"),
            password: password.map(|p| Secret::parse(p).unwrap_or_else(|e| panic!("{e}"))),
        })
    }

    #[test]
    fn the_default_schema_is_valid_text() {
        assert_eq!(
            Text::parse(PostgresConfig::DEFAULT_SCHEMA),
            Ok(PostgresConfig::default_schema())
        );
    }

    #[test]
    fn types_parse_in_any_case() {
        assert_eq!("snowflake".parse(), Ok(DestinationType::Snowflake));
        assert_eq!("Postgres".parse(), Ok(DestinationType::Postgres));
        assert!("mysql".parse::<DestinationType>().is_err());
    }

    #[test]
    fn snowflake_modes_parse_in_any_case_and_default_to_mirror() {
        assert_eq!(SnowflakeMode::default(), SnowflakeMode::Mirror);
        for mode in SnowflakeMode::ALL {
            assert_eq!(mode.as_str().parse(), Ok(mode));
            assert_eq!(mode.as_str().to_ascii_uppercase().parse(), Ok(mode));
        }
        assert_eq!("ChangeLog".parse(), Ok(SnowflakeMode::Changelog));
        let error = "append".parse::<SnowflakeMode>().unwrap_err();
        assert_eq!(error.rule(), "unknown_variant");
        assert_eq!(error.message(), "must be one of mirror, changelog");
    }

    #[test]
    fn a_replacement_config_without_secret_keeps_the_stored_one() {
        let merged = postgres(None).keeping_secret_of(&postgres(Some("old")));
        assert_eq!(merged, postgres(Some("old")));
        let replaced = postgres(Some("new")).keeping_secret_of(&postgres(Some("old")));
        assert_eq!(replaced, postgres(Some("new")));
    }
}
