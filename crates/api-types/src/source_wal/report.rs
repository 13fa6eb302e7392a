//! `GET /sources/{id}/wal`: the verdict on a source's WAL, the latest probe outcome, and what
//! the last successful probe read.

use rosetta_domain::{ProbeStatus, SourceWalReport, VerdictReason};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::reading::{reading_and_slots, SlotResponse, WalReadingResponse};
use super::{ReasonCodeName, SeverityName};
use crate::timestamp::Timestamp;

/// One finding of a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct WalReasonResponse {
    /// How bad it is.
    pub severity: SeverityName,
    /// What it is, as a stable code.
    pub code: ReasonCodeName,
    /// The replication slot it is about; `null` when it is about the source.
    #[schemars(example = &"rosetta_1")]
    pub slot: Option<String>,
    /// What it is, in words.
    #[schemars(example = &"slot rosetta_1 is inactive and retains 2147483648 bytes of WAL")]
    pub message: String,
}

impl From<VerdictReason> for WalReasonResponse {
    fn from(reason: VerdictReason) -> Self {
        Self {
            severity: reason.severity.into(),
            code: reason.code.into(),
            slot: reason.slot,
            message: reason.message,
        }
    }
}

/// The latest probe of a source by the WAL monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct ProbeStatusResponse {
    /// When it was last probed (RFC 3339, UTC).
    pub probed_at: Timestamp,
    /// Whether that probe succeeded.
    #[schemars(example = true)]
    pub ok: bool,
    /// Why it failed; `null` when it succeeded. Never holds a secret.
    #[schemars(example = &Value::Null)]
    pub error: Option<String>,
    /// How many probes in a row have failed (0 after a success).
    #[schemars(example = 0)]
    pub consecutive_failures: i32,
    /// When a probe last succeeded (RFC 3339, UTC); `null` if none ever did.
    pub last_success_at: Option<Timestamp>,
}

/// The health of a source's WAL as the monitor last saw it: a verdict with its findings, the
/// latest probe outcome, and what the last successful probe read. The slots are those of the
/// last successful probe, so a source whose probe now fails keeps its slot findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(example = source_wal_example())]
pub struct SourceWalResponse {
    /// The source.
    #[schemars(example = 1)]
    pub source_id: i64,
    /// The worst severity among `reasons`; `ok` when there is none.
    pub verdict: SeverityName,
    /// Every finding, worst first; empty when the verdict is `ok`.
    pub reasons: Vec<WalReasonResponse>,
    /// The latest probe outcome; `null` before the source's first probe.
    pub probe: Option<ProbeStatusResponse>,
    /// What the last successful probe read; `null` before any probe succeeded.
    pub reading: Option<WalReadingResponse>,
    /// The replication slots the last successful probe found, ordered by name; empty when no
    /// probe succeeded yet.
    pub slots: Vec<SlotResponse>,
}

// The nested types are documented as their own schemas.
crate::nesting_component!(SourceWalResponse);

impl From<SourceWalReport> for SourceWalResponse {
    fn from(report: SourceWalReport) -> Self {
        let (probe, last_reading) = match report.status {
            Some(status) => {
                let ok = status.ok();
                let ProbeStatus {
                    probed_at,
                    error,
                    consecutive_failures,
                    last_success_at,
                    last_reading,
                    ..
                } = status;
                let probe = ProbeStatusResponse {
                    probed_at: probed_at.into(),
                    ok,
                    error,
                    consecutive_failures,
                    last_success_at: last_success_at.map(Timestamp),
                };
                (Some(probe), last_reading)
            }
            None => (None, None),
        };
        let (reading, slots) = reading_and_slots(last_reading, &report.slot_owners);
        Self {
            source_id: report.source_id.get(),
            verdict: report.verdict.severity.into(),
            reasons: report
                .verdict
                .reasons
                .into_iter()
                .map(WalReasonResponse::from)
                .collect(),
            probe,
            reading,
            slots,
        }
    }
}

fn source_wal_example() -> Value {
    json!({
        "source_id": 1,
        "verdict": "warning",
        "reasons": [{
            "severity": "warning",
            "code": "slot_inactive_retaining",
            "slot": "rosetta_1",
            "message": "slot rosetta_1 is inactive and retains 2147483648 bytes of WAL"
        }, {
            "severity": "warning",
            "code": "retained_above_warning",
            "slot": "rosetta_1",
            "message": "slot rosetta_1 retains 2147483648 bytes of WAL, above the warning threshold of 1073741824 bytes"
        }],
        "probe": {
            "probed_at": "2026-11-26T10:15:00Z",
            "ok": true,
            "error": null,
            "consecutive_failures": 0,
            "last_success_at": "2026-11-26T10:15:00Z"
        },
        "reading": reading_example(),
        "slots": [slot_example()]
    })
}

/// A reading, as examples show it.
pub(super) fn reading_example() -> Value {
    json!({
        "read_at": "2026-11-26T10:15:00Z",
        "position_bytes": 3_221_225_472_i64,
        "in_recovery": false,
        "server_version_num": 160_004,
        "wal_level": "logical",
        "max_replication_slots": 10,
        "max_slot_wal_keep_size_bytes": null,
        "wal_directory": {"size_bytes": 2_214_592_512_i64, "segments": 132},
        "publication_exists": true,
        "slot_exists": true,
        "privileges": {"superuser": false, "replication": true, "monitor": true}
    })
}

/// A slot, as examples show it.
pub(super) fn slot_example() -> Value {
    json!({
        "name": "rosetta_1",
        "slot_type": "logical",
        "plugin": "pgoutput",
        "database": "shop",
        "active": false,
        "retained_bytes": 2_147_483_648_i64,
        "unconfirmed_bytes": 2_147_483_648_i64,
        "wal_status": "extended",
        "safe_wal_size_bytes": null
    })
}
