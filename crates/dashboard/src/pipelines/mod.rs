//! The pipelines: the list with status, phase and lag; start, pause and refresh (which asks
//! first); a pipeline's page; the create and edit forms; delete.

mod actions;
mod form;
mod page;

use actix_web::web::{self, Data};
use maud::{html, Markup};
use rosetta_app::Rosetta;
use rosetta_domain::{
    EntityKind, PipelineDetails, PipelineId, PipelineMetadataStatus, PipelineStatus,
};

use crate::error::{PageError, PageResult};
use crate::format;
use crate::forms::csrf_field;
use crate::layout::{self, Section};
use crate::session::Viewer;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/pipelines", web::get().to(list))
        .route("/pipelines", web::post().to(form::create))
        .route("/pipelines/new", web::get().to(form::new))
        .route("/pipelines/{id}", web::get().to(page::show))
        .route("/pipelines/{id}", web::post().to(form::update))
        .route("/pipelines/{id}/edit", web::get().to(form::edit))
        .route(
            "/pipelines/{id}/refresh",
            web::get().to(actions::confirm_refresh),
        )
        .route(
            "/pipelines/{id}/delete",
            web::get().to(actions::confirm_delete),
        )
        .route("/pipelines/{id}/delete", web::post().to(actions::delete))
        .route(
            "/pipelines/{id}/{action:start|pause|refresh}",
            web::post().to(actions::lifecycle),
        );
}

/// Where a pipeline is, in one word: what the data plane last reported, or, before any
/// report, what it was asked (`paused`) or is waiting for (`starting`); an error wins.
pub(crate) fn phase_of(details: &PipelineDetails) -> &'static str {
    if details.metadata.status == PipelineMetadataStatus::Error {
        return "error";
    }
    match &details.progress {
        Some(progress) => progress.phase.as_str(),
        None if details.pipeline.status == PipelineStatus::Pause => "paused",
        None => "starting",
    }
}

pub(crate) fn pipeline_id(raw: &str) -> Result<PipelineId, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(PipelineId::new)
        .ok_or_else(|| PageError::NotFound {
            entity: EntityKind::Pipeline,
            id: raw.to_owned(),
        })
}

/// The lag, in bytes and in time.
pub(crate) fn lag(details: &PipelineDetails) -> Markup {
    match &details.progress {
        Some(progress) if progress.lag_bytes.is_some() || progress.lag.is_some() => html! {
            (format::maybe_bytes(progress.lag_bytes))
            @if let Some(lag) = progress.lag { br; span.muted { (format::duration(lag)) } }
        },
        _ => html! { span.muted { "–" } },
    }
}

/// Start or pause (whichever applies) and refresh, as buttons that update `target` in place
/// with htmx (and post plainly without it), coming back to `back`.
pub(crate) fn lifecycle(
    viewer: &Viewer,
    details: &PipelineDetails,
    back: &str,
    target: &str,
) -> Markup {
    let id = details.pipeline.id;
    let (verb, label) = if details.pipeline.status == PipelineStatus::Pause {
        ("start", "Start")
    } else {
        ("pause", "Pause")
    };
    let action = format!("/pipelines/{id}/{verb}");
    html! {
        form method="post" action=(action) hx-post=(action) hx-target={ "#" (target) }
            hx-select={ "#" (target) } hx-swap="outerHTML" {
            (csrf_field(&viewer.csrf))
            input type="hidden" name="back" value=(back);
            button id={ (verb) "-" (id) } type="submit" class=(if verb == "pause" { "secondary" } else { "" })
                aria-label={ (label) " pipeline " (details.pipeline.name.as_str()) } { (label) }
        }
        a.button.secondary href={ "/pipelines/" (id) "/refresh" }
            aria-label={ "Refresh pipeline " (details.pipeline.name.as_str()) } { "Refresh…" }
    }
}

fn row(viewer: &Viewer, details: &PipelineDetails) -> Markup {
    let id = details.pipeline.id;
    let row_id = format!("pipeline-{id}");
    html! {
        tr id=(row_id) {
            td data-label="Name" { a href={ "/pipelines/" (id) } { (details.pipeline.name.as_str()) } }
            td data-label="Source" { a href={ "/sources/" (details.source.id) } { (details.source.name.as_str()) } }
            td data-label="Destination" { a href={ "/destinations/" (details.destination.id) } { (details.destination.name.as_str()) } }
            td data-label="Status" { (details.pipeline.status.as_str()) }
            td data-label="Phase" { (format::badge(phase_of(details))) }
            td.num data-label="Lag" { (lag(details)) }
            td.num data-label="Changes applied" { (format::count(details.progress.as_ref().map_or(0, |p| p.changes_applied))) }
            td data-label="Actions" { div.actions { (lifecycle(viewer, details, "/pipelines", &row_id)) } }
        }
    }
}

/// The table of pipelines (the list page, and the benchmark of 1,000).
pub(crate) fn table(viewer: &Viewer, pipelines: &[PipelineDetails]) -> Markup {
    html! {
        div.table-wrap {
            table.rows {
                caption.muted { (pipelines.len()) " pipeline(s)" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Source" } th scope="col" { "Destination" }
                    th scope="col" { "Status" } th scope="col" { "Phase" } th.num scope="col" { "Lag" }
                    th.num scope="col" { "Changes applied" } th scope="col" { "Actions" }
                } }
                tbody { @for details in pipelines { (row(viewer, details)) } }
            }
        }
    }
}

async fn list(viewer: Viewer, rosetta: Data<Rosetta>) -> PageResult {
    let pipelines = crate::catalogue::pipelines(&rosetta).await?;
    let body = html! {
        h1 { "Pipelines" }
        div.actions { a.button href="/pipelines/new" { "Create a pipeline" } }
        @if pipelines.is_empty() {
            div.empty {
                p { "No pipelines yet. A pipeline copies the tables of a source's publication to a destination, then streams every change." }
                p { a.button href="/pipelines/new" { "Create your first pipeline" } }
            }
        } @else {
            (layout::live("pipelines-table", "/pipelines", table(&viewer, &pipelines)))
        }
    };
    Ok(layout::page(&viewer, Section::Pipelines, "Pipelines", body))
}
