//! Parts that several pages share.

use chrono::{DateTime, Utc};
use maud::{html, Markup};
use rosetta_domain::{DiagnosticCheck, PipelineRef};

use crate::format;

use crate::forms::csrf_field;
use crate::session::Viewer;

/// The page that asks before deleting `name`; with `used_by`, the refusal that names the
/// pipelines in the way and offers to delete them too.
pub(crate) fn confirm_delete(
    viewer: &Viewer,
    kind: &str,
    name: &str,
    page: &str,
    used_by: &[PipelineRef],
    note: &str,
) -> Markup {
    html! {
        h1 { "Delete " (kind) " " (name) "?" }
        @if used_by.is_empty() {
            p { "This cannot be undone. " (note) }
            div.actions {
                form method="post" action={ (page) "/delete" } {
                    (csrf_field(&viewer.csrf))
                    button.danger type="submit" { "Delete " (name) }
                }
                a.button.secondary href=(page) { "Cancel" }
            }
        } @else {
            div.notice.error role="alert" {
                p { strong { "The " (kind) " " (name) " is in use by pipelines: " }
                    @for (i, pipeline) in used_by.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={ "/pipelines/" (pipeline.id) } { (pipeline.name.as_str()) }
                    }
                    "." }
                p { "It was not deleted. Delete or move those pipelines first, or delete them with it." }
            }
            div.actions {
                form method="post" action={ (page) "/delete" } {
                    (csrf_field(&viewer.csrf))
                    input type="hidden" name="cascade" value="yes";
                    button.danger type="submit" {
                        "Delete " (name) " and its " (used_by.len()) " pipeline(s)"
                    }
                }
                a.button.secondary href=(page) { "Cancel" }
            }
        }
    }
}

/// The outcome of a "Run check": ready or not, and each check with its detail.
pub(crate) fn checks(
    ready: bool,
    checked_at: DateTime<Utc>,
    checks: &[DiagnosticCheck],
    ready_means: &str,
) -> Markup {
    html! {
        section aria-labelledby="diagnostics" {
            h2 #diagnostics { "Checked " (format::time(checked_at)) }
            @if ready {
                p.notice.success role="status" { "Ready: " (ready_means) "." }
            } @else {
                p.notice.error role="alert" { "Not ready: fix the failing required checks below." }
            }
            div.table-wrap { table {
                thead { tr { th scope="col" { "Check" } th scope="col" { "Result" } th scope="col" { "Required" } th scope="col" { "Detail" } } }
                tbody {
                    @for check in checks {
                        tr {
                            td { code { (check.name) } }
                            td { @if check.passed { (format::badge("ok")) } @else if check.required { (format::badge("error")) } @else { (format::badge("warning")) } }
                            td { @if check.required { "yes" } @else { "no" } }
                            td { (check.detail) }
                        }
                    }
                }
            } }
        }
    }
}
