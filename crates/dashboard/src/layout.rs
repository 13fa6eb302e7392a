//! The frame of every page: navigation, the live-updates banner, the scripts, and the
//! headers (a Content-Security-Policy that lets a page load nothing but its own origin, no
//! caching of pages that carry an anti-forgery token).

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::{html, Markup, DOCTYPE};
use rosetta_web_assets as assets;

use crate::session::Viewer;

/// What pages may load and do: their own origin only, no inline code, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// htmx without what the policy forbids (inline indicator styles, `eval`, script tags in
/// swapped content) and with a short timeout so the banner shows soon.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,"timeout":4000,"historyCacheSize":0,"defaultSwapStyle":"outerHTML"}"#;

/// How often live regions refresh.
pub(crate) const LIVE_EVERY: &str = "every 5s";

/// Which part of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Overview,
    Sources,
    Destinations,
    Pipelines,
    None,
}

const SECTIONS: [(Section, &str, &str); 4] = [
    (Section::Overview, "/", "Overview"),
    (Section::Sources, "/sources", "Sources"),
    (Section::Destinations, "/destinations", "Destinations"),
    (Section::Pipelines, "/pipelines", "Pipelines"),
];

fn head(title: &str, charts: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="htmx-config" content=(HTMX_CONFIG);
            title { (title) " · Rosetta" }
            link rel="stylesheet" href=(assets::path_of("rosetta", "dashboard.css"));
            @if charts {
                link rel="stylesheet" href=(assets::path_of("uplot", "uPlot.min.css"));
                script defer src=(assets::path_of("uplot", "uPlot.iife.min.js")) {}
            }
            script defer src=(assets::path_of("htmx.org", "htmx.min.js")) {}
            script defer src=(assets::path_of("rosetta", "dashboard.js")) {}
        }
    }
}

fn navigation(viewer: Option<&Viewer>, section: Section) -> Markup {
    html! {
        a.skip href="#main" { "Skip to the content" }
        header.top {
            a.brand href="/" { "Rosetta" }
            nav aria-label="Main" {
                ul {
                    @for (each, href, label) in SECTIONS {
                        li { a href=(href) aria-current=[(each == section).then_some("page")] { (label) } }
                    }
                    li { a href="/docs" { "API docs" } }
                }
            }
            @if let Some(viewer) = viewer.filter(|viewer| viewer.signed_in) {
                form.sign-out method="post" action="/sign-out" {
                    (crate::forms::csrf_field(&viewer.csrf))
                    button.secondary type="submit" { "Sign out" }
                }
            }
        }
        p #live-status .live-status role="status" aria-live="polite" hidden {}
    }
}

fn document(viewer: Option<&Viewer>, section: Section, title: &str, body: Markup) -> String {
    let charts = body.0.contains("data-chart=");
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, charts))
            body {
                (navigation(viewer, section))
                main #main { (body) }
            }
        }
    }
    .into_string()
}

fn respond(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    response
}

/// A page of the dashboard, `200`.
pub(crate) fn page(viewer: &Viewer, section: Section, title: &str, body: Markup) -> HttpResponse {
    page_with_status(viewer, section, title, body, StatusCode::OK)
}

/// A page of the dashboard with another status (a refused form is `422`, …).
pub(crate) fn page_with_status(
    viewer: &Viewer,
    section: Section,
    title: &str,
    body: Markup,
    status: StatusCode,
) -> HttpResponse {
    let html = document(Some(viewer), section, title, body);
    let mut response = respond(status);
    if viewer.fresh_csrf {
        response.cookie(crate::csrf::cookie(viewer.csrf.clone(), viewer.secure));
    }
    response.body(html)
}

/// A page for someone not let in, or an error before anyone was: no sign-out, no forms.
pub(crate) fn bare(title: &str, body: Markup, status: StatusCode) -> HttpResponse {
    respond(status).body(document(None, Section::None, title, body))
}

/// `303 See Other` to a local path: the answer to every form that worked.
pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A region that refreshes itself every few seconds from `url` (the page it is on), keeping
/// its place: the server renders the page again and the region is taken from it.
pub(crate) fn live(id: &str, url: &str, content: Markup) -> Markup {
    html! {
        div id=(id) data-live hx-get=(url) hx-trigger=(LIVE_EVERY)
            hx-select={ "#" (id) } hx-swap="outerHTML" {
            (content)
        }
    }
}
