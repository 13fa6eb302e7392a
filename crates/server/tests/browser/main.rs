//! Real-browser tests: Debian's headless Chromium, driven over WebDriver, against a real
//! `rosetta serve` on a real PostgreSQL, with no way out to the internet (every host but
//! 127.0.0.1 fails to resolve). Screenshots of the main pages go to `target/screenshots/`.
//! `scripts/ensure-chromium.sh` installs the browser; `scripts/test.sh` runs it first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dashboard;
mod docs;
#[allow(dead_code)]
#[path = "../replication/harness.rs"]
mod harness;
mod server;
mod webdriver;
