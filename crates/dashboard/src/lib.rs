//! Rosetta's web dashboard: the catalogue, the pipelines' lifecycle and the WAL monitor in a
//! browser, rendered on the server from the use cases of `rosetta-app` and served by
//! `rosetta serve` at `/`.
//!
//! - Pages are plain HTML that work without JavaScript: every action is a form that posts and
//!   is answered with a redirect (or the form again, with the API's validation messages next
//!   to their fields). With JavaScript, htmx refreshes the live figures every few seconds and
//!   turns the lifecycle buttons into in-place updates; a banner says when the server cannot be
//!   reached ("live updates paused") and when it answers again.
//! - Every asset is embedded in the binary (`rosetta-web-assets`): no CDN, nothing fetched at
//!   run time; the Content-Security-Policy lets a page load nothing but its own origin.
//! - With API keys configured, a page asks for a key once and keeps a signed session cookie
//!   (HttpOnly, SameSite=Strict, 12 hours, sign-out); without keys the dashboard is open, like
//!   the API. Every form is protected against cross-site request forgery (a token bound to a
//!   cookie, and the browser's `Sec-Fetch-Site` / `Origin`).
//! - Secrets are write-only: no page shows a stored password, passphrase or key, and a secret
//!   field left empty keeps the stored value.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

use actix_web::web;

mod catalogue;
mod charts;
mod csrf;
mod destinations;
mod error;
mod format;
mod forms;
mod layout;
mod overview;
mod pages;
mod pipelines;
mod session;
mod sources;

/// Registers the dashboard's pages and actions on an app that has the use cases
/// (`Data<rosetta_app::Rosetta>`) and the API keys (`Data<rosetta_http_api::auth::ApiKeys>`) as
/// app data.
pub fn configure(config: &mut web::ServiceConfig) {
    config.route("/", web::get().to(overview::page));
    session::configure(config);
    sources::configure(config);
    destinations::configure(config);
    pipelines::configure(config);
}
