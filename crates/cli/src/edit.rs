//! Creating and changing one entry from the command line: the values are checked as a
//! catalogue file's are (the same specs), secrets come from a prompt or standard input, never
//! from an argument.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};

use clap::Args;
use serde_json::Value;

use crate::catalogue::{source_update, DestinationSpec, SourceSpec};
use crate::remote::Failure;

/// Where a secret comes from.
#[derive(Debug, Clone, Copy, Args)]
pub struct SecretInput {
    /// Read the secret (password or key passphrase) from the first line of standard input.
    #[arg(long, conflicts_with = "password_prompt")]
    pub password_stdin: bool,
    /// Ask for the secret on the terminal, without echoing it.
    #[arg(long)]
    pub password_prompt: bool,
}

impl SecretInput {
    /// The secret, when one is to be given.
    pub fn read(self, what: &str) -> Result<Option<String>, Failure> {
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                Failure::error(format!("cannot read the {what} from standard input: {e}"))
            })?;
            let secret = line.trim_end_matches(['\n', '\r']).to_owned();
            if secret.is_empty() {
                return Err(Failure::usage(format!("no {what} on standard input")));
            }
            return Ok(Some(secret));
        }
        if self.password_prompt {
            if !std::io::stdin().is_terminal() {
                return Err(Failure::usage(format!(
                    "--password-prompt needs a terminal; give the {what} with --password-stdin"
                )));
            }
            let secret = rpassword::prompt_password(format!("{what}: "))
                .map_err(|e| Failure::error(format!("cannot read the {what}: {e}")))?;
            return Ok(Some(secret));
        }
        Ok(None)
    }
}

/// The fields of a source, every one optional (an update changes those given).
#[derive(Debug, Clone, Args)]
pub struct SourceFields {
    /// Its unique name.
    #[arg(long)]
    pub name: Option<String>,
    /// Host name or address of the server.
    #[arg(long)]
    pub host: Option<String>,
    /// Port of the server (5432 when created without it).
    #[arg(long)]
    pub port: Option<i64>,
    /// Database to replicate from.
    #[arg(long)]
    pub database: Option<String>,
    /// Role that connects.
    #[arg(long)]
    pub user: Option<String>,
    /// Publication whose tables are replicated.
    #[arg(long)]
    pub publication: Option<String>,
    /// Identifies the replication slot, 0 or more.
    #[arg(long)]
    pub replication_id: Option<i64>,
    /// disable, prefer (when created without it), require or verify-full.
    #[arg(long)]
    pub ssl_mode: Option<String>,
    /// The password.
    #[command(flatten)]
    pub secret: SecretInput,
}

impl SourceFields {
    /// The fields over `base` (those of the stored source, for an update).
    pub fn over(self, mut base: SourceSpec) -> Result<SourceSpec, Failure> {
        if let Some(v) = self.name {
            base.name = v;
        }
        if let Some(v) = self.host {
            base.pg_host = v;
        }
        if let Some(v) = self.port {
            base.pg_port = v;
        }
        if let Some(v) = self.database {
            base.pg_database = v;
        }
        if let Some(v) = self.user {
            base.pg_username = v;
        }
        if let Some(v) = self.publication {
            base.publication_name = v;
        }
        if let Some(v) = self.replication_id {
            base.replication_id = v;
        }
        if let Some(v) = self.ssl_mode {
            base.ssl_mode = v;
        }
        base.pg_password = self.secret.read("password")?;
        Ok(base)
    }

    /// The source to create: every field it needs, or a usage error naming those missing.
    pub fn for_create(self) -> Result<SourceSpec, Failure> {
        let missing: Vec<&str> = [
            ("--name", self.name.is_none()),
            ("--host", self.host.is_none()),
            ("--database", self.database.is_none()),
            ("--user", self.user.is_none()),
            ("--publication", self.publication.is_none()),
            ("--replication-id", self.replication_id.is_none()),
        ]
        .into_iter()
        .filter_map(|(flag, absent)| absent.then_some(flag))
        .collect();
        if !missing.is_empty() {
            return Err(Failure::usage(format!(
                "a new source needs {}",
                missing.join(", ")
            )));
        }
        self.over(SourceSpec {
            name: String::new(),
            pg_host: String::new(),
            pg_port: 5432,
            pg_database: String::new(),
            pg_username: String::new(),
            pg_password: None,
            publication_name: String::new(),
            replication_id: 0,
            ssl_mode: rosetta_domain::SslMode::default().as_str().to_owned(),
        })
    }
}

/// Checks `spec` as a catalogue file's entry is checked.
pub fn checked_source(spec: &SourceSpec) -> Result<rosetta_domain::NewSource, Failure> {
    let mut errors = Vec::new();
    spec.to_new("source", &mut errors)
        .filter(|_| errors.is_empty())
        .ok_or_else(|| Failure::error(format!("invalid: {}", errors.join("; "))))
}

/// The update that makes `stored` into `wanted`, and the fields it changes.
pub fn source_changes(
    wanted: &rosetta_domain::NewSource,
    stored: &rosetta_api_types::sources::SourceResponse,
) -> (rosetta_domain::SourceUpdate, Vec<String>) {
    let (mut update, fields) = source_update(wanted, stored, true);
    if wanted.name.as_str() != stored.name {
        update.name = Some(wanted.name.clone());
    }
    (update, fields)
}

/// The fields of a destination.
#[derive(Debug, Clone, Args)]
pub struct DestinationFields {
    /// Its unique name.
    #[arg(long)]
    pub name: Option<String>,
    /// POSTGRES or SNOWFLAKE (for an update, the stored type when left out).
    #[arg(long = "type")]
    pub destination_type: Option<String>,
    /// A field of its configuration, key=value, repeated: `--set host=dw.internal --set
    /// port=5433`. The keys are those of the API's config (docs/destinations.md); with
    /// `--set key=` an update clears an optional field. Secrets go through
    /// --password-stdin or --password-prompt.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The password (PostgreSQL) or the private key's passphrase (Snowflake).
    #[command(flatten)]
    pub secret: SecretInput,
}

impl DestinationFields {
    /// The fields over `base` (the stored destination, for an update).
    pub fn over(self, mut base: DestinationSpec) -> Result<DestinationSpec, Failure> {
        if let Some(v) = self.name {
            base.name = v;
        }
        if let Some(v) = self.destination_type {
            if !v.eq_ignore_ascii_case(&base.destination_type) {
                // Another type: none of the stored configuration applies.
                base.config = BTreeMap::new();
            }
            base.destination_type = v.to_ascii_uppercase();
        }
        for pair in self.set {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(Failure::usage(format!("--set {pair}: write it key=value")));
            };
            if crate::catalogue::SECRET_FIELDS.contains(&key) {
                return Err(Failure::usage(format!(
                    "--set {key}=…: a secret never goes on the command line; use --password-stdin or --password-prompt"
                )));
            }
            if value.is_empty() {
                base.config.remove(key);
            } else {
                let value = value
                    .parse::<i64>()
                    .map_or_else(|_| Value::from(value), Value::from);
                base.config.insert(key.to_owned(), value);
            }
        }
        if let Some(secret) = self.secret.read("secret")? {
            let key = if base.destination_type.eq_ignore_ascii_case("SNOWFLAKE") {
                "private_key_passphrase"
            } else {
                "password"
            };
            base.config.insert(key.to_owned(), Value::from(secret));
        }
        Ok(base)
    }
}

/// Checks `spec` as a catalogue file's entry is checked.
pub fn checked_destination(
    spec: &DestinationSpec,
) -> Result<rosetta_domain::NewDestination, Failure> {
    let mut errors = Vec::new();
    spec.to_new("destination", &mut errors)
        .filter(|_| errors.is_empty())
        .ok_or_else(|| Failure::error(format!("invalid: {}", errors.join("; "))))
}
