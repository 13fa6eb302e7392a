//! Request bodies, written from the domain's own input types: a client builds a `NewSource`,
//! a `SourceUpdate`, a `NewDestination`, … (each value validated as the server validates it)
//! and sends it wrapped in the body that spells it as the API reads it. The server reads these
//! bodies into the same domain types.
//!
//! Secrets are written as they are (a request is the one place they travel); an update leaves
//! out every field it does not change, so that the server keeps the stored value, secrets
//! included.

use rosetta_domain::{
    DestinationConfig, DestinationUpdate, NewDestination, NewPipelineRequest, NewSource,
    PipelineUpdateRequest, PostgresConfig, SnowflakeConfig, SourceUpdate,
};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// Writes `key: value` when there is a value.
fn entry<M: SerializeMap, V: Serialize + ?Sized>(
    map: &mut M,
    key: &str,
    value: Option<&V>,
) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, value),
        None => Ok(()),
    }
}

/// The body of `POST /api/v1/sources`.
pub struct CreateSource<'a>(pub &'a NewSource);

impl Serialize for CreateSource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let source = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", source.name.as_str())?;
        map.serialize_entry("pg_host", source.pg_host.as_str())?;
        map.serialize_entry("pg_port", &source.pg_port.get())?;
        map.serialize_entry("pg_database", source.pg_database.as_str())?;
        map.serialize_entry("pg_username", source.pg_username.as_str())?;
        entry(
            &mut map,
            "pg_password",
            source.pg_password.as_ref().map(|p| p.expose()),
        )?;
        map.serialize_entry("publication_name", source.publication_name.as_str())?;
        map.serialize_entry("replication_id", &source.replication_id.get())?;
        map.serialize_entry("ssl_mode", source.ssl_mode.as_str())?;
        map.end()
    }
}

/// The body of `PUT /api/v1/sources/{id}`: only the fields that change.
pub struct UpdateSource<'a>(pub &'a SourceUpdate);

impl Serialize for UpdateSource<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let update = self.0;
        let mut map = serializer.serialize_map(None)?;
        entry(&mut map, "name", update.name.as_ref().map(|v| v.as_str()))?;
        entry(
            &mut map,
            "pg_host",
            update.pg_host.as_ref().map(|v| v.as_str()),
        )?;
        entry(
            &mut map,
            "pg_port",
            update.pg_port.map(|v| v.get()).as_ref(),
        )?;
        entry(
            &mut map,
            "pg_database",
            update.pg_database.as_ref().map(|v| v.as_str()),
        )?;
        entry(
            &mut map,
            "pg_username",
            update.pg_username.as_ref().map(|v| v.as_str()),
        )?;
        entry(
            &mut map,
            "pg_password",
            update.pg_password.as_ref().map(|v| v.expose()),
        )?;
        entry(
            &mut map,
            "publication_name",
            update.publication_name.as_ref().map(|v| v.as_str()),
        )?;
        entry(
            &mut map,
            "replication_id",
            update.replication_id.map(|v| v.get()).as_ref(),
        )?;
        entry(&mut map, "ssl_mode", update.ssl_mode.map(|v| v.as_str()))?;
        map.end()
    }
}

/// A destination's configuration, as the API reads it for its type.
struct Config<'a>(&'a DestinationConfig);

impl Serialize for Config<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.0 {
            DestinationConfig::Postgres(PostgresConfig {
                host,
                port,
                database,
                username,
                schema,
                password,
            }) => {
                map.serialize_entry("host", host.as_str())?;
                map.serialize_entry("port", &port.get())?;
                map.serialize_entry("database", database.as_str())?;
                map.serialize_entry("username", username.as_str())?;
                map.serialize_entry("schema", schema.as_str())?;
                entry(&mut map, "password", password.as_ref().map(|p| p.expose()))?;
            }
            DestinationConfig::Snowflake(SnowflakeConfig {
                account,
                user,
                database,
                schema,
                role,
                warehouse,
                host,
                private_key_path,
                private_key_passphrase,
                mode,
            }) => {
                map.serialize_entry("account", account.as_str())?;
                map.serialize_entry("user", user.as_str())?;
                map.serialize_entry("database", database.as_str())?;
                map.serialize_entry("schema", schema.as_str())?;
                entry(&mut map, "role", role.as_ref().map(|v| v.as_str()))?;
                entry(
                    &mut map,
                    "warehouse",
                    warehouse.as_ref().map(|v| v.as_str()),
                )?;
                entry(&mut map, "host", host.as_ref().map(|v| v.as_str()))?;
                entry(
                    &mut map,
                    "private_key_path",
                    private_key_path.as_ref().map(|v| v.as_str()),
                )?;
                entry(
                    &mut map,
                    "private_key_passphrase",
                    private_key_passphrase.as_ref().map(|p| p.expose()),
                )?;
                map.serialize_entry("mode", mode.as_str())?;
            }
        }
        map.end()
    }
}

/// The body of `POST /api/v1/destinations`: `name`, `type` and the typed `config`.
pub struct CreateDestination<'a>(pub &'a NewDestination);

impl Serialize for CreateDestination<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let destination = self.0;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("name", destination.name.as_str())?;
        map.serialize_entry("type", destination.config.destination_type().as_str())?;
        map.serialize_entry("config", &Config(&destination.config))?;
        map.end()
    }
}

/// The body of `PUT /api/v1/destinations/{id}`: a new name, and a replacement configuration
/// with its type. A configuration of the stored type without its secret keeps the stored one.
pub struct UpdateDestination<'a>(pub &'a DestinationUpdate);

impl Serialize for UpdateDestination<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let update = self.0;
        let mut map = serializer.serialize_map(None)?;
        entry(&mut map, "name", update.name.as_ref().map(|v| v.as_str()))?;
        if let Some(config) = &update.config {
            map.serialize_entry("type", config.destination_type().as_str())?;
            map.serialize_entry("config", &Config(config))?;
        }
        map.end()
    }
}

/// The body of `POST /api/v1/pipelines`.
pub struct CreatePipeline<'a>(pub &'a NewPipelineRequest);

impl Serialize for CreatePipeline<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let pipeline = self.0;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("name", pipeline.name.as_str())?;
        map.serialize_entry("source_id", &pipeline.source_id.get())?;
        map.serialize_entry("destination_id", &pipeline.destination_id.get())?;
        map.serialize_entry("status", pipeline.status.status().as_str())?;
        map.end()
    }
}

/// The body of `PUT /api/v1/pipelines/{id}`: only the fields that change.
pub struct UpdatePipeline<'a>(pub &'a PipelineUpdateRequest);

impl Serialize for UpdatePipeline<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let update = self.0;
        let mut map = serializer.serialize_map(None)?;
        entry(&mut map, "name", update.name.as_ref().map(|v| v.as_str()))?;
        entry(
            &mut map,
            "source_id",
            update.source_id.map(|v| v.get()).as_ref(),
        )?;
        entry(
            &mut map,
            "destination_id",
            update.destination_id.map(|v| v.get()).as_ref(),
        )?;
        entry(&mut map, "status", update.status.map(|v| v.as_str()))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::{DestinationConfig, Name, PostgresConfig, Secret, Text};
    use serde_json::json;

    use super::*;

    fn text(value: &str) -> Text {
        Text::parse(value).unwrap()
    }

    #[test]
    fn an_update_writes_only_what_changes() {
        let nothing = serde_json::to_value(UpdateSource(&SourceUpdate::default())).unwrap();
        assert_eq!(nothing, json!({}));
        let renamed = SourceUpdate {
            name: Some(Name::parse("Orders").unwrap()),
            pg_password: Some(Secret::parse("new-pw").unwrap()),
            ..SourceUpdate::default()
        };
        assert_eq!(
            serde_json::to_value(UpdateSource(&renamed)).unwrap(),
            json!({"name": "orders", "pg_password": "new-pw"})
        );
    }

    #[test]
    fn a_destination_is_written_with_its_type_and_without_a_secret_it_has_not() {
        let config = DestinationConfig::Postgres(PostgresConfig {
            host: text("dw.example.com"),
            port: rosetta_domain::PortNumber::default(),
            database: text("dw"),
            username: text("loader"),
            schema: text("public"),
            password: None,
        });
        let update = DestinationUpdate {
            name: None,
            config: Some(config),
        };
        assert_eq!(
            serde_json::to_value(UpdateDestination(&update)).unwrap(),
            json!({"type": "POSTGRES", "config": {
                "host": "dw.example.com", "port": 5432, "database": "dw",
                "username": "loader", "schema": "public"
            }})
        );
    }
}
