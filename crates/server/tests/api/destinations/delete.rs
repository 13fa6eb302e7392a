//! Deleting destinations: `204`, refused while in use, or cascading to its pipelines.

use serde_json::json;

use super::*;

#[tokio::test]
async fn an_unused_destination_is_deleted_with_204() {
    let app = spawn_app().await;
    let created = app.create_destination("pg").await;
    let reply = app.delete(&path_of(&created)).await.expect(204);
    assert!(reply.text.is_empty());
    app.get(&path_of(&created))
        .await
        .expect_error(404, "EntityNotFoundError");
}

#[tokio::test]
async fn deleting_a_destination_in_use_is_refused_naming_its_pipelines() {
    let app = spawn_app().await;
    let destination = app.create_destination("pg").await;
    let pipeline = pipeline_to(&app, &destination, "orders").await;
    let body = app
        .delete(&path_of(&destination))
        .await
        .expect_error(409, "EntityInUseError");
    assert_eq!(
        body["details"],
        json!({
            "entity_type": "Destination",
            "entity_id": destination["id"].to_string(),
            "used_by": [{"id": pipeline["id"], "name": "orders"}]
        })
    );
    assert!(body["message"].as_str().unwrap().contains("orders"));
    app.get(&path_of(&destination)).await.expect(200);
}

#[tokio::test]
async fn a_cascading_delete_removes_the_destination_and_its_pipelines() {
    let app = spawn_app().await;
    let destination = app.create_destination("pg").await;
    let pipeline = pipeline_to(&app, &destination, "orders").await;
    let other = app.create_destination("other").await;
    let kept = pipeline_to(&app, &other, "kept").await;
    app.delete(&format!("{}?cascade=true", path_of(&destination)))
        .await
        .expect(204);
    app.get(&path_of(&destination))
        .await
        .expect_error(404, "EntityNotFoundError");
    app.get(&format!("/api/v1/pipelines/{}", pipeline["id"]))
        .await
        .expect_error(404, "EntityNotFoundError");
    app.get(&format!("/api/v1/pipelines/{}", kept["id"]))
        .await
        .expect(200);
}
