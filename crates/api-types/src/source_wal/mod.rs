//! The WAL of a source as the monitor last saw it (`GET /sources/{id}/wal`) and an on-demand
//! check of a source (`POST /sources/{id}/check`): the verdict, the probe's reading and the
//! replication slots.

mod check;
mod reading;
mod report;

pub use check::{DiagnosticCheckResponse, SourceCheckResponse};
pub use reading::{RolePrivilegesResponse, SlotResponse, WalDirectoryResponse, WalReadingResponse};
pub use report::{ProbeStatusResponse, SourceWalResponse, WalReasonResponse};

use rosetta_domain::{ReasonCode, Severity, SlotType};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How bad things are: `ok` (nothing to do), `warning` (look at it soon) or `critical` (a disk
/// may fill or a slot may be lost: act now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "snake_case")]
// Documented variants would turn the schema into a `oneOf`; a plain `enum` lists the values.
#[expect(missing_docs, reason = "the variants are described on the enum")]
pub enum SeverityName {
    Ok,
    Warning,
    Critical,
}

impl From<Severity> for SeverityName {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Ok => Self::Ok,
            Severity::Warning => Self::Warning,
            Severity::Critical => Self::Critical,
        }
    }
}

/// What a finding is about: `not_probed_yet` (the source has not been probed yet),
/// `probe_failing` (the latest probe failed; critical after three failures in a row),
/// `slot_inactive_retaining` (a slot nobody streams from holds WAL back),
/// `retained_above_warning` / `retained_above_critical` (a slot retains more WAL than the
/// warning / critical threshold), `wal_unreserved` (a slot's WAL goes at the next checkpoint),
/// `wal_lost` (a slot can no longer be streamed from) or `safe_wal_size_low` (a slot's
/// `safe_wal_size` is under 20 % of `max_slot_wal_keep_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "snake_case")]
#[expect(missing_docs, reason = "the variants are described on the enum")]
pub enum ReasonCodeName {
    NotProbedYet,
    ProbeFailing,
    SlotInactiveRetaining,
    RetainedAboveWarning,
    RetainedAboveCritical,
    WalUnreserved,
    WalLost,
    SafeWalSizeLow,
}

impl From<ReasonCode> for ReasonCodeName {
    fn from(code: ReasonCode) -> Self {
        match code {
            ReasonCode::NotProbedYet => Self::NotProbedYet,
            ReasonCode::ProbeFailing => Self::ProbeFailing,
            ReasonCode::SlotInactiveRetaining => Self::SlotInactiveRetaining,
            ReasonCode::RetainedAboveWarning => Self::RetainedAboveWarning,
            ReasonCode::RetainedAboveCritical => Self::RetainedAboveCritical,
            ReasonCode::WalUnreserved => Self::WalUnreserved,
            ReasonCode::WalLost => Self::WalLost,
            ReasonCode::SafeWalSizeLow => Self::SafeWalSizeLow,
        }
    }
}

/// The kind of a replication slot: `physical` (streams WAL to a standby) or `logical` (decodes
/// changes for a subscriber such as a CDC pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
#[serde(rename_all = "snake_case")]
#[expect(missing_docs, reason = "the variants are described on the enum")]
pub enum SlotTypeName {
    Physical,
    Logical,
}

impl From<SlotType> for SlotTypeName {
    fn from(slot_type: SlotType) -> Self {
        match slot_type {
            SlotType::Physical => Self::Physical,
            SlotType::Logical => Self::Logical,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn spelled<T: Serialize>(value: T) -> Option<Value> {
        serde_json::to_value(value).ok()
    }

    #[test]
    fn reason_codes_are_spelled_as_the_domain_spells_them() {
        let codes = [
            ReasonCode::NotProbedYet,
            ReasonCode::ProbeFailing,
            ReasonCode::SlotInactiveRetaining,
            ReasonCode::RetainedAboveWarning,
            ReasonCode::RetainedAboveCritical,
            ReasonCode::WalUnreserved,
            ReasonCode::WalLost,
            ReasonCode::SafeWalSizeLow,
        ];
        for code in codes {
            assert_eq!(
                spelled(ReasonCodeName::from(code)),
                Some(Value::from(code.as_str()))
            );
        }
    }

    #[test]
    fn severities_and_slot_types_are_spelled_as_the_domain_spells_them() {
        for severity in [Severity::Ok, Severity::Warning, Severity::Critical] {
            assert_eq!(
                spelled(SeverityName::from(severity)),
                Some(Value::from(severity.as_str()))
            );
        }
        for slot_type in [SlotType::Physical, SlotType::Logical] {
            assert_eq!(
                spelled(SlotTypeName::from(slot_type)),
                Some(Value::from(slot_type.as_str()))
            );
        }
    }
}
