//! `POST /sources/{id}/check`: whether a source, probed now, is ready for a pipeline; and the
//! check of one aspect, which a destination's check reports too.

use rosetta_domain::{DiagnosticCheck, SourceDiagnostics, SourceId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::reading::{reading_and_slots, SlotResponse, WalReadingResponse};
use super::report::{reading_example, slot_example};
use crate::timestamp::Timestamp;

/// What the check of one aspect of a source or a destination found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct DiagnosticCheckResponse {
    /// A stable, snake_case name. A source's: `reachable`, `server_version`,
    /// `wal_level_logical`, `publication_exists`, `replication_privilege` (required),
    /// `free_replication_slot` (required until the source's slot exists), `slot_exists`,
    /// `monitor_privilege`, `primary` (advice); when the source cannot be reached, `reachable` is
    /// the only check. A PostgreSQL destination's (all required, up to the first that fails):
    /// `connect`, `create_schema`, `create_table`, `bookkeeping`; a destination type this build
    /// does not write to fails one `writer` check.
    #[schemars(example = &"wal_level_logical")]
    pub name: String,
    /// Whether the source passes it.
    #[schemars(example = true)]
    pub passed: bool,
    /// Whether a pipeline needs it to pass; the others are advice.
    #[schemars(example = true)]
    pub required: bool,
    /// What was found, in words (never a secret).
    #[schemars(example = &"wal_level is logical; logical replication needs logical")]
    pub detail: String,
}

impl From<DiagnosticCheck> for DiagnosticCheckResponse {
    fn from(check: DiagnosticCheck) -> Self {
        Self {
            name: check.name.to_owned(),
            passed: check.passed,
            required: check.required,
            detail: check.detail,
        }
    }
}

/// Whether a source, probed now, is ready for a pipeline: every check, and what the probe read
/// when it could connect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(example = source_check_example())]
pub struct SourceCheckResponse {
    /// The source.
    #[schemars(example = 1)]
    pub source_id: i64,
    /// When the check ran (RFC 3339, UTC).
    pub checked_at: Timestamp,
    /// Whether every required check passed.
    #[schemars(example = true)]
    pub ready: bool,
    /// Every check, required ones first.
    pub checks: Vec<DiagnosticCheckResponse>,
    /// What the probe read; `null` when the source could not be reached.
    pub reading: Option<WalReadingResponse>,
    /// The replication slots the probe found, ordered by name; empty when the source could not
    /// be reached.
    pub slots: Vec<SlotResponse>,
}

// The nested types are documented as their own schemas.
crate::nesting_component!(SourceCheckResponse);

impl SourceCheckResponse {
    /// The diagnostics of the source `source_id`.
    pub fn new(source_id: SourceId, diagnostics: SourceDiagnostics) -> Self {
        let (reading, slots) = reading_and_slots(diagnostics.reading, &[]);
        Self {
            source_id: source_id.get(),
            checked_at: diagnostics.checked_at.into(),
            ready: diagnostics.ready,
            checks: diagnostics
                .checks
                .into_iter()
                .map(DiagnosticCheckResponse::from)
                .collect(),
            reading,
            slots,
        }
    }
}

/// A check, as examples show it.
fn check(name: &str, passed: bool, required: bool, detail: &str) -> Value {
    json!({"name": name, "passed": passed, "required": required, "detail": detail})
}

fn source_check_example() -> Value {
    json!({
        "source_id": 1,
        "checked_at": "2026-11-26T10:15:00Z",
        "ready": true,
        "checks": [
            check("reachable", true, true, "connected to database shop on db.example.com:5432 as replicator"),
            check("server_version", true, true, "server_version_num 160004 (PostgreSQL 12 or later is supported)"),
            check("wal_level_logical", true, true, "wal_level is logical; logical replication needs logical"),
            check("publication_exists", true, true, "publication shop_pub exists"),
            check("replication_privilege", true, true, "role replicator may stream replication"),
            check("free_replication_slot", true, false, "1 of max_replication_slots 10 are in use"),
            check("slot_exists", true, false, "replication slot rosetta_1 exists"),
            check("monitor_privilege", true, false, "the role may list the WAL directory"),
            check("primary", true, false, "the server is a primary"),
        ],
        "reading": reading_example(),
        "slots": [slot_example()]
    })
}
