//! Validated values: an instance of any of these types holds valid data by construction.

use std::fmt;

use crate::error::spelled_as;
use crate::InvalidValue;

/// The shortest name, host, database, user or publication the catalogue stores, in characters.
pub const MIN_TEXT_CHARS: usize = 1;

/// The longest name, host, database, user or publication the catalogue stores, in characters.
pub const MAX_TEXT_CHARS: usize = 255;

fn check_length(value: &str) -> Result<(), InvalidValue> {
    let chars = value.chars().count();
    if chars < MIN_TEXT_CHARS {
        return Err(InvalidValue::new("too_short", "must not be empty"));
    }
    if chars > MAX_TEXT_CHARS {
        return Err(InvalidValue::new(
            "too_long",
            format!("must be at most {MAX_TEXT_CHARS} characters, got {chars}"),
        ));
    }
    Ok(())
}

/// The checks of free text and secrets: their length, and no NUL character, which PostgreSQL
/// cannot store in text.
fn check_text(value: &str) -> Result<(), InvalidValue> {
    check_length(value)?;
    if value.contains('\0') {
        return Err(InvalidValue::new(
            "invalid_characters",
            "may only contain characters other than NUL",
        ));
    }
    Ok(())
}

/// `value` as a `u16` within `min..=max`.
fn check_range(value: i64, min: u16, max: u16) -> Result<u16, InvalidValue> {
    match u16::try_from(value) {
        Ok(number) if (min..=max).contains(&number) => Ok(number),
        _ => Err(InvalidValue::new(
            "out_of_range",
            format!("must be between {min} and {max}, got {value}"),
        )),
    }
}

/// `value`, when it is `min` or more.
fn check_at_least(value: i64, min: i64) -> Result<i64, InvalidValue> {
    if value >= min {
        Ok(value)
    } else {
        Err(InvalidValue::new(
            "out_of_range",
            format!("must be {min} or more, got {value}"),
        ))
    }
}

/// The reading side of a validated string value, the same for each of them: the string
/// (`as_str`, documented by `$as_str`), the owned string (`into_string`) and `Display`.
macro_rules! string_value {
    ($type:ident, $as_str:literal) => {
        impl $type {
            #[doc = $as_str]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value, as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The characters a kind of name may hold: ASCII letters and digits, and a few others.
///
/// The check of a name and every description of it (its error message, the pattern an API
/// documents) derive from this one value, so that they cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset {
    extra: &'static [char],
}

impl Charset {
    /// ASCII letters and digits, and the characters of `extra`.
    pub const fn alphanumeric_and(extra: &'static [char]) -> Self {
        Self { extra }
    }

    /// The characters allowed besides ASCII letters and digits.
    pub const fn extra(self) -> &'static [char] {
        self.extra
    }

    /// Whether `c` is allowed.
    pub fn allows(self, c: char) -> bool {
        c.is_ascii_alphanumeric() || self.extra.contains(&c)
    }

    /// How messages name it: `letters, digits, '_' and '-'`.
    pub fn describe(self) -> String {
        let mut parts = vec!["letters".to_owned(), "digits".to_owned()];
        parts.extend(self.extra.iter().map(|c| format!("'{c}'")));
        let last = parts.pop().unwrap_or_default();
        format!("{} and {last}", parts.join(", "))
    }

    fn check(self, value: &str) -> Result<(), InvalidValue> {
        if value.chars().all(|c| self.allows(c)) {
            Ok(())
        } else {
            Err(InvalidValue::new(
                "invalid_characters",
                format!("may only contain {}", self.describe()),
            ))
        }
    }
}

/// The name of a source, destination or pipeline: 1–255 characters of `[A-Za-z0-9_-]`, kept
/// lower-cased so that `Orders` and `orders` are the same name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    /// The characters a name may hold: `[A-Za-z0-9_-]`.
    pub const CHARSET: Charset = Charset::alphanumeric_and(&['_', '-']);

    /// Validates and lower-cases a name.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when the name is empty, longer than 255 characters or holds a character
    /// outside `[A-Za-z0-9_-]`.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        Self::check(value)?;
        Ok(Self(value.to_ascii_lowercase()))
    }

    /// Validates and lower-cases a name it takes ownership of, without copying it when it is
    /// already lower-case.
    ///
    /// # Errors
    ///
    /// As [`Name::parse`].
    pub fn parse_owned(mut value: String) -> Result<Self, InvalidValue> {
        Self::check(&value)?;
        value.make_ascii_lowercase();
        Ok(Self(value))
    }

    fn check(value: &str) -> Result<(), InvalidValue> {
        check_length(value)?;
        Self::CHARSET.check(value)
    }
}

string_value!(Name, "The lower-cased name.");

/// A PostgreSQL publication name: 1–255 characters of `[A-Za-z0-9_]`, kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicationName(String);

impl PublicationName {
    /// The characters a publication name may hold: `[A-Za-z0-9_]`.
    pub const CHARSET: Charset = Charset::alphanumeric_and(&['_']);

    /// Validates a publication name.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when it is empty, too long or holds a character outside `[A-Za-z0-9_]`.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        Self::parse_owned(value.to_owned())
    }

    /// Validates a publication name it takes ownership of.
    ///
    /// # Errors
    ///
    /// As [`PublicationName::parse`].
    pub fn parse_owned(value: String) -> Result<Self, InvalidValue> {
        check_length(&value)?;
        Self::CHARSET.check(&value)?;
        Ok(Self(value))
    }
}

string_value!(PublicationName, "The publication name.");

/// Free text of 1–255 characters (a host, a database, a user name…). NUL characters are refused
/// because PostgreSQL cannot store them in text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text(String);

impl Text {
    /// Validates a piece of text.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when it is empty, longer than 255 characters or holds a NUL character.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        Self::parse_owned(value.to_owned())
    }

    /// Validates text it takes ownership of.
    ///
    /// # Errors
    ///
    /// As [`Text::parse`].
    pub fn parse_owned(value: String) -> Result<Self, InvalidValue> {
        check_text(&value)?;
        Ok(Self(value))
    }

    /// Text the domain itself defines (a default), which a test shows to be valid.
    pub(crate) fn known_valid(value: &'static str) -> Self {
        debug_assert!(Self::parse(value).is_ok(), "{value:?} is not valid text");
        Self(value.to_owned())
    }
}

string_value!(Text, "The text.");

/// A password or passphrase: 1–255 characters, write-only.
///
/// Its `Debug` output is redacted, it implements no `Display`, and it is read only through
/// [`Secret::expose`], so it cannot reach a log line or a response by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Validates a secret.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when it is empty, longer than 255 characters or holds a NUL character; the
    /// error never quotes the value.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        Self::parse_owned(value.to_owned())
    }

    /// Validates a secret it takes ownership of.
    ///
    /// # Errors
    ///
    /// As [`Secret::parse`].
    pub fn parse_owned(value: String) -> Result<Self, InvalidValue> {
        check_text(&value)?;
        Ok(Self(value))
    }

    /// The secret in clear, for the one place that must use it (a connection, an encryption).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"[REDACTED]\")")
    }
}

/// A TCP port, 1–65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortNumber(u16);

impl PortNumber {
    /// PostgreSQL's default port.
    pub const POSTGRES_DEFAULT: Self = Self(5432);

    /// The smallest port.
    pub const MIN: u16 = 1;

    /// The largest port.
    pub const MAX: u16 = u16::MAX;

    /// Validates a port number.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when the number is outside 1–65535.
    pub fn new(value: i64) -> Result<Self, InvalidValue> {
        check_range(value, Self::MIN, Self::MAX).map(Self)
    }

    /// The port.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for PortNumber {
    fn default() -> Self {
        Self::POSTGRES_DEFAULT
    }
}

/// The number that identifies a source's replication slot: an integer ≥ 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplicationId(i64);

impl ReplicationId {
    /// The smallest replication id.
    pub const MIN: i64 = 0;

    /// Validates a replication id.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when the number is negative.
    pub fn new(value: i64) -> Result<Self, InvalidValue> {
        check_at_least(value, Self::MIN).map(Self)
    }

    /// The replication id.
    pub const fn get(self) -> i64 {
        self.0
    }
}

/// How many rows a page holds: 1–1000, 100 unless asked otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u16);

impl Limit {
    /// The smallest page.
    pub const MIN: u16 = 1;

    /// The largest page.
    pub const MAX: u16 = 1000;

    /// Validates a page size.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when it is outside 1–1000.
    pub fn new(value: i64) -> Result<Self, InvalidValue> {
        check_range(value, Self::MIN, Self::MAX).map(Self)
    }

    /// The page size.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(100)
    }
}

/// A page of a list ordered by id: skip `skip` rows, then return at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageRequest {
    skip: i64,
    limit: Limit,
}

impl PageRequest {
    /// The fewest rows a page may skip.
    pub const MIN_SKIP: i64 = 0;

    /// Validates a page request.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] when `skip` is negative.
    pub fn new(skip: i64, limit: Limit) -> Result<Self, InvalidValue> {
        let skip = check_at_least(skip, Self::MIN_SKIP)?;
        Ok(Self { skip, limit })
    }

    /// How many rows to skip.
    pub const fn skip(self) -> i64 {
        self.skip
    }

    /// How many rows to return at most.
    pub const fn limit(self) -> Limit {
        self.limit
    }
}

/// What deleting a source or destination does to the pipelines that use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Refuse while a pipeline uses it.
    Restrict,
    /// Delete the pipelines that use it too.
    Cascade,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_cased_and_limited_to_their_alphabet() {
        assert_eq!(
            Name::parse("Orders_EU-1").map(|n| n.0),
            Ok("orders_eu-1".into())
        );
        assert_eq!(Name::parse("").map_err(|e| e.rule()), Err("too_short"));
        assert_eq!(
            Name::parse("a b").map_err(|e| e.rule()),
            Err("invalid_characters")
        );
        assert_eq!(
            Name::parse("é").map_err(|e| e.rule()),
            Err("invalid_characters")
        );
        assert!(Name::parse(&"a".repeat(255)).is_ok());
        assert_eq!(
            Name::parse(&"a".repeat(256)).map_err(|e| e.rule()),
            Err("too_long")
        );
    }

    #[test]
    fn charsets_describe_themselves_as_their_errors_say() {
        assert_eq!(Name::CHARSET.describe(), "letters, digits, '_' and '-'");
        assert_eq!(
            PublicationName::CHARSET.describe(),
            "letters, digits and '_'"
        );
        assert_eq!(
            Name::parse("a b").map_err(|e| e.message().to_owned()),
            Err("may only contain letters, digits, '_' and '-'".to_owned())
        );
        assert_eq!(
            PublicationName::parse("a-b").map_err(|e| e.message().to_owned()),
            Err("may only contain letters, digits and '_'".to_owned())
        );
    }

    #[test]
    fn publication_names_refuse_dashes_and_keep_their_case() {
        assert_eq!(
            PublicationName::parse("Pub_1").map(|p| p.0),
            Ok("Pub_1".into())
        );
        assert!(PublicationName::parse("pub-1").is_err());
    }

    #[test]
    fn text_counts_characters_not_bytes_and_refuses_nul() {
        assert!(Text::parse(&"é".repeat(255)).is_ok());
        assert!(Text::parse(&"é".repeat(256)).is_err());
        assert!(Text::parse("a\0b").is_err());
    }

    #[test]
    fn secrets_never_show_in_debug_output_nor_in_their_errors() {
        let secret = Secret::parse("hunter2").map_err(|e| e.to_string());
        assert_eq!(format!("{secret:?}"), "Ok(Secret(\"[REDACTED]\"))");
        let too_long = "s3cr3t".repeat(50);
        let error = Secret::parse(&too_long)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(!format!("{error:?}").contains("s3cr3t"));
    }

    #[test]
    fn numbers_are_checked_against_their_ranges() {
        assert!(PortNumber::new(0).is_err());
        assert!(PortNumber::new(65_536).is_err());
        assert_eq!(PortNumber::new(65_535).map(PortNumber::get), Ok(65_535));
        assert!(ReplicationId::new(-1).is_err());
        assert!(ReplicationId::new(0).is_ok());
        assert!(Limit::new(0).is_err());
        assert!(Limit::new(1001).is_err());
        assert_eq!(Limit::default().get(), 100);
        assert!(PageRequest::new(-1, Limit::default()).is_err());
    }

    #[test]
    fn unknown_spellings_are_refused_naming_every_spelling_in_order() {
        use crate::{DestinationType, PipelineMetadataStatus, PipelineStatus, WalBucket};
        let refused = |error: InvalidValue| (error.rule(), error.message().to_owned());
        let expected = |message: &str| ("unknown_variant", message.to_owned());
        assert_eq!(
            refused("start".parse::<PipelineStatus>().unwrap_err()),
            expected("must be one of START, PAUSE, REFRESH")
        );
        assert_eq!(
            refused("STOPPED".parse::<PipelineMetadataStatus>().unwrap_err()),
            expected("must be one of RUNNING, PAUSED, ERROR")
        );
        assert_eq!(
            refused("mysql".parse::<DestinationType>().unwrap_err()),
            expected("must be one of SNOWFLAKE, POSTGRES")
        );
        assert_eq!(
            "Postgres".parse::<DestinationType>(),
            Ok(DestinationType::Postgres)
        );
        assert_eq!(
            refused("2h".parse::<WalBucket>().unwrap_err()),
            expected("must be one of 1m, 5m, 1h, 1d")
        );
        assert_eq!(
            refused("verify-ca".parse::<SslMode>().unwrap_err()),
            expected("must be one of disable, prefer, require, verify-full")
        );
    }

    #[test]
    fn ssl_modes_read_and_write_libpq_spellings() {
        for mode in SslMode::ALL {
            assert_eq!(mode.as_str().parse::<SslMode>(), Ok(mode));
        }
        assert_eq!(SslMode::default(), SslMode::Prefer);
        assert_eq!("verify-full".parse::<SslMode>(), Ok(SslMode::VerifyFull));
        let error = "verify-ca".parse::<SslMode>().unwrap_err();
        assert_eq!(error.rule(), "unknown_variant");
    }
}

/// Whether and how the connections to a source use TLS, as libpq's `sslmode` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SslMode {
    /// Plain TCP, never TLS (`disable`).
    Disable,
    /// TLS when the server offers it, plain TCP otherwise; the certificate is not checked
    /// (`prefer`, the default).
    #[default]
    Prefer,
    /// TLS or no connection; the certificate is not checked (`require`).
    Require,
    /// TLS with a certificate that a trusted authority signed for the source's host name
    /// (`verify-full`).
    VerifyFull,
}

impl SslMode {
    /// Every mode, in the order of the strength of their guarantees.
    pub const ALL: [Self; 4] = [Self::Disable, Self::Prefer, Self::Require, Self::VerifyFull];

    /// The spelling used by the API and stored: `disable`, `prefer`, `require`, `verify-full`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SslMode {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        spelled_as(value, &Self::ALL, Self::as_str)
    }
}
