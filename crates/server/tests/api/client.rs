//! `rosetta-client` against the real server: every route called through it, the domain's
//! input types written as the server reads them (secrets kept when an update leaves them
//! out), and its errors: the API's code and message, a wrong key, a server that is down.

use rosetta_client::{Client, Error};
use rosetta_domain::{
    DeleteMode, DestinationConfig, DestinationId, DestinationUpdate, InitialPipelineStatus, Limit,
    Name, NewDestination, NewPipelineRequest, NewSource, PageRequest, PipelineId, PipelineStatus,
    PipelineUpdateRequest, PortNumber, PostgresConfig, PublicationName, ReplicationId, Secret,
    SnowflakeConfig, SnowflakeMode, SourceId, SourceUpdate, SslMode, Text, WalBucket,
    WalMetricQuery,
};

use crate::helpers::{execute_sql, spawn_app, spawn_app_with, stored_secret, TestApp};

fn text(value: &str) -> Text {
    Text::parse(value).unwrap()
}

fn name(value: &str) -> Name {
    Name::parse(value).unwrap()
}

fn new_source(called: &str) -> NewSource {
    NewSource {
        name: name(called),
        pg_host: text("db.example.com"),
        pg_port: PortNumber::new(5433).unwrap(),
        pg_database: text("shop"),
        pg_username: text("replicator"),
        pg_password: Some(Secret::parse("client-src-pw").unwrap()),
        publication_name: PublicationName::parse("shop_pub").unwrap(),
        replication_id: ReplicationId::new(4).unwrap(),
        ssl_mode: SslMode::Require,
    }
}

fn postgres(password: Option<&str>) -> DestinationConfig {
    DestinationConfig::Postgres(PostgresConfig {
        host: text("warehouse.example.com"),
        port: PortNumber::new(5432).unwrap(),
        database: text("dw"),
        username: text("loader"),
        schema: text("cdc"),
        password: password.map(|p| Secret::parse(p).unwrap()),
    })
}

fn client(app: &TestApp) -> Client {
    Client::new(&app.address).unwrap()
}

#[tokio::test]
async fn the_catalogue_is_built_read_changed_and_emptied_through_the_client() {
    let app = spawn_app().await;
    let client = client(&app);

    // Sources.
    let source = client.create_source(&new_source("orders")).await.unwrap();
    assert_eq!((source.name.as_str(), source.pg_port), ("orders", 5433));
    let source_id = SourceId::new(source.id);
    let renamed = client
        .update_source(
            source_id,
            &SourceUpdate {
                name: Some(name("orders-eu")),
                pg_port: Some(PortNumber::new(6432).unwrap()),
                ..SourceUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.pg_port),
        ("orders-eu", 6432)
    );
    // The password was left out of the update: the stored one is kept.
    let password = stored_secret(&app, "sources", "pg_password", source.id).await;
    assert_eq!(password, "client-src-pw");
    assert_eq!(client.source(source_id).await.unwrap().name, "orders-eu");
    assert_eq!(
        client.sources(PageRequest::default()).await.unwrap().len(),
        1
    );

    // Destinations, of both types.
    let warehouse = client
        .create_destination(&NewDestination {
            name: name("warehouse"),
            config: postgres(Some("client-dst-pw")),
        })
        .await
        .unwrap();
    let warehouse_id = DestinationId::new(warehouse.id);
    let lake = client
        .create_destination(&NewDestination {
            name: name("lake"),
            config: DestinationConfig::Snowflake(SnowflakeConfig {
                account: text("acme-eu"),
                user: text("LOADER"),
                database: text("RAW"),
                schema: text("CDC"),
                role: None,
                warehouse: Some(text("LOAD_WH")),
                host: None,
                private_key_path: Some(text("/keys/loader.p8")),
                private_key_passphrase: Some(Secret::parse("client-sf-pass").unwrap()),
                mode: SnowflakeMode::Changelog,
            }),
        })
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&lake.config).unwrap()["mode"],
        "changelog"
    );
    let moved = client
        .update_destination(
            warehouse_id,
            &DestinationUpdate {
                name: None,
                config: Some(postgres(None)),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&moved.config).unwrap()["schema"],
        "cdc"
    );
    let password = stored_secret(&app, "destinations", "config.password", warehouse.id).await;
    assert_eq!(
        password, "client-dst-pw",
        "an update without the secret keeps it"
    );
    assert_eq!(
        client
            .destinations(PageRequest::default())
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        client.destination(warehouse_id).await.unwrap().name,
        "warehouse"
    );

    // Pipelines and their lifecycle.
    let pipeline = client
        .create_pipeline(&NewPipelineRequest {
            name: name("orders-to-dw"),
            source_id,
            destination_id: warehouse_id,
            status: InitialPipelineStatus::Pause,
        })
        .await
        .unwrap();
    let id = PipelineId::new(pipeline.id);
    let json =
        |p: &rosetta_client::types::pipelines::PipelineResponse| serde_json::to_value(p).unwrap();
    assert_eq!(json(&pipeline)["status"], "PAUSE");
    assert_eq!(
        json(&client.start_pipeline(id).await.unwrap())["status"],
        "START"
    );
    assert_eq!(
        json(&client.pause_pipeline(id).await.unwrap())["status"],
        "PAUSE"
    );
    assert_eq!(
        json(&client.refresh_pipeline(id).await.unwrap())["status"],
        "REFRESH"
    );
    let updated = client
        .update_pipeline(
            id,
            &PipelineUpdateRequest {
                name: Some(name("orders-eu-to-dw")),
                status: Some(PipelineStatus::Pause),
                ..PipelineUpdateRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "orders-eu-to-dw");
    assert_eq!(
        client
            .pipelines(PageRequest::default(), Some(PipelineStatus::Pause))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(client
        .pipelines(PageRequest::default(), Some(PipelineStatus::Start))
        .await
        .unwrap()
        .is_empty());
    assert!(client.pipeline_tables(id).await.unwrap().is_empty());
    assert_eq!(client.pipeline(id).await.unwrap().source.id, source.id);

    // A source in use is refused, with the pipeline named; cascading takes it along.
    let refused = client
        .delete_source(source_id, DeleteMode::Restrict)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("EntityInUseError"));
    assert_eq!(refused.status(), Some(409));
    client
        .delete_source(source_id, DeleteMode::Cascade)
        .await
        .unwrap();
    assert_eq!(
        client.pipeline(id).await.unwrap_err().code(),
        Some("EntityNotFoundError")
    );
    client
        .delete_destination(DestinationId::new(lake.id), DeleteMode::Restrict)
        .await
        .unwrap();
    client
        .delete_destination(warehouse_id, DeleteMode::Restrict)
        .await
        .unwrap();
    assert!(client
        .destinations(PageRequest::default())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn checks_wal_reports_metrics_and_health_read_through_the_client() {
    let app = spawn_app().await;
    let client = client(&app);
    let local = app
        .post(
            "/api/v1/sources",
            &crate::helpers::local_source_body(&app, "local"),
        )
        .await
        .expect(201)
        .json();
    let source = SourceId::new(local["id"].as_i64().unwrap());
    let check = client.check_source(source).await.unwrap();
    assert_eq!(check.source_id, source.get());
    assert!(!check.checks.is_empty());
    let wal = client.source_wal(source).await.unwrap();
    assert_eq!(wal.source_id, source.get());
    let destination = client
        .create_destination(&NewDestination {
            name: name("warehouse"),
            config: postgres(None),
        })
        .await
        .unwrap();
    let checked = client
        .check_destination(DestinationId::new(destination.id))
        .await
        .unwrap();
    assert!(!checked.ready, "warehouse.example.com does not answer");

    execute_sql(
        &app,
        &format!(
            "INSERT INTO wal_metrics (source_id, size_bytes, recorded_at)
             SELECT {source}, 1048576 * g, now() - g * interval '10 seconds'
             FROM generate_series(1, 12) g"
        ),
    )
    .await;
    let query = WalMetricQuery {
        source_id: Some(source),
        from: Some(chrono::Utc::now() - chrono::Duration::seconds(65)),
        to: None,
        limit: Limit::new(5).unwrap(),
    };
    let samples = client.wal_metrics(&query).await.unwrap();
    assert_eq!(samples.len(), 5, "the limit is sent");
    assert!(samples
        .windows(2)
        .all(|w| w[0].recorded_at.0 >= w[1].recorded_at.0));
    let everything = WalMetricQuery {
        limit: Limit::new(100).unwrap(),
        ..query
    };
    assert_eq!(
        client.wal_metrics(&everything).await.unwrap().len(),
        6,
        "from is sent"
    );
    let buckets = client
        .wal_series(&everything, WalBucket::Hour)
        .await
        .unwrap();
    assert_eq!(buckets.iter().map(|b| b.samples).sum::<i64>(), 6);

    let health = client.health().await.unwrap();
    assert_eq!(health.status, "healthy");
    assert_eq!(client.live().await.unwrap().status, "alive");
}

#[tokio::test]
async fn refusals_carry_the_apis_code_and_message() {
    let app = spawn_app().await;
    let client = client(&app);
    let missing = client.source(SourceId::new(424_242)).await.unwrap_err();
    assert_eq!(missing.code(), Some("EntityNotFoundError"));
    assert_eq!(missing.status(), Some(404));
    assert_eq!(missing.to_string(), "Source with id '424242' not found");
    client.create_source(&new_source("twice")).await.unwrap();
    let duplicate = client
        .create_source(&new_source("twice"))
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Some("DuplicateEntityError"));
    assert!(duplicate.fields().is_empty());
    let orphan = client
        .create_pipeline(&NewPipelineRequest {
            name: name("orphan"),
            source_id: SourceId::new(424_242),
            destination_id: DestinationId::new(424_242),
            status: InitialPipelineStatus::Start,
        })
        .await
        .unwrap_err();
    assert!(orphan.status().is_some_and(|s| s >= 400), "{orphan:?}");
}

#[tokio::test]
async fn a_wrong_key_and_a_server_that_is_down_are_clear_errors() {
    let app = spawn_app_with(&[("API_KEYS", "client-key-1234567890")]).await;
    let anonymous = client(&app)
        .sources(PageRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Some("AuthenticationError"));
    assert_eq!(anonymous.status(), Some(401));
    let wrong = client(&app)
        .with_api_key("not-the-key")
        .sources(PageRequest::default())
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Some("AuthenticationError"));
    assert!(!wrong.to_string().contains("not-the-key"), "{wrong}");
    let keyed = client(&app).with_api_key("client-key-1234567890");
    assert!(keyed
        .sources(PageRequest::default())
        .await
        .unwrap()
        .is_empty());

    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = Client::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .live()
        .await
        .unwrap_err();
    assert!(matches!(down, Error::Unreachable { .. }), "{down:?}");
    let message = down.to_string();
    assert!(
        message.starts_with(&format!("cannot reach Rosetta at http://127.0.0.1:{port}/")),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
}
