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
    /// The Rosetta server [default: the profile's, else http://127.0.0.1:8000].
    #[arg(long, env = "ROSETTA_URL", global = true)]
    pub url: Option<String>,
    /// The API key, when the server has API_KEYS. Prefer the variable: flags show in process
    /// lists.
    #[arg(long, env = "ROSETTA_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
    /// A profile kept with `rosetta profile set`: its server and key, unless --url or
    /// --api-key (or their variables) say otherwise.
    #[arg(long, env = "ROSETTA_PROFILE", global = true)]
    pub profile: Option<String>,
    /// The output format: a table on a terminal, JSON otherwise.
    #[arg(short, long, value_enum, global = true)]
    pub output: Option<Format>,
}

impl Remote {
    /// The server and the key: the flags' (or their variables'), else the profile's, else
    /// the default server without a key.
    pub fn target(&self) -> Result<(String, Option<String>), Failure> {
        let profile = self
            .profile
            .as_deref()
            .map(crate::profiles::get)
            .transpose()?;
        let url = self
            .url
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| profile.as_ref().map(|p| p.url.clone()))
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        let key = self
            .api_key
            .clone()
            .filter(|k| !k.is_empty())
            .or_else(|| profile.and_then(|p| p.api_key));
        Ok((url, key))
    }

    /// A client of the server.
    pub fn client(&self) -> Result<Client, Failure> {
        let (url, key) = self.target()?;
        let client = Client::new(&url).map_err(Failure::from)?;
        Ok(match key {
            Some(key) => client.with_api_key(key),
            None => client,
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

#[cfg(test)]
mod tests {
    use rosetta_api_types::error::ErrorBody;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_validation_error_prints_the_apis_message_and_each_failing_field() {
        let error = Error::Api {
            status: 422,
            body: Box::new(ErrorBody {
                error: "ValidationError".to_owned(),
                message: "Request validation failed".to_owned(),
                details: json!([
                    {"loc": ["body", "pg_port"], "msg": "must be at most 65535", "type": "less_than_equal"},
                    {"loc": ["body", "name"], "msg": "is required", "type": "missing"}
                ]),
            }),
        };
        let failure = Failure::from(error);
        assert_eq!(
            failure.message,
            "Request validation failed (body.pg_port: must be at most 65535; body.name: is required)"
        );
        assert_eq!(failure.code, exit::ERROR);
    }
}
