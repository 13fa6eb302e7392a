//! Fixtures shared by the metadata store's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rosetta_domain::ports::{DestinationRepository, PipelineRepository, SourceRepository};
use rosetta_domain::{Destination, DestinationId, PipelineDetails, Source, SourceId};
use rosetta_domain::{
    DestinationConfig, InitialPipelineStatus, Name, NewDestination, NewPipeline, NewSource,
    PortNumber, PostgresConfig, PublicationName, ReplicationId, Secret, SnowflakeConfig,
    SnowflakeMode, SslMode, Text,
};
use rosetta_metadata_store::{
    PgDestinationRepository, PgPipelineRepository, PgSourceRepository, SecretCipher,
};
use rosetta_test_support::TestDb;

/// The key the tests' repositories encrypt with, under id 1.
pub const TEST_KEY: [u8; 32] = [0x5a; 32];

/// A cipher holding the test key only.
pub fn cipher() -> Arc<SecretCipher> {
    Arc::new(SecretCipher::new([(1, TEST_KEY)]).unwrap())
}

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
    snowflake_config_in(SnowflakeMode::Mirror)
}

pub fn snowflake_config_in(mode: SnowflakeMode) -> DestinationConfig {
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
        mode,
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
        status,
        requested_at: chrono::Utc::now(),
    }
}

/// The repositories of one test database, encrypting with [`cipher`].
pub struct Repositories {
    pub sources: PgSourceRepository,
    pub destinations: PgDestinationRepository,
    pub pipelines: PgPipelineRepository,
}

impl Repositories {
    pub fn new(db: &TestDb) -> Self {
        Self {
            sources: PgSourceRepository::new(db.pool(), cipher()),
            destinations: PgDestinationRepository::new(db.pool(), cipher()),
            pipelines: PgPipelineRepository::new(db.pool(), cipher()),
        }
    }

    /// Stores source `orders`, Postgres destination `dw` and pipeline `p1` between them, in
    /// `status`.
    pub async fn one_pipeline(
        &self,
        status: InitialPipelineStatus,
    ) -> (Source, Destination, PipelineDetails) {
        let source = self.sources.create(new_source("orders")).await.unwrap();
        let destination = self
            .destinations
            .create(new_destination("dw", postgres_config()))
            .await
            .unwrap();
        let pipeline = self
            .pipelines
            .create(new_pipeline("p1", source.id, destination.id, status))
            .await
            .unwrap();
        (source, destination, pipeline)
    }
}

/// Runs SQL on the test database directly, as an operator (or an attacker) with database
/// access would.
pub async fn raw_execute(db: &rosetta_test_support::TestDb, sql: &str) {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    conn.batch_execute(sql).await.unwrap();
}

/// The text values a raw query returns in its column `value`.
pub async fn raw_texts(db: &rosetta_test_support::TestDb, sql: &str) -> Vec<String> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
    rows.into_iter().map(|r| r.value).collect()
}
