//! Start, pause, refresh (asked first) and delete (asked first; refused while in use, with the
//! pipelines named and an offer to delete them too).

use super::visitor::Visitor;
use crate::helpers::spawn_app;

#[tokio::test]
async fn pause_start_and_refresh_change_the_pipeline_and_come_back_to_the_page() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("flow").await;
    let id = pipeline["id"].as_i64().unwrap();
    let mut browser = Visitor::new(&app.address);
    let list = browser.get("/pipelines").await.expect(200);
    // The row updates in place with htmx, and the plain form works without it.
    list.shows(&format!("hx-post=\"/pipelines/{id}/pause\""))
        .shows(&format!("hx-target=\"#pipeline-{id}\""))
        .shows(&format!("id=\"pause-{id}\""));

    let paused = browser
        .post(&format!("/pipelines/{id}/pause"), &[("back", "/pipelines")])
        .await
        .expect(303);
    assert_eq!(paused.location(), "/pipelines");
    let api = app.get(&format!("/api/v1/pipelines/{id}")).await.json();
    assert_eq!(api["status"], "PAUSE");
    assert_eq!(api["pipeline_metadata"]["status"], "PAUSED");
    browser
        .get("/pipelines")
        .await
        .shows(&format!("id=\"start-{id}\""))
        .hides(&format!("id=\"pause-{id}\""));

    // A `back` elsewhere than this site is not followed.
    let started = browser
        .post(
            &format!("/pipelines/{id}/start"),
            &[("back", "//evil.example/x")],
        )
        .await
        .expect(303);
    assert_eq!(started.location(), "/");
    assert_eq!(
        app.get(&format!("/api/v1/pipelines/{id}")).await.json()["status"],
        "START"
    );

    // Refresh asks first, and says what it does.
    let asked = browser
        .get(&format!("/pipelines/{id}/refresh"))
        .await
        .expect(200);
    asked
        .shows("Refresh pipeline flow?")
        .shows("copied again from scratch");
    assert_eq!(
        app.get(&format!("/api/v1/pipelines/{id}")).await.json()["status"],
        "START"
    );
    let refreshed = browser
        .post(&format!("/pipelines/{id}/refresh"), &[])
        .await
        .expect(303);
    assert_eq!(refreshed.location(), format!("/pipelines/{id}"));
    assert_eq!(
        app.get(&format!("/api/v1/pipelines/{id}")).await.json()["status"],
        "REFRESH"
    );

    // An unknown pipeline is a 404 page, not an error in JSON.
    let missing = browser
        .post("/pipelines/999999/pause", &[])
        .await
        .expect(404);
    missing.shows("No such pipeline");
    assert!(missing.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // No other action exists, and none changes the pipeline.
    browser
        .post(&format!("/pipelines/{id}/explode"), &[])
        .await
        .expect(404);
    assert_eq!(
        app.get(&format!("/api/v1/pipelines/{id}")).await.json()["status"],
        "REFRESH"
    );
}

#[tokio::test]
async fn deleting_a_source_in_use_names_its_pipelines_and_can_take_them_along() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("uses-it").await;
    let source_id = pipeline["source"]["id"].as_i64().unwrap();
    let pipeline_id = pipeline["id"].as_i64().unwrap();
    let mut browser = Visitor::new(&app.address);
    browser
        .get(&format!("/sources/{source_id}/delete"))
        .await
        .expect(200)
        .shows("Delete source uses-it-src?")
        .shows("cannot be undone");
    let refused = browser
        .post(&format!("/sources/{source_id}/delete"), &[])
        .await
        .expect(409);
    refused
        .shows("is in use by pipelines")
        .shows(&format!("href=\"/pipelines/{pipeline_id}\">uses-it</a>"))
        .shows("and its 1 pipeline(s)");
    app.get(&format!("/api/v1/sources/{source_id}"))
        .await
        .expect(200);

    let deleted = browser
        .post(
            &format!("/sources/{source_id}/delete"),
            &[("cascade", "yes")],
        )
        .await
        .expect(303);
    assert_eq!(deleted.location(), "/sources");
    app.get(&format!("/api/v1/sources/{source_id}"))
        .await
        .expect(404);
    app.get(&format!("/api/v1/pipelines/{pipeline_id}"))
        .await
        .expect(404);

    // A destination and a pipeline are deleted the same way.
    let other = app.create_pipeline("second").await;
    let (other_id, destination_id) = (
        other["id"].as_i64().unwrap(),
        other["destination"]["id"].as_i64().unwrap(),
    );
    browser
        .get(&format!("/pipelines/{other_id}/delete"))
        .await
        .expect(200)
        .shows("Delete pipeline second?");
    assert_eq!(
        browser
            .post(&format!("/pipelines/{other_id}/delete"), &[])
            .await
            .expect(303)
            .location(),
        "/pipelines"
    );
    app.get(&format!("/api/v1/pipelines/{other_id}"))
        .await
        .expect(404);
    browser
        .post(&format!("/destinations/{destination_id}/delete"), &[])
        .await
        .expect(303);
    app.get(&format!("/api/v1/destinations/{destination_id}"))
        .await
        .expect(404);
}

#[tokio::test]
async fn run_check_shows_the_diagnostics_of_a_source_and_of_a_destination() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("checked").await;
    let source_id = pipeline["source"]["id"].as_i64().unwrap();
    let destination_id = pipeline["destination"]["id"].as_i64().unwrap();
    let mut browser = Visitor::new(&app.address);
    browser
        .get(&format!("/sources/{source_id}"))
        .await
        .expect(200)
        .shows("Run check");
    // db.example.com cannot be reached: not ready, with the failing check.
    let checked = browser
        .post(&format!("/sources/{source_id}/check"), &[])
        .await
        .expect(200);
    checked.shows("Not ready").shows("<code>reachable</code>");
    let checked = browser
        .post(&format!("/destinations/{destination_id}/check"), &[])
        .await
        .expect(200);
    checked
        .shows("Not ready")
        .shows("Check of destination checked-dst")
        .shows("<code>connect</code>");
}
