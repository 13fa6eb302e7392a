//! Start, pause and refresh (which asks first), and delete (which asks too). Each answers a
//! redirect back to the page it came from, which htmx renders again to update the row or
//! panel in place.

use actix_web::web::{self, Data};
use actix_web::HttpRequest;
use maud::html;
use rosetta_app::Rosetta;

use super::pipeline_id;
use crate::error::{PageError, PageResult};
use crate::forms::{csrf_field, Form};
use crate::layout::{self, Section};
use crate::session::{local_path, Viewer};

fn back(form: &Form, id: rosetta_domain::PipelineId) -> String {
    match form.get("back") {
        Some(path) => local_path(Some(path)),
        None => format!("/pipelines/{id}"),
    }
}

/// Start, pause or refresh (`/pipelines/{id}/{action}`, posted; the route admits no other
/// action).
pub(super) async fn lifecycle(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<(String, String)>,
    form: web::Form<Form>,
) -> PageResult {
    let (id, action) = path.into_inner();
    let id = pipeline_id(&id)?;
    viewer.check(&req, &form)?;
    match action.as_str() {
        "start" => rosetta.start_pipeline(id).await?,
        "pause" => rosetta.pause_pipeline(id).await?,
        "refresh" => rosetta.refresh_pipeline(id).await?,
        _ => return Err(PageError::Internal),
    };
    Ok(layout::redirect(&back(&form, id)))
}

pub(super) async fn confirm_refresh(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
) -> PageResult {
    let id = pipeline_id(&path)?;
    let details = rosetta.get_pipeline(id).await?;
    let name = details.pipeline.name.as_str();
    let body = html! {
        p.muted { a href="/pipelines" { "Pipelines" } " / " a href={ "/pipelines/" (id) } { (name) } " / " }
        h1 { "Refresh pipeline " (name) "?" }
        p { "Every table of " strong { (name) } " is copied again from scratch to "
            a href={ "/destinations/" (details.destination.id) } { (details.destination.name.as_str()) }
            ", then streaming resumes. The destination's tables are emptied first: until the copy ends they hold part of the data." }
        div.actions {
            form method="post" action={ "/pipelines/" (id) "/refresh" } {
                (csrf_field(&viewer.csrf))
                button.danger type="submit" { "Refresh " (name) }
            }
            a.button.secondary href={ "/pipelines/" (id) } { "Cancel" }
        }
    };
    Ok(layout::page(
        &viewer,
        Section::Pipelines,
        &format!("Refresh {name}"),
        body,
    ))
}

pub(super) async fn confirm_delete(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
) -> PageResult {
    let id = pipeline_id(&path)?;
    let details = rosetta.get_pipeline(id).await?;
    let name = details.pipeline.name.as_str();
    let body = crate::pages::confirm_delete(
        &viewer,
        "pipeline",
        name,
        &format!("/pipelines/{id}"),
        &[],
        "Replication stops and its replication slot on the source is dropped (left, with a warning in the log, if the source cannot be reached); the tables already on the destination stay.",
    );
    Ok(layout::page(
        &viewer,
        Section::Pipelines,
        &format!("Delete {name}"),
        body,
    ))
}

pub(super) async fn delete(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    form: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &form)?;
    let id = pipeline_id(&path)?;
    rosetta.delete_pipeline(id).await?;
    Ok(layout::redirect("/pipelines"))
}
