//! Every kind of response body the API writes reads back into the shared types of
//! `rosetta-api-types` (what `rosetta-client` reads) and writes out again unchanged: the types
//! a client reads are those the server writes.

use rosetta_api_types::destinations::{DestinationDiagnosticsResponse, DestinationResponse};
use rosetta_api_types::error::ErrorBody;
use rosetta_api_types::health::{HealthResponse, LiveResponse};
use rosetta_api_types::pipeline_runtime::PipelineTableResponse;
use rosetta_api_types::pipelines::PipelineResponse;
use rosetta_api_types::source_wal::{SourceCheckResponse, SourceWalResponse};
use rosetta_api_types::sources::SourceResponse;
use rosetta_api_types::wal_metrics::{WalBucketResponse, WalMetricResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::helpers::{
    execute_sql, local_source_body, snowflake_destination_body, spawn_app, spawn_app_with,
};

/// Reads `body` as a `T`, and checks that writing it again gives the same JSON.
fn reads_back<T: DeserializeOwned + Serialize>(body: &Value) -> T {
    let typed: T =
        serde_json::from_value(body.clone()).unwrap_or_else(|error| panic!("{error}: {body:#}"));
    assert_eq!(&serde_json::to_value(&typed).unwrap(), body);
    typed
}

#[tokio::test]
async fn every_response_reads_back_into_the_shared_types_unchanged() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("typed").await;
    let id = pipeline["id"].as_i64().unwrap();
    let read: PipelineResponse = reads_back(&pipeline);
    assert_eq!(read.id, id);
    reads_back::<Vec<PipelineResponse>>(&app.get("/api/v1/pipelines").await.json());
    // With what the data plane reports, and an error it recorded.
    execute_sql(
        &app,
        &format!(
            "INSERT INTO pipeline_runtime (pipeline_id, phase, owner, confirmed_lsn, lag_bytes,
                 lag_seconds, rows_copied, changes_applied, last_commit_at)
             VALUES ({id}, 'streaming', 'host:1:a', 123456789, 4096, 0.25, 1000, 42, now());
             INSERT INTO pipeline_tables (pipeline_id, schema_name, table_name, state, rows_copied)
             VALUES ({id}, 'public', 'orders', 'streaming', 1000);
             UPDATE pipeline_metadata SET status = 'ERROR', last_error = 'boom', last_error_at = now()
             WHERE pipeline_id = {id};"
        ),
    )
    .await;
    let running = app.get(&format!("/api/v1/pipelines/{id}")).await.json();
    let read: PipelineResponse = reads_back(&running);
    assert_eq!(read.pipeline_metadata.changes_applied, 42);
    reads_back::<Vec<PipelineTableResponse>>(
        &app.get(&format!("/api/v1/pipelines/{id}/tables"))
            .await
            .json(),
    );

    reads_back::<Vec<SourceResponse>>(&app.get("/api/v1/sources").await.json());
    let local = app
        .post("/api/v1/sources", &local_source_body(&app, "local"))
        .await
        .expect(201)
        .json();
    let local_id = local["id"].as_i64().unwrap();
    reads_back::<SourceCheckResponse>(
        &app.post_empty(&format!("/api/v1/sources/{local_id}/check"))
            .await
            .expect(200)
            .json(),
    );
    reads_back::<SourceWalResponse>(
        &app.get(&format!("/api/v1/sources/{local_id}/wal"))
            .await
            .expect(200)
            .json(),
    );

    let snowflake = app
        .post(
            "/api/v1/destinations",
            &snowflake_destination_body("typed-sf"),
        )
        .await
        .expect(201)
        .json();
    reads_back::<DestinationResponse>(&snowflake);
    reads_back::<Vec<DestinationResponse>>(&app.get("/api/v1/destinations").await.json());
    let postgres = pipeline["destination_id"].as_i64().unwrap();
    reads_back::<DestinationDiagnosticsResponse>(
        &app.post_empty(&format!("/api/v1/destinations/{postgres}/check"))
            .await
            .expect(200)
            .json(),
    );

    execute_sql(
        &app,
        &format!(
            "INSERT INTO wal_metrics (source_id, size_bytes, recorded_at)
             SELECT {local_id}, 1048576 * g, now() - g * interval '1 minute'
             FROM generate_series(1, 5) g"
        ),
    )
    .await;
    let samples =
        reads_back::<Vec<WalMetricResponse>>(&app.get("/api/v1/metrics/wal").await.json());
    assert_eq!(samples.len(), 5);
    reads_back::<Vec<WalBucketResponse>>(&app.get("/api/v1/metrics/wal?bucket=1m").await.json());

    reads_back::<HealthResponse>(&app.get("/api/v1/health").await.json());
    reads_back::<LiveResponse>(&app.get("/health/live").await.json());
    let missing = reads_back::<ErrorBody>(&app.get("/api/v1/sources/999999").await.json());
    assert_eq!(missing.error, "EntityNotFoundError");
    let invalid = app
        .post("/api/v1/sources", &json!({"name": "no spaces allowed"}))
        .await
        .json();
    let invalid = reads_back::<ErrorBody>(&invalid);
    assert_eq!(invalid.error, "ValidationError");
}

#[tokio::test]
async fn an_authentication_error_reads_back_too() {
    let app = spawn_app_with(&[("API_KEYS", "k-1234567890abcdef")]).await;
    let refused = app.get("/api/v1/sources").await.json();
    assert_eq!(
        reads_back::<ErrorBody>(&refused).error,
        "AuthenticationError"
    );
}
