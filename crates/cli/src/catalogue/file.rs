//! The catalogue file of `export`, `plan` and `apply`: sources, destinations and pipelines in
//! YAML, spelled as the API's request bodies spell them, pipelines naming their source and
//! destination. Secrets are never written by `export`; in a file they come from the
//! environment (`${VAR}`), never stored in it.

use std::collections::BTreeMap;

use rosetta_api_types::destinations::{DestinationConfigResponse, DestinationResponse};
use rosetta_api_types::pipelines::PipelineResponse;
use rosetta_api_types::sources::SourceResponse;
use rosetta_domain::{
    DestinationConfig, InitialPipelineStatus, InvalidValue, Name, NewDestination, NewSource,
    PortNumber, PostgresConfig, PublicationName, ReplicationId, Secret, SnowflakeConfig, SslMode,
    Text,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::output::spelled;

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    /// The sources.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    /// The destinations.
    #[serde(default)]
    pub destinations: Vec<DestinationSpec>,
    /// The pipelines.
    #[serde(default)]
    pub pipelines: Vec<PipelineSpec>,
}

/// A source, as `POST /api/v1/sources` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub name: String,
    pub pg_host: String,
    #[serde(default = "default_port")]
    pub pg_port: i64,
    pub pg_database: String,
    pub pg_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pg_password: Option<String>,
    pub publication_name: String,
    pub replication_id: i64,
    #[serde(default = "default_ssl_mode")]
    pub ssl_mode: String,
}

/// A destination: its type and its configuration, as `POST /api/v1/destinations` takes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub destination_type: String,
    pub config: BTreeMap<String, Value>,
}

/// A pipeline, naming its source and destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    pub name: String,
    pub source: String,
    pub destination: String,
    #[serde(default = "default_status")]
    pub status: String,
}

fn default_port() -> i64 {
    5432
}

fn default_ssl_mode() -> String {
    SslMode::default().as_str().to_owned()
}

fn default_status() -> String {
    "START".to_owned()
}

/// Reads `text` (YAML), putting the environment's values in place of `${VAR}` in every string.
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<CatalogueFile, String> {
    let mut tree: Value = yaml_serde::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    if tree.is_null() {
        return Ok(CatalogueFile::default());
    }
    let mut missing = Vec::new();
    substitute(&mut tree, env, &mut missing);
    if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        return Err(format!(
            "the file needs these environment variables, which are not set: {}",
            missing.join(", ")
        ));
    }
    serde_json::from_value(tree).map_err(|e| format!("not a catalogue file: {e}"))
}

fn substitute(value: &mut Value, env: &dyn Fn(&str) -> Option<String>, missing: &mut Vec<String>) {
    match value {
        Value::String(text) if text.contains("${") => {
            let mut out = String::new();
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                match after.find('}') {
                    Some(end) => {
                        let name = &after[..end];
                        match env(name) {
                            Some(found) => out.push_str(&found),
                            None => missing.push(name.to_owned()),
                        }
                        rest = &after[end + 1..];
                    }
                    None => {
                        out.push_str(&rest[start..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            *text = out;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, env, missing)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, env, missing)),
        _ => {}
    }
}

/// A value of the file, checked as the API checks it: where it is and what is wrong.
fn checked<T>(at: &str, value: Result<T, InvalidValue>, errors: &mut Vec<String>) -> Option<T> {
    value.map_err(|e| errors.push(format!("{at}: {e}"))).ok()
}

impl SourceSpec {
    /// The source to create, or every failing value.
    pub fn to_new(&self, at: &str, errors: &mut Vec<String>) -> Option<NewSource> {
        let name = checked(&format!("{at}.name"), Name::parse(&self.name), errors);
        let host = checked(&format!("{at}.pg_host"), Text::parse(&self.pg_host), errors);
        let port = checked(
            &format!("{at}.pg_port"),
            PortNumber::new(self.pg_port),
            errors,
        );
        let database = checked(
            &format!("{at}.pg_database"),
            Text::parse(&self.pg_database),
            errors,
        );
        let username = checked(
            &format!("{at}.pg_username"),
            Text::parse(&self.pg_username),
            errors,
        );
        let password = self
            .pg_password
            .as_deref()
            .map(|p| checked(&format!("{at}.pg_password"), Secret::parse(p), errors));
        let publication = checked(
            &format!("{at}.publication_name"),
            PublicationName::parse(&self.publication_name),
            errors,
        );
        let replication_id = checked(
            &format!("{at}.replication_id"),
            ReplicationId::new(self.replication_id),
            errors,
        );
        let ssl_mode = checked(
            &format!("{at}.ssl_mode"),
            self.ssl_mode.parse::<SslMode>(),
            errors,
        );
        Some(NewSource {
            name: name?,
            pg_host: host?,
            pg_port: port?,
            pg_database: database?,
            pg_username: username?,
            pg_password: match password {
                Some(checked) => Some(checked?),
                None => None,
            },
            publication_name: publication?,
            replication_id: replication_id?,
            ssl_mode: ssl_mode?,
        })
    }

    /// The file's entry for a source on the server (no password).
    pub fn of(source: &SourceResponse) -> Self {
        Self {
            name: source.name.clone(),
            pg_host: source.pg_host.clone(),
            pg_port: i64::from(source.pg_port),
            pg_database: source.pg_database.clone(),
            pg_username: source.pg_username.clone(),
            pg_password: None,
            publication_name: source.publication_name.clone(),
            replication_id: source.replication_id,
            ssl_mode: spelled(&source.ssl_mode),
        }
    }
}

/// The configuration fields that are secrets, by destination type.
pub const SECRET_FIELDS: [&str; 2] = ["password", "private_key_passphrase"];

impl DestinationSpec {
    /// The destination to create, or every failing value.
    pub fn to_new(&self, at: &str, errors: &mut Vec<String>) -> Option<NewDestination> {
        let name = checked(&format!("{at}.name"), Name::parse(&self.name), errors);
        let config = self.config(at, errors);
        Some(NewDestination {
            name: name?,
            config: config?,
        })
    }

    fn config(&self, at: &str, errors: &mut Vec<String>) -> Option<DestinationConfig> {
        let mut fields = Fields {
            at: format!("{at}.config"),
            map: self.config.clone(),
            errors: Vec::new(),
        };
        let config = match self.destination_type.to_ascii_uppercase().as_str() {
            "POSTGRES" => {
                let host = fields.text("host");
                let port = fields.port("port");
                let database = fields.text("database");
                let username = fields.text("username");
                let schema = fields.optional_text("schema");
                let password = fields.secret("password");
                (|| {
                    Some(DestinationConfig::Postgres(PostgresConfig {
                        host: host?,
                        port: port?,
                        database: database?,
                        username: username?,
                        schema: schema?.unwrap_or_else(PostgresConfig::default_schema),
                        password: password?,
                    }))
                })()
            }
            "SNOWFLAKE" => {
                let account = fields.text("account");
                let user = fields.text("user");
                let database = fields.text("database");
                let schema = fields.text("schema");
                let role = fields.optional_text("role");
                let warehouse = fields.optional_text("warehouse");
                let host = fields.optional_text("host");
                let key = fields.optional_text("private_key_path");
                let passphrase = fields.secret("private_key_passphrase");
                let mode = fields.mode("mode");
                (|| {
                    Some(DestinationConfig::Snowflake(SnowflakeConfig {
                        account: account?,
                        user: user?,
                        database: database?,
                        schema: schema?,
                        role: role?,
                        warehouse: warehouse?,
                        host: host?,
                        private_key_path: key?,
                        private_key_passphrase: passphrase?,
                        mode: mode?,
                    }))
                })()
            }
            other => {
                errors.push(format!(
                    "{at}.type: must be POSTGRES or SNOWFLAKE, not {other:?}"
                ));
                return None;
            }
        };
        for unknown in fields.map.keys() {
            fields
                .errors
                .push(format!("{}.{unknown}: not a field of this type", fields.at));
        }
        errors.extend(fields.errors);
        config
    }

    /// The file's entry for a destination on the server (no secret).
    pub fn of(destination: &DestinationResponse) -> Self {
        let config = match serde_json::to_value(&destination.config) {
            Ok(Value::Object(map)) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            _ => BTreeMap::new(),
        };
        Self {
            name: destination.name.clone(),
            destination_type: spelled(&destination.destination_type),
            config,
        }
    }

    /// Whether the file gives a secret.
    pub fn has_secret(&self) -> bool {
        SECRET_FIELDS.iter().any(|k| self.config.contains_key(*k))
    }
}

/// The configuration `new` would show once created (no secret, the defaults filled in), to
/// compare with what a destination on the server shows.
pub fn wanted_config(new: &NewDestination) -> BTreeMap<String, Value> {
    let body = serde_json::to_value(rosetta_api_types::requests::CreateDestination(new));
    match body
        .ok()
        .and_then(|mut b| b.get_mut("config").map(Value::take))
    {
        Some(Value::Object(map)) => map
            .into_iter()
            .filter(|(k, v)| !v.is_null() && !SECRET_FIELDS.contains(&k.as_str()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The configuration a destination on the server shows, to compare with a file's.
pub fn shown(config: &DestinationConfigResponse) -> BTreeMap<String, Value> {
    match serde_json::to_value(config) {
        Ok(Value::Object(map)) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => BTreeMap::new(),
    }
}

/// The fields of a configuration, taken out as they are read (what is left is unknown).
struct Fields {
    at: String,
    map: BTreeMap<String, Value>,
    errors: Vec<String>,
}

impl Fields {
    fn take_text(&mut self, key: &str) -> Option<Option<String>> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(text)) => Some(Some(text)),
            Some(other) => {
                self.errors
                    .push(format!("{}.{key}: must be a string, not {other}", self.at));
                None
            }
        }
    }

    fn optional_text(&mut self, key: &str) -> Option<Option<Text>> {
        let at = format!("{}.{key}", self.at);
        match self.take_text(key)? {
            None => Some(None),
            Some(text) => checked(&at, Text::parse(&text), &mut self.errors).map(Some),
        }
    }

    fn text(&mut self, key: &str) -> Option<Text> {
        match self.optional_text(key)? {
            Some(text) => Some(text),
            None => {
                self.errors.push(format!("{}.{key}: missing", self.at));
                None
            }
        }
    }

    fn secret(&mut self, key: &str) -> Option<Option<Secret>> {
        let at = format!("{}.{key}", self.at);
        match self.take_text(key)? {
            None => Some(None),
            Some(text) => checked(&at, Secret::parse(&text), &mut self.errors).map(Some),
        }
    }

    fn port(&mut self, key: &str) -> Option<PortNumber> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Some(PortNumber::default()),
            Some(Value::Number(n)) if n.as_i64().is_some() => {
                let at = format!("{}.{key}", self.at);
                checked(
                    &at,
                    PortNumber::new(n.as_i64().unwrap_or(0)),
                    &mut self.errors,
                )
            }
            Some(other) => {
                self.errors.push(format!(
                    "{}.{key}: must be a port number, not {other}",
                    self.at
                ));
                None
            }
        }
    }

    fn mode(&mut self, key: &str) -> Option<rosetta_domain::SnowflakeMode> {
        let at = format!("{}.{key}", self.at);
        match self.take_text(key)? {
            None => Some(rosetta_domain::SnowflakeMode::default()),
            Some(text) => checked(&at, text.to_ascii_lowercase().parse(), &mut self.errors),
        }
    }
}

impl PipelineSpec {
    /// The status it is to be in.
    pub fn initial_status(
        &self,
        at: &str,
        errors: &mut Vec<String>,
    ) -> Option<InitialPipelineStatus> {
        match self.status.to_ascii_uppercase().as_str() {
            "START" => Some(InitialPipelineStatus::Start),
            "PAUSE" => Some(InitialPipelineStatus::Pause),
            _ => {
                errors.push(format!(
                    "{at}.status: must be START or PAUSE, not {:?}",
                    self.status
                ));
                None
            }
        }
    }

    /// The file's entry for a pipeline on the server; a refresh in progress is `START`.
    pub fn of(pipeline: &PipelineResponse) -> Self {
        let status = match spelled(&pipeline.status).as_str() {
            "PAUSE" => "PAUSE",
            _ => "START",
        };
        Self {
            name: pipeline.name.clone(),
            source: pipeline.source.name.clone(),
            destination: pipeline.destination.name.clone(),
            status: status.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "DW_PASSWORD").then(|| "s3cret: with # and quotes\"".to_owned())
    }

    #[test]
    fn secrets_come_from_the_environment_whatever_they_hold() {
        let file = parse(
            "destinations:\n  - name: dw\n    type: POSTGRES\n    config:\n      host: dw\n      database: dw\n      username: loader\n      password: ${DW_PASSWORD}\n",
            &env,
        )
        .unwrap();
        assert_eq!(
            file.destinations[0].config["password"],
            Value::from("s3cret: with # and quotes\"")
        );
        let missing = parse(
            "sources:\n  - name: a\n    pg_password: ${NOPE}-${ALSO}\n",
            &env,
        )
        .unwrap_err();
        assert!(missing.contains("ALSO, NOPE"), "{missing}");
    }

    #[test]
    fn an_empty_file_is_an_empty_catalogue_and_unknown_keys_are_refused() {
        assert_eq!(parse("", &env).unwrap(), CatalogueFile::default());
        assert!(parse("source: []\n", &env)
            .unwrap_err()
            .contains("unknown field"));
    }

    #[test]
    fn every_failing_value_is_named_with_its_place() {
        let spec = DestinationSpec {
            name: "not a name".to_owned(),
            destination_type: "postgres".to_owned(),
            config: BTreeMap::from([
                ("host".to_owned(), Value::from("dw")),
                ("port".to_owned(), Value::from(70000)),
                ("colour".to_owned(), Value::from("blue")),
            ]),
        };
        let mut errors = Vec::new();
        assert!(spec.to_new("destinations[0]", &mut errors).is_none());
        let text = errors.join("\n");
        for place in [
            "destinations[0].name:",
            "destinations[0].config.port:",
            "destinations[0].config.database: missing",
            "destinations[0].config.username: missing",
            "destinations[0].config.colour: not a field of this type",
        ] {
            assert!(text.contains(place), "{place} in\n{text}");
        }
    }
}
