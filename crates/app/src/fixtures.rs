//! Test fixtures: valid entities, a `Rosetta` wired to mocks, and the assertions on the errors
//! that many use cases share.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rosetta_domain::fixtures::{logical_reading, logical_slot};
use rosetta_domain::ports::{
    MockDestinationRepository, MockDestinationWriter, MockMonitorLock, MockPipelineLeases,
    MockPipelineRepository, MockPipelineRuntime, MockReplicationSource, MockSourceRepository,
    MockWalHistory, MockWalProbe, WalProbe,
};
use rosetta_domain::{
    Destination, DestinationConfig, DestinationId, EntityKind, Limit, MetadataChange, Name,
    NewSource, PageRequest, Pipeline, PipelineDetails, PipelineId, PipelineMetadata,
    PipelineMetadataId, PipelineMetadataStatus, PipelineRef, PipelineStatus, PortNumber,
    PostgresConfig, PublicationName, ReplicationId, Secret, SlotReading, SnowflakeConfig,
    SnowflakeMode, Source, SourceId, SslMode, StatusChange, Text, WalReading,
};

use crate::{AppError, Ports, Rosetta};

/// One mock per port; unexpected calls panic, and expectations are checked when dropped.
#[derive(Default)]
pub struct Mocks {
    pub sources: MockSourceRepository,
    pub destinations: MockDestinationRepository,
    pub pipelines: MockPipelineRepository,
    pub wal_history: MockWalHistory,
    pub monitor_lock: MockMonitorLock,
    pub wal_probe: MockWalProbe,
    pub replication: MockReplicationSource,
    pub writer: MockDestinationWriter,
    pub leases: MockPipelineLeases,
    pub runtime: MockPipelineRuntime,
}

impl Mocks {
    pub fn into_rosetta(mut self) -> Rosetta {
        let wal_probe = Arc::new(std::mem::take(&mut self.wal_probe));
        self.into_rosetta_with_probe(wal_probe)
    }

    /// The same, probing through `wal_probe` (a fake whose probes take time, which a mock's
    /// cannot) instead of the mock, which must expect nothing.
    pub fn into_rosetta_with_probe(self, wal_probe: Arc<dyn WalProbe>) -> Rosetta {
        Rosetta::new(Ports {
            sources: Arc::new(self.sources),
            destinations: Arc::new(self.destinations),
            pipelines: Arc::new(self.pipelines),
            wal_history: Arc::new(self.wal_history),
            monitor_lock: Arc::new(self.monitor_lock),
            wal_probe,
            replication: Arc::new(self.replication),
            writer: Arc::new(self.writer),
            leases: Arc::new(self.leases),
            runtime: Arc::new(self.runtime),
        })
    }

    /// Source `id` (see [`source`]) is stored, and read by its id only.
    pub fn with_source(mut self, id: i64) -> Self {
        self.sources
            .expect_get()
            .withf(move |given| *given == SourceId::new(id))
            .returning(move |_| Ok(Some(source(id))));
        self
    }

    /// Destination `id` (see [`destination`]) is stored, and read by its id only.
    pub fn with_destination(mut self, id: i64) -> Self {
        self.destinations
            .expect_get()
            .withf(move |given| *given == DestinationId::new(id))
            .returning(move |_| Ok(Some(destination(id))));
        self
    }

    /// Pipeline `id` (see [`pipeline_details`]) is stored in `status`, and read by its id only.
    pub fn with_pipeline(mut self, id: i64, status: PipelineStatus) -> Self {
        self.pipelines
            .expect_get()
            .withf(move |given| *given == PipelineId::new(id))
            .returning(move |_| Ok(Some(pipeline_details(id, status))));
        self
    }
}

/// Asserts that `result` is [`AppError::NotFound`] naming `entity` `id`.
#[track_caller]
pub fn assert_not_found<T: fmt::Debug>(result: &Result<T, AppError>, entity: EntityKind, id: i64) {
    assert!(
        matches!(result, Err(AppError::NotFound { entity: e, id: i }) if *e == entity && *i == id),
        "expected {entity:?} {id} not found, got {result:?}"
    );
}

/// Asserts that `result` is [`AppError::Duplicate`]: `entity`'s name `value` is taken.
#[track_caller]
pub fn assert_duplicate_name<T: fmt::Debug>(
    result: &Result<T, AppError>,
    entity: EntityKind,
    value: &str,
) {
    assert!(
        matches!(
            result,
            Err(AppError::Duplicate { entity: e, field: "name", value: v })
                if *e == entity && v == value
        ),
        "expected the {entity:?} name {value} taken, got {result:?}"
    );
}

/// Asserts that `result` is [`AppError::InUse`]: `entity` `id` is used by `used_by`.
#[track_caller]
pub fn assert_in_use<T: fmt::Debug>(
    result: &Result<T, AppError>,
    entity: EntityKind,
    id: i64,
    used_by: &[PipelineRef],
) {
    assert!(
        matches!(
            result,
            Err(AppError::InUse { entity: e, id: i, used_by: u })
                if *e == entity && *i == id && u == used_by
        ),
        "expected {entity:?} {id} in use by {used_by:?}, got {result:?}"
    );
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
        ssl_mode: SslMode::default(),
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
        ssl_mode: new.ssl_mode,
        created_at: long_ago(),
        updated_at: long_ago(),
    }
}

/// What probing a healthy source (one of [`source`]) reads: PostgreSQL 16, `wal_level =
/// logical`, its publication and its active slot `rosetta_1` holding back a few kilobytes.
pub fn wal_reading() -> WalReading {
    let slot = SlotReading {
        unconfirmed_bytes: Some(4_096),
        ..logical_slot("rosetta_1", 8_192)
    };
    logical_reading(long_ago(), 123_456_789, vec![slot])
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

/// Snowflake destination `id`, with a passphrase.
pub fn snowflake_destination(id: i64) -> Destination {
    Destination {
        id: DestinationId::new(id),
        name: name(&format!("snowflake-{id}")),
        config: DestinationConfig::Snowflake(SnowflakeConfig {
            account: text("acme-eu"),
            user: text("loader"),
            database: text("analytics"),
            schema: text("public"),
            role: None,
            warehouse: None,
            host: None,
            private_key_path: None,
            private_key_passphrase: Some(secret("s3cr3t")),
            mode: SnowflakeMode::Mirror,
        }),
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
        progress: None,
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

/// The store expects one update of pipeline 9, which is paused, that changes only its status:
/// a start at an instant between `before` and the update. It applies it as the real one would.
pub fn expect_only_a_start(mocks: &mut Mocks, before: DateTime<Utc>) {
    mocks
        .pipelines
        .expect_update()
        .withf(move |id, update| {
            *id == PipelineId::new(9)
                && starts_between(update.status.as_ref(), before, Utc::now())
                && update.name.is_none()
                && update.source_id.is_none()
                && update.destination_id.is_none()
        })
        .times(1)
        .returning(|_, update| {
            let change = update.status.expect("a status change");
            Ok(applied(pipeline_details(9, PipelineStatus::Pause), change))
        });
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
