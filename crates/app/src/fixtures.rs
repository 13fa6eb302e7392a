//! Test fixtures: valid entities and a `Rosetta` wired to mocks.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rosetta_domain::ports::{
    MockDestinationRepository, MockPipelineRepository, MockSourceRepository,
    MockWalMetricRepository, MockWalProbe,
};
use rosetta_domain::{
    Destination, DestinationConfig, DestinationId, Limit, MetadataChange, Name, NewSource,
    PageRequest, Pipeline, PipelineDetails, PipelineId, PipelineMetadata, PipelineMetadataId,
    PipelineMetadataStatus, PipelineRef, PipelineStatus, PortNumber, PostgresConfig,
    PublicationName, ReplicationId, Secret, Source, SourceId, StatusChange, Text,
};

use crate::{Ports, Rosetta};

/// One mock per port; unexpected calls panic, and expectations are checked when dropped.
#[derive(Default)]
pub struct Mocks {
    pub sources: MockSourceRepository,
    pub destinations: MockDestinationRepository,
    pub pipelines: MockPipelineRepository,
    pub wal_metrics: MockWalMetricRepository,
    pub wal_probe: MockWalProbe,
}

impl Mocks {
    pub fn into_rosetta(self) -> Rosetta {
        Rosetta::new(Ports {
            sources: Arc::new(self.sources),
            destinations: Arc::new(self.destinations),
            pipelines: Arc::new(self.pipelines),
            wal_metrics: Arc::new(self.wal_metrics),
            wal_probe: Arc::new(self.wal_probe),
        })
    }
}

/// A fixed instant in the past, so that a timestamp set "now" by a use case stands out.
pub fn long_ago() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("a valid timestamp")
}

pub fn name(value: &str) -> Name {
    Name::parse(value).expect("a valid name")
}

pub fn text(value: &str) -> Text {
    Text::parse(value).expect("valid text")
}

pub fn secret(value: &str) -> Secret {
    Secret::parse(value).expect("a valid secret")
}

pub fn page() -> PageRequest {
    PageRequest::new(10, Limit::new(20).expect("a valid limit")).expect("a valid page")
}

pub fn new_source(source_name: &str) -> NewSource {
    NewSource {
        name: name(source_name),
        pg_host: text("db.internal"),
        pg_port: PortNumber::default(),
        pg_database: text("shop"),
        pg_username: text("replicator"),
        pg_password: Some(secret("hunter2")),
        publication_name: PublicationName::parse("rosetta_pub").expect("a valid publication"),
        replication_id: ReplicationId::new(1).expect("a valid replication id"),
    }
}

pub fn source(id: i64) -> Source {
    let new = new_source(&format!("source-{id}"));
    Source {
        id: SourceId::new(id),
        name: new.name,
        pg_host: new.pg_host,
        pg_port: new.pg_port,
        pg_database: new.pg_database,
        pg_username: new.pg_username,
        pg_password: new.pg_password,
        publication_name: new.publication_name,
        replication_id: new.replication_id,
        created_at: long_ago(),
        updated_at: long_ago(),
    }
}

pub fn postgres_config(host: &str, password: Option<&str>) -> DestinationConfig {
    DestinationConfig::Postgres(PostgresConfig {
        host: text(host),
        port: PortNumber::default(),
        database: text("warehouse"),
        username: text("loader"),
        schema: text("public"),
        password: password.map(secret),
    })
}

pub fn destination(id: i64) -> Destination {
    Destination {
        id: DestinationId::new(id),
        name: name(&format!("destination-{id}")),
        config: postgres_config("dw.internal", Some("s3cr3t")),
        created_at: long_ago(),
        updated_at: long_ago(),
    }
}

pub fn pipeline_ref(id: i64, pipeline_name: &str) -> PipelineRef {
    PipelineRef {
        id: PipelineId::new(id),
        name: name(pipeline_name),
    }
}

/// Pipeline `id` from source 1 to destination 2, in `status` with matching metadata, last
/// started long ago.
pub fn pipeline_details(id: i64, status: PipelineStatus) -> PipelineDetails {
    let metadata_status = match status {
        PipelineStatus::Start | PipelineStatus::Refresh => PipelineMetadataStatus::Running,
        PipelineStatus::Pause => PipelineMetadataStatus::Paused,
    };
    PipelineDetails {
        pipeline: Pipeline {
            id: PipelineId::new(id),
            name: name(&format!("pipeline-{id}")),
            source_id: SourceId::new(1),
            destination_id: DestinationId::new(2),
            status,
            created_at: long_ago(),
            updated_at: long_ago(),
        },
        source: source(1),
        destination: destination(2),
        metadata: PipelineMetadata {
            id: PipelineMetadataId::new(id),
            pipeline_id: PipelineId::new(id),
            status: metadata_status,
            last_error: None,
            last_error_at: None,
            last_start_at: Some(long_ago()),
            created_at: long_ago(),
            updated_at: long_ago(),
        },
    }
}

/// What a store returns after applying `change` to `details`, as the real one would.
pub fn applied(mut details: PipelineDetails, change: StatusChange) -> PipelineDetails {
    details.pipeline.status = change.status;
    match change.metadata {
        MetadataChange::Unchanged => {}
        MetadataChange::Run { started_at } => {
            details.metadata.status = PipelineMetadataStatus::Running;
            details.metadata.last_start_at = Some(started_at);
            details.metadata.last_error = None;
            details.metadata.last_error_at = None;
        }
        MetadataChange::Pause => details.metadata.status = PipelineMetadataStatus::Paused,
    }
    details
}

/// Whether `change` starts a pipeline at an instant within `[before, after]`.
pub fn starts_between(
    change: Option<&StatusChange>,
    before: DateTime<Utc>,
    after: DateTime<Utc>,
) -> bool {
    matches!(
        change,
        Some(StatusChange {
            status: PipelineStatus::Start,
            metadata: MetadataChange::Run { started_at },
        }) if (before..=after).contains(started_at)
    )
}
