//! A source's page: what it is, the verdict on its WAL with the reasons, the WAL written over
//! the last hour, day or week (the API's buckets), its replication slots with their owners,
//! and "Run check".

use actix_web::web::{self, Data};
use actix_web::HttpRequest;
use chrono::Utc;
use maud::{html, Markup};
use rosetta_app::Rosetta;
use rosetta_domain::{Limit, Source, SourceId, SourceWalReport, WalMetricQuery, WalSeriesPoint};

use crate::charts::{self, RangeQuery, Series};
use crate::error::{PageError, PageResult};
use crate::format;
use crate::forms::{csrf_field, Form};
use crate::layout::{self, Section};
use crate::session::Viewer;

pub(crate) fn source_id(raw: &str) -> Result<SourceId, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(SourceId::new)
        .ok_or_else(|| PageError::NotFound {
            entity: rosetta_domain::EntityKind::Source,
            id: raw.to_owned(),
        })
}

/// The WAL written in each bucket, oldest first: the rise of the WAL position from the bucket
/// before (within the bucket for the first one).
pub(crate) fn written_per_bucket(points: &[WalSeriesPoint]) -> (Vec<i64>, Vec<i64>) {
    let mut oldest_first: Vec<&WalSeriesPoint> = points.iter().collect();
    oldest_first.sort_by_key(|point| point.bucket_start);
    let mut xs = Vec::with_capacity(oldest_first.len());
    let mut written = Vec::with_capacity(oldest_first.len());
    let mut previous: Option<i64> = None;
    for point in oldest_first {
        xs.push(point.bucket_start.timestamp());
        let rise = match previous {
            Some(before) => point.last_bytes - before,
            None => point.max_bytes - point.min_bytes,
        };
        // A restored or re-created server may start again lower: never a negative rise.
        written.push(rise.max(0));
        previous = Some(point.last_bytes);
    }
    (xs, written)
}

fn verdict(report: &SourceWalReport) -> Markup {
    html! {
        section aria-labelledby="verdict" {
            h2 #verdict { "WAL verdict: " (format::badge(report.verdict.severity.as_str())) }
            @if report.verdict.reasons.is_empty() {
                p { "Every replication slot is within its thresholds." }
            } @else {
                ul {
                    @for reason in &report.verdict.reasons {
                        li { (format::badge(reason.severity.as_str())) " " (reason.message) }
                    }
                }
            }
            @if let Some(status) = &report.status {
                p.muted {
                    "Last probe " (format::time(status.probed_at))
                    @if let Some(at) = status.last_success_at { "; last success " (format::time(at)) }
                    "."
                }
            }
        }
    }
}

fn slots(report: &SourceWalReport) -> Markup {
    let reading = report.status.as_ref().and_then(|s| s.last_reading.as_ref());
    html! {
        section aria-labelledby="slots" {
            h2 #slots { "Replication slots" }
            @match reading {
                None => p.empty { "No reading yet: the WAL monitor probes every source each cycle." },
                Some(reading) if reading.slots.is_empty() => p.empty { "This server has no replication slots. A pipeline creates its slot when it starts." },
                Some(reading) => div.table-wrap { table {
                    thead { tr {
                        th scope="col" { "Slot" } th scope="col" { "Type" } th scope="col" { "Active" }
                        th scope="col" { "wal_status" } th.num scope="col" { "Retained WAL" }
                        th.num scope="col" { "safe_wal_size" } th scope="col" { "Owning pipeline" }
                    } }
                    tbody {
                        @for slot in &reading.slots {
                            @let owner = report.slot_owners.iter().find(|o| o.slot == slot.name);
                            tr {
                                td { code { (slot.name) } }
                                td { (slot.slot_type.as_str()) @if let Some(plugin) = &slot.plugin { " (" (plugin) ")" } }
                                td { @if slot.active { "yes" } @else { strong { "no" } } }
                                td { (slot.wal_status.as_deref().unwrap_or("–")) }
                                td.num { (format::maybe_bytes(slot.retained_bytes)) }
                                td.num { (format::maybe_bytes(slot.safe_wal_size_bytes)) }
                                td { @match owner {
                                    Some(owner) => a href={ "/pipelines/" (owner.pipeline.id) } { (owner.pipeline.name.as_str()) },
                                    None => span.muted { "none (not Rosetta's, or left by a deleted pipeline)" },
                                } }
                            }
                        }
                    }
                } },
            }
            @if let Some(reading) = reading {
                p.muted {
                    "WAL level " code { (reading.wal_level) } ", "
                    (reading.slots.len()) " of " (reading.max_replication_slots) " slots used"
                    @if let Some(dir) = &reading.wal_directory { ", WAL directory " (format::bytes(dir.size_bytes.into())) }
                    @if let Some(keep) = reading.max_slot_wal_keep_size_bytes { ", max_slot_wal_keep_size " (format::bytes(keep.into())) }
                    "."
                }
            }
        }
    }
}

fn facts(source: &Source) -> Markup {
    html! {
        dl.facts {
            dt { "Server" } dd { (source.pg_host.as_str()) ":" (source.pg_port.get()) }
            dt { "Database" } dd { (source.pg_database.as_str()) }
            dt { "Role" } dd { (source.pg_username.as_str()) }
            dt { "Password" } dd { @if source.pg_password.is_some() { "stored (never shown)" } @else { "none" } }
            dt { "Publication" } dd { code { (source.publication_name.as_str()) } }
            dt { "Replication id" } dd { (source.replication_id.get()) }
            dt { "TLS" } dd { (source.ssl_mode.as_str()) }
            dt { "Created" } dd { (format::time(source.created_at)) }
            dt { "Updated" } dd { (format::time(source.updated_at)) }
        }
    }
}

pub(crate) fn actions(viewer: &Viewer, source: &Source) -> Markup {
    html! {
        div.actions {
            form method="post" action={ "/sources/" (source.id) "/check" } {
                (csrf_field(&viewer.csrf))
                button type="submit" { "Run check" }
            }
            a.button.secondary href={ "/sources/" (source.id) "/edit" } { "Edit" }
            a.button.danger href={ "/sources/" (source.id) "/delete" } { "Delete" }
        }
    }
}

pub(crate) async fn show(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    query: web::Query<RangeQuery>,
) -> PageResult {
    let id = source_id(&path)?;
    let source = rosetta.get_source(id).await?;
    let report = rosetta.source_wal_report(id).await?;
    let range = query.range();
    let now = Utc::now();
    let limit = Limit::new(i64::from(Limit::MAX)).map_err(|_| PageError::Internal)?;
    let points = rosetta
        .list_wal_series(
            WalMetricQuery {
                source_id: Some(id),
                from: Some(range.start(now)),
                to: None,
                limit,
            },
            range.bucket,
        )
        .await?;
    let (xs, written) = written_per_bucket(&points);
    let bucket = range.bucket.as_str();
    let body = html! {
        p.muted { a href="/sources" { "Sources" } " / " }
        h1 { "Source " (source.name.as_str()) }
        (actions(&viewer, &source))
        (facts(&source))
        (layout::live("source-health", &format!("/sources/{id}?range={}", range.key), html! { (verdict(&report)) (slots(&report)) }))
        section aria-labelledby="history" {
            h2 #history { "WAL written per " (bucket) ", last " (range.label) }
            (charts::range_nav(&format!("/sources/{id}"), range))
            @if xs.is_empty() {
                p.empty { "No WAL samples in this range yet: the WAL monitor records one per source each cycle." }
            } @else {
                (charts::chart("wal-chart", &format!("WAL written per {bucket} over the last {}", range.label), (range, now), &xs, &[Series {
                    label: "WAL written",
                    unit: "bytes",
                    values: written.into_iter().map(serde_json::Value::from).collect(),
                }]))
                p.muted { (xs.len()) " bucket(s) of " (bucket) "." }
            }
        }
    };
    Ok(layout::page(
        &viewer,
        Section::Sources,
        &format!("Source {}", source.name.as_str()),
        body,
    ))
}

pub(crate) async fn check(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    form: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &form)?;
    let id = source_id(&path)?;
    let source = rosetta.get_source(id).await?;
    let result = rosetta.check_source(id).await?;
    let body = html! {
        p.muted { a href="/sources" { "Sources" } " / " a href={ "/sources/" (id) } { (source.name.as_str()) } " / " }
        h1 { "Check of source " (source.name.as_str()) }
        (crate::pages::checks(result.ready, result.checked_at, &result.checks, "this source can feed a pipeline"))
        p { a href={ "/sources/" (id) } { "Back to the source" } }
    };
    Ok(layout::page(
        &viewer,
        Section::Sources,
        &format!("Check of {}", source.name.as_str()),
        body,
    ))
}
