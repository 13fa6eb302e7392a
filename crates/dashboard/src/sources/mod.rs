//! The sources: the list with each source's WAL verdict, a source's page (its WAL history,
//! slots and verdict), the create and edit forms, delete, and "Run check".

mod delete;
mod form;
mod page;

use actix_web::web::{self, Data};
use maud::html;
use rosetta_app::Rosetta;
use rosetta_domain::{Severity, SourceWalReport};

use crate::error::PageResult;
use crate::format;
use crate::layout::{self, Section};
use crate::session::Viewer;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/sources", web::get().to(list))
        .route("/sources", web::post().to(form::create))
        .route("/sources/new", web::get().to(form::new))
        .route("/sources/{id}", web::get().to(page::show))
        .route("/sources/{id}", web::post().to(form::update))
        .route("/sources/{id}/edit", web::get().to(form::edit))
        .route("/sources/{id}/check", web::post().to(page::check))
        .route("/sources/{id}/delete", web::get().to(delete::confirm))
        .route("/sources/{id}/delete", web::post().to(delete::delete));
}

/// The word for a verdict.
pub(crate) fn verdict_word(severity: Severity) -> &'static str {
    severity.as_str()
}

/// The verdict of every source, in the order given; a source deleted meanwhile is left out.
pub(crate) async fn reports(
    rosetta: &Rosetta,
    sources: &[rosetta_domain::Source],
) -> Result<Vec<SourceWalReport>, rosetta_app::AppError> {
    let mut reports = Vec::with_capacity(sources.len());
    for source in sources {
        match rosetta.source_wal_report(source.id).await {
            Ok(report) => reports.push(report),
            Err(rosetta_app::AppError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(reports)
}

async fn list(viewer: Viewer, rosetta: Data<Rosetta>) -> PageResult {
    let sources = crate::catalogue::sources(&rosetta).await?;
    let reports = reports(&rosetta, &sources).await?;
    let body = html! {
        h1 { "Sources" }
        div.actions { a.button href="/sources/new" { "Add a source" } }
        @if sources.is_empty() {
            div.empty {
                p { "No sources yet. A source is a PostgreSQL database to replicate from, with "
                    code { "wal_level = logical" } " and a publication of the tables to copy." }
                p { a.button href="/sources/new" { "Add your first source" } }
            }
        } @else {
            (layout::live("sources-table", "/sources", html! {
                div.table-wrap {
                    table.rows {
                        caption.muted { (sources.len()) " source(s)" }
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Server" }
                            th scope="col" { "Publication" } th scope="col" { "WAL verdict" }
                            th scope="col" { "Last probe" }
                        } }
                        tbody {
                            @for source in &sources {
                                @let report = reports.iter().find(|r| r.source_id == source.id);
                                tr id={ "source-" (source.id) } {
                                    td data-label="Name" { a href={ "/sources/" (source.id) } { (source.name.as_str()) } }
                                    td data-label="Server" { (source.pg_host.as_str()) ":" (source.pg_port.get()) "/" (source.pg_database.as_str()) }
                                    td data-label="Publication" { code { (source.publication_name.as_str()) } }
                                    td data-label="WAL verdict" {
                                        @if let Some(report) = report {
                                            (format::badge(verdict_word(report.verdict.severity)))
                                            @if let Some(reason) = report.verdict.reasons.first() {
                                                " " span.muted { (reason.message) }
                                            }
                                        }
                                    }
                                    td data-label="Last probe" { (format::maybe_time(report.and_then(|r| r.status.as_ref()).map(|s| s.probed_at))) }
                                }
                            }
                        }
                    }
                }
            }))
        }
    };
    Ok(layout::page(&viewer, Section::Sources, "Sources", body))
}
