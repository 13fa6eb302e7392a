//! Fixtures shared by the metadata store's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rosetta_domain::{
    DestinationConfig, InitialPipelineStatus, Name, NewDestination, NewPipeline, NewSource,
    PortNumber, PostgresConfig, PublicationName, ReplicationId, Secret, SnowflakeConfig, SslMode,
    Text,
};
use rosetta_domain::{DestinationId, SourceId};

pub fn name(value: &str) -> Name {
    Name::parse(value).unwrap()
}

pub fn text(value: &str) -> Text {
    Text::parse(value).unwrap()
}

pub fn secret(value: &str) -> Secret {
    Secret::parse(value).unwrap()
}

pub fn new_source(source_name: &str) -> NewSource {
    NewSource {
        name: name(source_name),
        pg_host: text("db.example.com"),
        pg_port: PortNumber::new(5433).unwrap(),
        pg_database: text("shop"),
        pg_username: text("replicator"),
        pg_password: Some(secret("source-password-1")),
        publication_name: PublicationName::parse("shop_pub").unwrap(),
        replication_id: ReplicationId::new(7).unwrap(),
        ssl_mode: SslMode::Require,
    }
}

pub fn postgres_config() -> DestinationConfig {
    DestinationConfig::Postgres(PostgresConfig {
        host: text("warehouse"),
        port: PortNumber::default(),
        database: text("dw"),
        username: text("loader"),
        schema: text("public"),
        password: Some(secret("destination-password-1")),
    })
}

pub fn snowflake_config() -> DestinationConfig {
    DestinationConfig::Snowflake(SnowflakeConfig {
        account: text("acme-eu"),
        user: text("LOADER"),
        database: text("RAW"),
        schema: text("CDC"),
        role: Some(text("LOADER_ROLE")),
        warehouse: None,
        host: None,
        private_key_path: Some(text("/keys/loader.p8")),
        private_key_passphrase: Some(secret("passphrase-1")),
    })
}

pub fn new_destination(destination_name: &str, config: DestinationConfig) -> NewDestination {
    NewDestination {
        name: name(destination_name),
        config,
    }
}

pub fn new_pipeline(
    pipeline_name: &str,
    source_id: SourceId,
    destination_id: DestinationId,
    status: InitialPipelineStatus,
) -> NewPipeline {
    NewPipeline {
        name: name(pipeline_name),
        source_id,
        destination_id,
        initial: status.change(chrono::Utc::now()),
    }
}
