//! Black-box tests of the REST API: the real service on port 0 against a fresh database,
//! driven over HTTP like any client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod sources;
