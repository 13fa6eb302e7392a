//! `POST /destinations/{id}/check`: whether Rosetta can sign in to a destination and write there.

use rosetta_domain::DestinationDiagnostics;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::source_wal::DiagnosticCheckResponse;
use crate::timestamp::Timestamp;

/// Whether Rosetta, checking now, can sign in to a destination and write there: every step it
/// tried, up to the first that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(example = destination_check_example())]
pub struct DestinationDiagnosticsResponse {
    /// When the check ran (RFC 3339, UTC).
    pub checked_at: Timestamp,
    /// Whether every required check passed.
    #[schemars(example = true)]
    pub ready: bool,
    /// Every check, required ones first; the first that failed is the last.
    pub checks: Vec<DiagnosticCheckResponse>,
}

// The check is documented as a schema of its own.
crate::nesting_component!(DestinationDiagnosticsResponse);

impl From<DestinationDiagnostics> for DestinationDiagnosticsResponse {
    fn from(diagnostics: DestinationDiagnostics) -> Self {
        Self {
            checked_at: diagnostics.checked_at.into(),
            ready: diagnostics.ready,
            checks: diagnostics
                .checks
                .into_iter()
                .map(DiagnosticCheckResponse::from)
                .collect(),
        }
    }
}

fn destination_check_example() -> Value {
    let check = |name: &str, detail: &str| json!({"name": name, "passed": true, "required": true, "detail": detail});
    json!({
        "checked_at": "2026-11-26T10:15:00Z",
        "ready": true,
        "checks": [
            check("connect", "signed in to database warehouse on dw.example.com:5432 as loader"),
            check("create_schema", "schema public exists"),
            check("create_table", "may create tables in schema public (tried with rosetta_check_4242_17, rolled back)"),
            check("bookkeeping", "Rosetta's bookkeeping (schema rosetta) exists and role loader may write it"),
        ]
    })
}
