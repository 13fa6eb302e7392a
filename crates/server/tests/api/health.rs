//! `/health`, `/api/v1/health` and `/health/live`.

use crate::helpers::*;

#[tokio::test]
async fn health_reports_the_database_and_the_version_on_both_paths() {
    let app = spawn_app().await;
    for path in ["/health", "/api/v1/health"] {
        let body = app.get(path).await.expect(200).json();
        assert_eq!(body["status"], "healthy", "{path}");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(body["checks"]["database"], true);
        assert!(body["checks"]["wal_monitor"].is_boolean());
        let stamp = body["timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
    }
}

#[tokio::test]
async fn liveness_answers_without_asking_the_database() {
    let app = spawn_app().await;
    let body = app.get("/health/live").await.expect(200).json();
    assert_eq!(body["status"], "alive");
}
