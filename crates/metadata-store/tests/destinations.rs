//! The destination repository against a real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use rosetta_domain::ports::{
    DestinationRepository, DestinationRepositoryError, PipelineRepository, SourceRepository,
};
use rosetta_domain::{
    DeleteMode, DestinationConfig, DestinationId, DestinationType, DestinationUpdate,
    InitialPipelineStatus, PageRequest, SnowflakeMode,
};
use rosetta_metadata_store::PgDestinationRepository;
use rosetta_test_support::TestDb;

#[tokio::test]
async fn both_destination_types_round_trip_with_their_typed_config() {
    let db = TestDb::new().await;
    let repo = PgDestinationRepository::new(db.pool(), cipher());
    for (n, config) in [("pg", postgres_config()), ("sf", snowflake_config())] {
        let created = repo
            .create(new_destination(n, config.clone()))
            .await
            .unwrap();
        assert_eq!(created.config, config);
        assert_eq!(repo.get(created.id).await.unwrap(), Some(created));
    }
    let all = repo.list(PageRequest::default()).await.unwrap();
    let types: Vec<_> = all.iter().map(|d| d.config.destination_type()).collect();
    assert_eq!(
        types,
        [DestinationType::Postgres, DestinationType::Snowflake]
    );
}

#[tokio::test]
async fn the_snowflake_mode_round_trips_and_is_always_stored_lower_case() {
    let db = TestDb::new().await;
    let repo = PgDestinationRepository::new(db.pool(), cipher());
    for (n, mode) in [
        ("log", SnowflakeMode::Changelog),
        ("mirror", SnowflakeMode::Mirror),
    ] {
        let config = snowflake_config_in(mode);
        let created = repo
            .create(new_destination(n, config.clone()))
            .await
            .unwrap();
        assert_eq!(created.config, config);
        assert_eq!(repo.get(created.id).await.unwrap(), Some(created));
    }
    // The default is written too, so that a row says what it is without the code's default.
    let modes = raw_texts(
        &db,
        "SELECT config->>'mode' AS value FROM destinations ORDER BY id",
    )
    .await;
    assert_eq!(modes, ["changelog", "mirror"]);
}

#[tokio::test]
async fn a_snowflake_row_stored_before_modes_existed_reads_as_a_mirror() {
    let db = TestDb::new().await;
    raw_execute(
        &db,
        r#"INSERT INTO destinations (name, type, config) VALUES
             ('old-sf', 'SNOWFLAKE', '{"account": "acme-eu", "user": "LOADER",
               "database": "RAW", "schema": "CDC"}');"#,
    )
    .await;
    let repo = PgDestinationRepository::new(db.pool(), cipher());
    let stored = repo.list(PageRequest::default()).await.unwrap();
    assert!(
        matches!(
            &stored[0].config,
            DestinationConfig::Snowflake(c) if c.mode == SnowflakeMode::Mirror
        ),
        "{:?}",
        stored[0].config
    );
}

#[tokio::test]
async fn a_destination_config_can_be_replaced_by_one_of_another_type() {
    let db = TestDb::new().await;
    let repo = PgDestinationRepository::new(db.pool(), cipher());
    let created = repo
        .create(new_destination("dw", postgres_config()))
        .await
        .unwrap();
    let update = DestinationUpdate {
        name: None,
        config: Some(snowflake_config()),
    };
    let updated = repo.update(created.id, update).await.unwrap();
    assert_eq!(updated.config, snowflake_config());
    assert_eq!(updated.name, created.name);
    assert_eq!(repo.get(created.id).await.unwrap(), Some(updated));
}

#[tokio::test]
async fn destination_names_are_unique_and_missing_ids_are_not_found() {
    let db = TestDb::new().await;
    let repo = PgDestinationRepository::new(db.pool(), cipher());
    repo.create(new_destination("dw", postgres_config()))
        .await
        .unwrap();
    let error = repo
        .create(new_destination("DW", snowflake_config()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, DestinationRepositoryError::Duplicate(_)),
        "{error:?}"
    );
    let missing = DestinationId::new(424_242);
    let error = repo
        .update(missing, DestinationUpdate::default())
        .await
        .unwrap_err();
    assert!(matches!(error, DestinationRepositoryError::NotFound(id) if id == missing));
    let error = repo
        .delete(missing, DeleteMode::Restrict)
        .await
        .unwrap_err();
    assert!(
        matches!(error, DestinationRepositoryError::NotFound(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn deleting_a_destination_in_use_is_refused_unless_cascaded() {
    let db = TestDb::new().await;
    let repositories = Repositories::new(&db);
    let (source, destination, pipeline) = repositories
        .one_pipeline(InitialPipelineStatus::Pause)
        .await;
    let (sources, destinations, pipelines) = (
        &repositories.sources,
        &repositories.destinations,
        &repositories.pipelines,
    );
    let error = destinations
        .delete(destination.id, DeleteMode::Restrict)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DestinationRepositoryError::InUse { used_by, .. } if used_by.len() == 1),
        "{error:?}"
    );
    destinations
        .delete(destination.id, DeleteMode::Cascade)
        .await
        .unwrap();
    assert!(destinations.get(destination.id).await.unwrap().is_none());
    assert!(pipelines.get(pipeline.pipeline.id).await.unwrap().is_none());
    assert!(sources.get(source.id).await.unwrap().is_some());
}
