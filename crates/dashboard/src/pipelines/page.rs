//! A pipeline's page: its source and destination, its status and phase, lag and progress,
//! the last error, each table's state, and the lifecycle buttons, whose figures refresh live;
//! and its lag and throughput over the last hour, day or week, from the samples its runs left.

use actix_web::web::{self, Data};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use rosetta_app::Rosetta;
use rosetta_domain::replication::{PipelineSeriesPoint, PipelineSeriesQuery, TableProgress};
use rosetta_domain::{Limit, PipelineDetails};

use super::{lag, lifecycle, phase_of, pipeline_id};
use crate::charts::{self, Range, RangeQuery, Series};
use crate::error::{PageError, PageResult};
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

fn history(
    base: &str,
    (range, now): (Range, DateTime<Utc>),
    points: &[PipelineSeriesPoint],
) -> Markup {
    let bucket = range.bucket.as_str();
    let mut oldest_first: Vec<&PipelineSeriesPoint> = points.iter().collect();
    oldest_first.sort_by_key(|point| point.bucket_start);
    let xs: Vec<i64> = oldest_first
        .iter()
        .map(|point| point.bucket_start.timestamp())
        .collect();
    let lag = Series {
        label: "Largest lag",
        unit: "bytes",
        values: oldest_first
            .iter()
            .map(|point| point.max_lag_bytes.into())
            .collect(),
    };
    let throughput = Series {
        label: "Changes applied",
        unit: "per_second",
        values: oldest_first
            .iter()
            .map(|point| point.changes_per_second.into())
            .collect(),
    };
    html! {
        section aria-labelledby="history-heading" {
            h2 #history-heading { "Lag and throughput per " (bucket) ", last " (range.label) }
            (charts::range_nav(base, range))
            @if xs.is_empty() {
                p.empty { "No samples in this range yet: a running pipeline leaves one every REPLICATOR_SAMPLE_SECONDS (a minute unless configured)." }
            } @else {
                h3 { "Lag (bytes of the source's WAL not yet on the destination)" }
                (charts::chart("lag-chart", &format!("Largest lag per {bucket} over the last {}", range.label), (range, now), &xs, &[lag]))
                h3 { "Throughput (row changes applied per second)" }
                (charts::chart("throughput-chart", &format!("Row changes applied per second, per {bucket}, over the last {}", range.label), (range, now), &xs, &[throughput]))
                p.muted { (xs.len()) " bucket(s) of " (bucket) "." }
            }
        }
    }
}

pub(super) async fn show(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    query: web::Query<RangeQuery>,
) -> PageResult {
    let id = pipeline_id(&path)?;
    let details = rosetta.get_pipeline(id).await?;
    let table_states = rosetta.pipeline_tables(id).await?;
    let range = query.range();
    let now = Utc::now();
    let limit = Limit::new(i64::from(Limit::MAX)).map_err(|_| PageError::Internal)?;
    let series = PipelineSeriesQuery {
        from: Some(range.start(now)),
        to: None,
        limit,
    };
    let points = rosetta.pipeline_series(id, series, range.bucket).await?;
    let name = details.pipeline.name.as_str();
    let base = format!("/pipelines/{id}");
    let url = format!("{base}?range={}", range.key);
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
        (history(&base, (range, now), &points))
        p.muted { "Created " (format::time(details.pipeline.created_at)) ", updated " (format::time(details.pipeline.updated_at)) "." }
    };
    Ok(layout::page(
        &viewer,
        Section::Pipelines,
        &format!("Pipeline {name}"),
        body,
    ))
}
