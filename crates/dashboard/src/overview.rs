//! The overview: how many sources, destinations and pipelines there are, pipelines by phase,
//! sources by WAL verdict, the worst slot lag, and everything that needs attention.

use actix_web::web::Data;
use maud::{html, Markup};
use rosetta_app::Rosetta;
use rosetta_domain::Severity;

use crate::error::PageResult;
use crate::format;
use crate::layout::{self, Section};
use crate::pipelines::phase_of;
use crate::session::Viewer;

const PHASES: [&str; 5] = ["streaming", "copying", "starting", "paused", "error"];
const VERDICTS: [Severity; 3] = [Severity::Ok, Severity::Warning, Severity::Critical];

fn card(label: &str, figure: impl maud::Render, href: &str) -> Markup {
    html! {
        div.card {
            a href=(href) {
                div.figure { (figure) }
                div { (label) }
            }
        }
    }
}

pub(crate) async fn page(viewer: Viewer, rosetta: Data<Rosetta>) -> PageResult {
    let sources = crate::catalogue::sources(&rosetta).await?;
    let destinations = crate::catalogue::destinations(&rosetta).await?;
    let pipelines = crate::catalogue::pipelines(&rosetta).await?;
    let reports = crate::sources::reports(&rosetta, &sources).await?;

    let phases: Vec<(&str, usize)> = PHASES
        .iter()
        .map(|phase| {
            (
                *phase,
                pipelines.iter().filter(|p| phase_of(p) == *phase).count(),
            )
        })
        .collect();
    let verdicts: Vec<(Severity, usize)> = VERDICTS
        .iter()
        .map(|severity| {
            (
                *severity,
                reports
                    .iter()
                    .filter(|r| r.verdict.severity == *severity)
                    .count(),
            )
        })
        .collect();
    // The slot holding back the most WAL, on any source.
    let worst = reports
        .iter()
        .filter_map(|report| {
            let reading = report.status.as_ref()?.last_reading.as_ref()?;
            let slot = reading
                .slots
                .iter()
                .max_by_key(|slot| slot.retained_bytes.unwrap_or(0))?;
            Some((report, slot))
        })
        .max_by_key(|(_, slot)| slot.retained_bytes.unwrap_or(0));
    let name_of = |id| {
        sources
            .iter()
            .find(|s| s.id == id)
            .map_or("?", |s| s.name.as_str())
    };

    let failing: Vec<_> = pipelines
        .iter()
        .filter(|p| phase_of(p) == "error")
        .collect();
    let unhealthy: Vec<_> = reports
        .iter()
        .filter(|r| r.verdict.severity != Severity::Ok)
        .collect();

    let figures = html! {
        div.cards {
            (card("sources", sources.len(), "/sources"))
            (card("destinations", destinations.len(), "/destinations"))
            (card("pipelines", pipelines.len(), "/pipelines"))
            (card("worst slot lag", match worst {
                Some((_, slot)) => format::maybe_bytes(slot.retained_bytes),
                None => "–".to_owned(),
            }, &worst.map_or("/sources".to_owned(), |(report, _)| format!("/sources/{}", report.source_id))))
        }
        @if let Some((report, slot)) = worst {
            p.muted { "Worst slot: " code { (slot.name) } " on " a href={ "/sources/" (report.source_id) } { (name_of(report.source_id)) } "." }
        }
        div.cards.panels {
            section.card aria-labelledby="by-phase" {
                h2 #by-phase { "Pipelines by phase" }
                ul {
                    @for (phase, n) in &phases { li { (format::badge(phase)) " " (n) } }
                }
            }
            section.card aria-labelledby="by-verdict" {
                h2 #by-verdict { "Sources by WAL verdict" }
                ul {
                    @for (severity, n) in &verdicts { li { (format::badge(severity.as_str())) " " (n) } }
                }
            }
        }
        section aria-labelledby="attention" {
            h2 #attention { "Needs attention" }
            @if failing.is_empty() && unhealthy.is_empty() {
                p { "Nothing: every pipeline runs and every source's WAL is within its thresholds." }
            } @else {
                ul.attention {
                    @for details in &failing {
                        li {
                            (format::badge("error")) " Pipeline "
                            a href={ "/pipelines/" (details.pipeline.id) } { (details.pipeline.name.as_str()) }
                            @if let Some(error) = &details.metadata.last_error { ": " (error) }
                        }
                    }
                    @for report in &unhealthy {
                        li {
                            (format::badge(report.verdict.severity.as_str())) " Source "
                            a href={ "/sources/" (report.source_id) } { (name_of(report.source_id)) }
                            @if let Some(reason) = report.verdict.reasons.first() { ": " (reason.message) }
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        h1 { "Overview" }
        @if sources.is_empty() && destinations.is_empty() && pipelines.is_empty() {
            div.empty {
                p { strong { "Nothing here yet." } " A pipeline copies the tables of a PostgreSQL source to a destination, then streams every change." }
                ol {
                    li { a href="/sources/new" { "Add a source" } ": the PostgreSQL database to replicate from." }
                    li { a href="/destinations/new" { "Add a destination" } ": PostgreSQL or Snowflake." }
                    li { a href="/pipelines/new" { "Create a pipeline" } " linking them." }
                }
            }
        }
        (layout::live("overview-figures", "/", figures))
    };
    Ok(layout::page(&viewer, Section::Overview, "Overview", body))
}
