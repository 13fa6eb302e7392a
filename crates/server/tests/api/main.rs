//! Black-box tests of the REST API: the real service on port 0 against a fresh database,
//! driven over HTTP like any client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod bodies;
mod cli;
mod client;
mod cors;
mod dashboard;
mod destinations;
mod errors;
mod faults;
mod health;
mod helpers;
mod metrics_endpoint;
mod openapi;
mod pipelines;
mod prometheus_text;
mod proxy;
mod source_wal;
mod sources;
mod wal_metrics;
mod wal_monitor;
