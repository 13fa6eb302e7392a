//! `GET /api/v1/metrics/wal`: newest first, filtered by source, limited, sizes in MiB and GiB.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use crate::helpers::*;

const MIB: i64 = 1024 * 1024;
const GIB: i64 = 1024 * MIB;

/// A sample time: `minute` minutes after a fixed instant.
fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, minute, 0).unwrap()
}

/// Stores WAL samples as the monitor would: `(source_id, size_bytes, recorded_at)`.
async fn insert_samples(app: &TestApp, samples: &[(i64, i64, DateTime<Utc>)]) {
    use diesel::sql_types::{BigInt, Timestamptz};
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    for (source_id, size_bytes, recorded_at) in samples {
        diesel::sql_query(
            "INSERT INTO wal_metrics (source_id, size_bytes, recorded_at) VALUES ($1, $2, $3)",
        )
        .bind::<BigInt, _>(*source_id)
        .bind::<BigInt, _>(*size_bytes)
        .bind::<Timestamptz, _>(*recorded_at)
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// `(source_id, size_bytes)` of each listed sample, in order.
fn samples_of(listed: &Value) -> Vec<(i64, i64)> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["source_id"].as_i64().unwrap(),
                m["size_bytes"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Two sources with two samples each, stored out of time order.
async fn two_sources_with_samples(app: &TestApp) -> (i64, i64) {
    let a = app.create_source("a").await["id"].as_i64().unwrap();
    let b = app.create_source("b").await["id"].as_i64().unwrap();
    insert_samples(
        app,
        &[
            (b, 512 * MIB, at(1)),
            (b, 3 * GIB / 2, at(3)),
            (a, GIB, at(0)),
            (a, 3 * GIB, at(2)),
        ],
    )
    .await;
    (a, b)
}

#[tokio::test]
async fn samples_are_listed_newest_first_with_sizes_in_mib_and_gib() {
    let app = spawn_app().await;
    let (a, b) = two_sources_with_samples(&app).await;
    let listed = app.get("/api/v1/metrics/wal").await.expect(200).json();
    assert_eq!(
        samples_of(&listed),
        [(b, 3 * GIB / 2), (a, 3 * GIB), (b, 512 * MIB), (a, GIB)]
    );
    let newest = &listed[0];
    assert!(newest["id"].as_i64().unwrap() >= 1);
    assert_eq!(newest["recorded_at"], "2026-03-01T12:03:00Z");
    assert_eq!(newest["size_mb"], json!(1536.0));
    assert_eq!(newest["size_gb"], json!(1.5));
    let three_gib = &listed[1];
    assert_eq!(three_gib["size_bytes"], json!(3_221_225_472_i64));
    assert_eq!(three_gib["size_mb"], json!(3072.0));
    assert_eq!(three_gib["size_gb"], json!(3.0));
    assert_eq!(listed[2]["size_mb"], json!(512.0));
    assert_eq!(listed[2]["size_gb"], json!(0.5));
    let keys: Vec<&String> = newest.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        6,
        "unexpected fields: {keys:?} (id, source_id, size_bytes, size_mb, size_gb, recorded_at)"
    );
}

#[tokio::test]
async fn the_source_filter_and_the_limit_narrow_the_list() {
    let app = spawn_app().await;
    let (a, b) = two_sources_with_samples(&app).await;
    let only_a = app
        .get(&format!("/api/v1/metrics/wal?source_id={a}"))
        .await
        .expect(200)
        .json();
    assert_eq!(samples_of(&only_a), [(a, 3 * GIB), (a, GIB)]);
    let two = app
        .get("/api/v1/metrics/wal?limit=2")
        .await
        .expect(200)
        .json();
    assert_eq!(samples_of(&two), [(b, 3 * GIB / 2), (a, 3 * GIB)]);
    let newest_of_b = app
        .get(&format!("/api/v1/metrics/wal?source_id={b}&limit=1"))
        .await
        .expect(200)
        .json();
    assert_eq!(samples_of(&newest_of_b), [(b, 3 * GIB / 2)]);
    let unknown = app
        .get("/api/v1/metrics/wal?source_id=424242")
        .await
        .expect(200)
        .json();
    assert_eq!(unknown, json!([]));
}

#[tokio::test]
async fn at_most_100_samples_are_listed_unless_asked_otherwise() {
    let app = spawn_app().await;
    let source = app.create_source("busy").await["id"].as_i64().unwrap();
    let samples: Vec<_> = (0..150)
        .map(|i| {
            (
                source,
                i64::from(i) * MIB,
                at(0) + chrono::Duration::seconds(i64::from(i)),
            )
        })
        .collect();
    insert_samples(&app, &samples).await;
    let default = app.get("/api/v1/metrics/wal").await.expect(200).json();
    let default = samples_of(&default);
    assert_eq!(default.len(), 100);
    assert_eq!(default[0], (source, 149 * MIB));
    let all = app
        .get("/api/v1/metrics/wal?limit=1000")
        .await
        .expect(200)
        .json();
    assert_eq!(samples_of(&all).len(), 150);
}

#[tokio::test]
async fn out_of_range_or_non_numeric_queries_are_422() {
    let app = spawn_app().await;
    for (query, expected) in [
        ("limit=0", vec!["query.limit"]),
        ("limit=1001", vec!["query.limit"]),
        ("limit=ten", vec!["query.limit"]),
        ("limit=", vec!["query.limit"]),
        ("source_id=0", vec!["query.source_id"]),
        ("source_id=-1", vec!["query.source_id"]),
        ("source_id=abc", vec!["query.source_id"]),
        (
            "source_id=0&limit=0",
            vec!["query.source_id", "query.limit"],
        ),
    ] {
        let error = app
            .get(&format!("/api/v1/metrics/wal?{query}"))
            .await
            .expect_error(422, "ValidationError");
        assert_eq!(failing_locations(&error), expected, "{query}");
    }
    app.get("/api/v1/metrics/wal?limit=1000&source_id=1")
        .await
        .expect(200);
}

#[tokio::test]
async fn the_wal_route_is_documented_with_its_query_and_response() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.expect(200).json();
    let operation = &document["paths"]["/api/v1/metrics/wal"]["get"];
    assert_eq!(operation["operationId"], "list_wal_metrics");
    assert_eq!(operation["tags"], json!(["metrics"]));
    let names: Vec<&str> = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["source_id", "limit", "from", "to", "bucket"]);
    let buckets = &document["components"]["schemas"]["WalBucketName"]["enum"];
    assert_eq!(*buckets, json!(["1m", "5m", "1h", "1d"]));
    let bucket = &document["components"]["schemas"]["WalBucketResponse"]["properties"];
    for field in [
        "bucket_start",
        "min_bytes",
        "max_bytes",
        "avg_bytes",
        "last_bytes",
        "samples",
    ] {
        assert!(bucket[field].is_object(), "WalBucketResponse lacks {field}");
    }
    let response = &document["components"]["schemas"]["WalMetricResponse"]["properties"];
    for field in [
        "id",
        "source_id",
        "size_bytes",
        "size_mb",
        "size_gb",
        "recorded_at",
    ] {
        assert!(
            response[field].is_object(),
            "WalMetricResponse lacks {field}"
        );
    }
    assert_eq!(response["size_mb"]["type"], "number");
}

#[tokio::test]
async fn a_bucketed_series_summarizes_samples_within_from_and_to() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = spawn_app().await;
    let source = app.create_source("orders").await;
    let id = source["id"].as_i64().unwrap();
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    // One sample a minute from 10:00 to 10:14 UTC: 1000, 1010, … 1140 bytes.
    conn.batch_execute(&format!(
        "INSERT INTO wal_metrics (source_id, size_bytes, recorded_at)
         SELECT {id}, 1000 + 10 * m, TIMESTAMPTZ '2026-01-01 10:00:00+00' + m * INTERVAL '1 minute'
         FROM generate_series(0, 14) AS m"
    ))
    .await
    .unwrap();
    let path = format!("/api/v1/metrics/wal?source_id={id}&bucket=5m");
    let series = app.get(&path).await.expect(200).json();
    let starts: Vec<_> = series
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bucket_start"].clone())
        .collect();
    assert_eq!(
        starts,
        [
            json!("2026-01-01T10:10:00Z"),
            json!("2026-01-01T10:05:00Z"),
            json!("2026-01-01T10:00:00Z")
        ]
    );
    assert_eq!(
        series[0],
        json!({"bucket_start": "2026-01-01T10:10:00Z", "min_bytes": 1100, "max_bytes": 1140,
               "avg_bytes": 1120.0, "last_bytes": 1140, "samples": 5})
    );

    let ranged = format!(
        "/api/v1/metrics/wal?source_id={id}&from=2026-01-01T10:05:00Z&to=2026-01-01T10:07:00%2B00:00"
    );
    let samples = app.get(&ranged).await.expect(200).json();
    let sizes: Vec<_> = samples
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["size_bytes"].clone())
        .collect();
    assert_eq!(sizes, [json!(1060), json!(1050)]);
    let hourly = app
        .get(&format!("{ranged}&bucket=1h"))
        .await
        .expect(200)
        .json();
    assert_eq!(hourly[0]["samples"], 2);

    for (query, field) in [
        ("bucket=2m", "query.bucket"),
        ("from=yesterday", "query.from"),
        (
            "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            "query.to",
        ),
    ] {
        let error = app
            .get(&format!("/api/v1/metrics/wal?{query}"))
            .await
            .expect_error(422, "ValidationError");
        assert_eq!(failing_locations(&error), [field], "{query}");
    }
}
