//! A pipeline's page: its source and destination, its status and phase, lag and progress,
//! the last error, each table's state, and the lifecycle buttons; the figures refresh live.

use actix_web::web::{self, Data};
use maud::{html, Markup};
use rosetta_app::Rosetta;
use rosetta_domain::replication::TableProgress;
use rosetta_domain::PipelineDetails;

use super::{lag, lifecycle, phase_of, pipeline_id};
use crate::error::PageResult;
use crate::format;
use crate::layout::{self, Section};
use crate::session::Viewer;

fn status(viewer: &Viewer, details: &PipelineDetails) -> Markup {
    let id = details.pipeline.id;
    let progress = details.progress.as_ref();
    html! {
        section #pipeline-status aria-labelledby="status-heading" {
            h2 #status-heading { "Status" }
            div.actions { (lifecycle(viewer, details, &format!("/pipelines/{id}"), "pipeline-status")) }
            dl.facts {
                dt { "Asked to" } dd { (details.pipeline.status.as_str()) }
                dt { "Phase" } dd { (format::badge(phase_of(details))) }
                dt { "Lag" } dd { (lag(details)) }
                dt { "Rows copied" } dd { (format::count(progress.map_or(0, |p| p.rows_copied))) }
                dt { "Changes applied" } dd { (format::count(progress.map_or(0, |p| p.changes_applied))) }
                dt { "Last commit applied" } dd { (format::maybe_time(progress.and_then(|p| p.last_commit_at))) }
                dt { "Confirmed position" } dd { @match progress.and_then(|p| p.confirmed_lsn) { Some(lsn) => code { (lsn) }, None => span.muted { "–" } } }
                dt { "Run by" } dd { @match progress.and_then(|p| p.owner.as_deref()) { Some(owner) => code { (owner) }, None => span.muted { "no replicator" } } }
                dt { "Last start" } dd { (format::maybe_time(details.metadata.last_start_at)) }
                dt { "Reported" } dd { (format::maybe_time(progress.map(|p| p.updated_at))) }
            }
            @if let Some(error) = &details.metadata.last_error {
                div.notice.error role="alert" {
                    p { strong { "Last error" } @if let Some(at) = details.metadata.last_error_at { " (" (format::time(at)) ")" } }
                    pre.error-text { (error) }
                    p { "Start the pipeline again once the cause is fixed." }
                }
            }
        }
    }
}

fn tables(tables: &[TableProgress]) -> Markup {
    html! {
        section aria-labelledby="tables-heading" {
            h2 #tables-heading { "Tables" }
            @if tables.is_empty() {
                p.empty { "No table reported yet: the tables of the source's publication appear here once the pipeline starts." }
            } @else {
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { "Table" } th scope="col" { "State" }
                        th.num scope="col" { "Rows copied" } th scope="col" { "Updated" } th scope="col" { "Error" }
                    } }
                    tbody {
                        @for table in tables {
                            tr {
                                td { code { (table.table) } }
                                td { (format::badge(table.state.as_str())) }
                                td.num { (format::count(table.rows_copied)) }
                                td { (format::time(table.updated_at)) }
                                td { @if let Some(error) = &table.error { (error) } }
                            }
                        }
                    }
                } }
            }
        }
    }
}

pub(super) async fn show(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
) -> PageResult {
    let id = pipeline_id(&path)?;
    let details = rosetta.get_pipeline(id).await?;
    let table_states = rosetta.pipeline_tables(id).await?;
    let name = details.pipeline.name.as_str();
    let url = format!("/pipelines/{id}");
    let body = html! {
        p.muted { a href="/pipelines" { "Pipelines" } " / " }
        h1 { "Pipeline " (name) }
        p {
            "From source " a href={ "/sources/" (details.source.id) } { (details.source.name.as_str()) }
            " to destination " a href={ "/destinations/" (details.destination.id) } { (details.destination.name.as_str()) }
            " (" (details.destination.config.destination_type().as_str()) ")."
        }
        div.actions {
            a.button.secondary href={ "/pipelines/" (id) "/edit" } { "Edit" }
            a.button.danger href={ "/pipelines/" (id) "/delete" } { "Delete" }
        }
        (layout::live("pipeline-live", &url, html! { (status(&viewer, &details)) (tables(&table_states)) }))
        p.muted { "Created " (format::time(details.pipeline.created_at)) ", updated " (format::time(details.pipeline.updated_at)) "." }
    };
    Ok(layout::page(
        &viewer,
        Section::Pipelines,
        &format!("Pipeline {name}"),
        body,
    ))
}
