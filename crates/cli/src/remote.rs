//! Which server, with which key, and how to print: the options every client command takes.

use std::io::IsTerminal;

use clap::{Args, ValueEnum};
use rosetta_client::{Client, Error};

use crate::exit;

/// The default server.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8000";

/// How to print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, for people.
    Table,
    /// JSON, as the API answers it.
    Json,
    /// YAML.
    Yaml,
}

/// The server, the key and the output format.
#[derive(Debug, Clone, Args)]
pub struct Remote {
    /// The Rosetta server.
    #[arg(long, env = "ROSETTA_URL", default_value = DEFAULT_URL, global = true)]
    pub url: String,
    /// The API key, when the server has API_KEYS. Prefer the variable: flags show in process
    /// lists.
    #[arg(long, env = "ROSETTA_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
    /// The output format: a table on a terminal, JSON otherwise.
    #[arg(short, long, value_enum, global = true)]
    pub output: Option<Format>,
}

impl Remote {
    /// A client of the server.
    pub fn client(&self) -> Result<Client, Failure> {
        let client = Client::new(&self.url).map_err(Failure::from)?;
        Ok(match &self.api_key {
            Some(key) if !key.is_empty() => client.with_api_key(key.clone()),
            _ => client,
        })
    }

    /// The format asked for, or the one that suits where the output goes.
    pub fn format(&self) -> Format {
        self.output.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Json
            }
        })
    }
}

/// Why a command failed: what to print, and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// One line.
    pub message: String,
    /// The exit code.
    pub code: u8,
}

impl Failure {
    /// An error (exit code 1).
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: exit::ERROR,
        }
    }

    /// A wrong command line (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: exit::USAGE,
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        // The API's message, then each failing field: `body.pg_port: must be at most 65535`.
        let mut message = error.to_string();
        let fields = error.fields();
        if !fields.is_empty() {
            let listed: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.loc.join("."), f.msg))
                .collect();
            message = format!("{message} ({})", listed.join("; "));
        }
        Self::error(message)
    }
}
