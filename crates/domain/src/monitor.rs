//! What the WAL monitor keeps of each source (its latest probe outcome) and how it judges it:
//! the health verdict of a source's WAL and replication slots.

use chrono::{DateTime, Utc};
use rosetta_settings::{Errors, Whole};

use crate::{PipelineRef, SlotReading, SourceId, WalReading};

/// The latest probe outcome of a source, kept by the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeStatus {
    /// The source probed.
    pub source_id: SourceId,
    /// When it was last probed.
    pub probed_at: DateTime<Utc>,
    /// Why the last probe failed; `None` when it succeeded. Never holds a secret.
    pub error: Option<String>,
    /// How many probes in a row have failed (0 after a success).
    pub consecutive_failures: i32,
    /// When a probe last succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    /// What the last successful probe read.
    pub last_reading: Option<WalReading>,
}

impl ProbeStatus {
    /// Whether the last probe succeeded.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

rosetta_settings::settings! {
    /// The sizes of retained WAL above which a slot is a warning or critical.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct WalThresholds {
        /// Retained WAL in bytes above which a slot is a warning.
        pub warn_bytes: i64 = 1 << 30, env "WAL_SLOT_WARN_BYTES", rule Whole::at_least(1);
        /// Retained WAL in bytes above which a slot is critical; larger than WAL_SLOT_WARN_BYTES.
        pub critical_bytes: i64 = 5 << 30,
            env "WAL_SLOT_CRITICAL_BYTES", rule Whole::at_least(1);
    }
    check = WalThresholds::check_order;
}

impl WalThresholds {
    /// A critical slot must be worse than a warning one.
    fn check_order(&self, errors: &mut Errors) {
        if self.critical_bytes <= self.warn_bytes {
            errors.add(
                "WAL_SLOT_CRITICAL_BYTES",
                format!(
                    "must be larger than WAL_SLOT_WARN_BYTES ({}), got '{}'",
                    self.warn_bytes, self.critical_bytes
                ),
            );
        }
    }
}

/// How bad things are, from `Ok` to `Critical` (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Nothing to do.
    Ok,
    /// Look at it soon.
    Warning,
    /// A disk may fill or a slot may be lost: act now.
    Critical,
}

impl Severity {
    /// `ok`, `warning` or `critical`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// Why a verdict is not `ok`: one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    /// The source has not been probed yet.
    NotProbedYet,
    /// The latest probe failed (critical after three failures in a row).
    ProbeFailing,
    /// A slot nobody streams from holds WAL back.
    SlotInactiveRetaining,
    /// A slot retains more than the warning threshold.
    RetainedAboveWarning,
    /// A slot retains more than the critical threshold.
    RetainedAboveCritical,
    /// A slot's `wal_status` is `unreserved`: the WAL it needs goes at the next checkpoint.
    WalUnreserved,
    /// A slot's `wal_status` is `lost`: it can no longer be streamed from.
    WalLost,
    /// A slot's `safe_wal_size` is under 20 % of `max_slot_wal_keep_size`.
    SafeWalSizeLow,
}

impl ReasonCode {
    /// The stable, snake_case code used by the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotProbedYet => "not_probed_yet",
            Self::ProbeFailing => "probe_failing",
            Self::SlotInactiveRetaining => "slot_inactive_retaining",
            Self::RetainedAboveWarning => "retained_above_warning",
            Self::RetainedAboveCritical => "retained_above_critical",
            Self::WalUnreserved => "wal_unreserved",
            Self::WalLost => "wal_lost",
            Self::SafeWalSizeLow => "safe_wal_size_low",
        }
    }
}

/// One finding of a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictReason {
    /// How bad it is.
    pub severity: Severity,
    /// What it is.
    pub code: ReasonCode,
    /// The slot it is about, if any.
    pub slot: Option<String>,
    /// What it is, in words.
    pub message: String,
}

/// The health of a source's WAL: the worst severity among its reasons (`Ok` with none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalVerdict {
    /// The worst severity found.
    pub severity: Severity,
    /// Every finding, worst first.
    pub reasons: Vec<VerdictReason>,
}

/// Failures in a row from which a failing probe is critical rather than a warning.
pub const CRITICAL_CONSECUTIVE_FAILURES: i32 = 3;

/// `safe_wal_size` under this share of `max_slot_wal_keep_size` is a warning.
const SAFE_WAL_SIZE_LOW_PERCENT: i64 = 20;

impl WalVerdict {
    /// Judges a source from its latest probe outcome. The slots judged are those of the last
    /// successful probe, so a source whose probe now fails keeps its slot findings.
    pub fn assess(status: Option<&ProbeStatus>, thresholds: WalThresholds) -> Self {
        let mut reasons = Vec::new();
        match status {
            None => reasons.push(VerdictReason {
                severity: Severity::Warning,
                code: ReasonCode::NotProbedYet,
                slot: None,
                message: "the source has not been probed yet".to_owned(),
            }),
            Some(status) => {
                if let Some(error) = &status.error {
                    let severity = if status.consecutive_failures >= CRITICAL_CONSECUTIVE_FAILURES {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    };
                    reasons.push(VerdictReason {
                        severity,
                        code: ReasonCode::ProbeFailing,
                        slot: None,
                        message: format!(
                            "the last {} probe(s) failed: {error}",
                            status.consecutive_failures
                        ),
                    });
                }
                if let Some(reading) = &status.last_reading {
                    for slot in &reading.slots {
                        assess_slot(slot, reading, thresholds, &mut reasons);
                    }
                }
            }
        }
        reasons.sort_by_key(|reason| std::cmp::Reverse(reason.severity));
        let severity = reasons
            .first()
            .map_or(Severity::Ok, |reason| reason.severity);
        Self { severity, reasons }
    }
}

/// The findings about one slot.
fn assess_slot(
    slot: &SlotReading,
    reading: &WalReading,
    thresholds: WalThresholds,
    reasons: &mut Vec<VerdictReason>,
) {
    let mut found = |severity, code, message: String| {
        reasons.push(VerdictReason {
            severity,
            code,
            slot: Some(slot.name.clone()),
            message,
        });
    };
    let name = &slot.name;
    let retained = slot.retained_bytes.unwrap_or(0);
    if !slot.active && retained > 0 {
        found(
            Severity::Warning,
            ReasonCode::SlotInactiveRetaining,
            format!("slot {name} is inactive and retains {retained} bytes of WAL"),
        );
    }
    if retained > thresholds.critical_bytes {
        found(
            Severity::Critical,
            ReasonCode::RetainedAboveCritical,
            format!(
                "slot {name} retains {retained} bytes of WAL, above the critical threshold of {} bytes",
                thresholds.critical_bytes
            ),
        );
    } else if retained > thresholds.warn_bytes {
        found(
            Severity::Warning,
            ReasonCode::RetainedAboveWarning,
            format!(
                "slot {name} retains {retained} bytes of WAL, above the warning threshold of {} bytes",
                thresholds.warn_bytes
            ),
        );
    }
    match slot.wal_status.as_deref() {
        Some("unreserved") => found(
            Severity::Critical,
            ReasonCode::WalUnreserved,
            format!(
                "slot {name} is unreserved: the WAL it needs is removed at the next checkpoint"
            ),
        ),
        Some("lost") => found(
            Severity::Critical,
            ReasonCode::WalLost,
            format!("slot {name} is lost: the WAL it needs was removed"),
        ),
        _ => {}
    }
    if let (Some(safe), Some(limit)) = (
        slot.safe_wal_size_bytes,
        reading.max_slot_wal_keep_size_bytes,
    ) {
        if limit > 0 && safe.saturating_mul(100) < limit.saturating_mul(SAFE_WAL_SIZE_LOW_PERCENT) {
            found(
                Severity::Warning,
                ReasonCode::SafeWalSizeLow,
                format!(
                    "slot {name} can take only {safe} more bytes of WAL, under 20% of max_slot_wal_keep_size ({limit} bytes)"
                ),
            );
        }
    }
}

/// A source's WAL as the monitor last saw it, with its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceWalReport {
    /// The source.
    pub source_id: SourceId,
    /// Its latest probe outcome; `None` before its first probe.
    pub status: Option<ProbeStatus>,
    /// The verdict on it.
    pub verdict: WalVerdict,
    /// The slot each of the source's pipelines owns, by name (a slot named by no pipeline is
    /// someone else's, or one a deleted pipeline left behind).
    pub slot_owners: Vec<SlotOwner>,
}

/// A pipeline's replication slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotOwner {
    /// The slot's name ([`crate::replication::pipeline_slot_name`]).
    pub slot: String,
    /// The pipeline that owns it.
    pub pipeline: PipelineRef,
}

#[cfg(test)]
mod tests {
    use super::*;
    // A healthy, active logical slot holding back `retained` bytes.
    use crate::fixtures::{logical_reading, logical_slot as slot};
    use crate::RolePrivileges;

    const GIB: i64 = 1 << 30;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    /// A reading without the WAL directory, by a role without privileges.
    fn reading(slots: Vec<SlotReading>) -> WalReading {
        WalReading {
            wal_directory: None,
            privileges: RolePrivileges::default(),
            ..logical_reading(at(0), 10 * GIB, slots)
        }
    }

    fn probed(reading: WalReading) -> ProbeStatus {
        ProbeStatus {
            source_id: SourceId::new(1),
            probed_at: at(60),
            error: None,
            consecutive_failures: 0,
            last_success_at: Some(at(60)),
            last_reading: Some(reading),
        }
    }

    fn failing(consecutive_failures: i32, last_reading: Option<WalReading>) -> ProbeStatus {
        ProbeStatus {
            error: Some("cannot connect to db.internal:5432: connection refused".to_owned()),
            consecutive_failures,
            last_success_at: last_reading.as_ref().map(|_| at(0)),
            last_reading,
            ..probed(reading(Vec::new()))
        }
    }

    fn verdict_on(slot: SlotReading) -> WalVerdict {
        WalVerdict::assess(Some(&probed(reading(vec![slot]))), WalThresholds::default())
    }

    fn codes(verdict: &WalVerdict) -> Vec<(Severity, ReasonCode)> {
        verdict
            .reasons
            .iter()
            .map(|reason| (reason.severity, reason.code))
            .collect()
    }

    #[test]
    fn the_default_thresholds_are_one_and_five_gibibytes() {
        let thresholds = WalThresholds::default();
        assert_eq!(thresholds.warn_bytes, GIB);
        assert_eq!(thresholds.critical_bytes, 5 * GIB);
    }

    #[test]
    fn a_source_never_probed_is_a_warning() {
        let verdict = WalVerdict::assess(None, WalThresholds::default());

        assert_eq!(verdict.severity, Severity::Warning);
        assert_eq!(
            codes(&verdict),
            [(Severity::Warning, ReasonCode::NotProbedYet)]
        );
        assert_eq!(verdict.reasons[0].slot, None);
    }

    #[test]
    fn an_active_slot_holding_little_wal_is_ok() {
        let verdict = verdict_on(slot("rosetta_1", 8_192));

        assert_eq!(verdict.severity, Severity::Ok);
        assert!(verdict.reasons.is_empty());
    }

    #[test]
    fn a_successful_probe_without_a_reading_is_ok() {
        let status = ProbeStatus {
            last_reading: None,
            ..probed(reading(Vec::new()))
        };

        let verdict = WalVerdict::assess(Some(&status), WalThresholds::default());

        assert!(status.ok());
        assert_eq!(verdict.severity, Severity::Ok);
    }

    #[test]
    fn a_failing_probe_is_a_warning_until_it_failed_three_times_in_a_row() {
        for (failures, expected) in [
            (1, Severity::Warning),
            (2, Severity::Warning),
            (CRITICAL_CONSECUTIVE_FAILURES, Severity::Critical),
            (7, Severity::Critical),
        ] {
            let status = failing(failures, None);
            assert!(!status.ok());

            let verdict = WalVerdict::assess(Some(&status), WalThresholds::default());

            assert_eq!(verdict.severity, expected, "{failures} failures");
            assert_eq!(codes(&verdict), [(expected, ReasonCode::ProbeFailing)]);
            let message = &verdict.reasons[0].message;
            assert!(
                message.contains(&format!("last {failures} probe(s)")),
                "{message}"
            );
            assert!(message.contains("connection refused"), "{message}");
        }
    }

    #[test]
    fn a_failing_probe_keeps_the_slot_findings_of_the_last_reading() {
        let lost = SlotReading {
            wal_status: Some("lost".to_owned()),
            retained_bytes: None,
            ..slot("rosetta_1", 0)
        };
        let status = failing(1, Some(reading(vec![lost])));

        let verdict = WalVerdict::assess(Some(&status), WalThresholds::default());

        assert_eq!(verdict.severity, Severity::Critical);
        assert_eq!(
            codes(&verdict),
            [
                (Severity::Critical, ReasonCode::WalLost),
                (Severity::Warning, ReasonCode::ProbeFailing),
            ]
        );
    }

    #[test]
    fn an_inactive_slot_holding_wal_back_is_a_warning() {
        let verdict = verdict_on(SlotReading {
            active: false,
            ..slot("rosetta_1", 4_096)
        });

        assert_eq!(verdict.severity, Severity::Warning);
        assert_eq!(
            codes(&verdict),
            [(Severity::Warning, ReasonCode::SlotInactiveRetaining)]
        );
        assert_eq!(verdict.reasons[0].slot.as_deref(), Some("rosetta_1"));
    }

    #[test]
    fn an_inactive_slot_holding_nothing_back_is_ok() {
        for retained in [Some(0), None] {
            let verdict = verdict_on(SlotReading {
                active: false,
                retained_bytes: retained,
                ..slot("rosetta_1", 0)
            });

            assert_eq!(verdict.severity, Severity::Ok, "{retained:?}");
        }
    }

    #[test]
    fn a_slot_retaining_more_than_the_warning_threshold_is_a_warning() {
        assert_eq!(verdict_on(slot("rosetta_1", GIB)).severity, Severity::Ok);

        let verdict = verdict_on(slot("rosetta_1", GIB + 1));

        assert_eq!(
            codes(&verdict),
            [(Severity::Warning, ReasonCode::RetainedAboveWarning)]
        );
        assert!(verdict.reasons[0].message.contains(&GIB.to_string()));
    }

    #[test]
    fn a_slot_retaining_more_than_the_critical_threshold_is_only_critical() {
        let at_threshold = verdict_on(slot("rosetta_1", 5 * GIB));
        assert_eq!(
            codes(&at_threshold),
            [(Severity::Warning, ReasonCode::RetainedAboveWarning)]
        );

        let verdict = verdict_on(slot("rosetta_1", 5 * GIB + 1));

        assert_eq!(verdict.severity, Severity::Critical);
        assert_eq!(
            codes(&verdict),
            [(Severity::Critical, ReasonCode::RetainedAboveCritical)]
        );
    }

    #[test]
    fn thresholds_are_the_ones_given() {
        let thresholds = WalThresholds {
            warn_bytes: 100,
            critical_bytes: 1_000,
        };
        let status = probed(reading(vec![slot("a", 500), slot("b", 5_000)]));

        let verdict = WalVerdict::assess(Some(&status), thresholds);

        assert_eq!(
            codes(&verdict),
            [
                (Severity::Critical, ReasonCode::RetainedAboveCritical),
                (Severity::Warning, ReasonCode::RetainedAboveWarning),
            ]
        );
        let slots: Vec<_> = verdict.reasons.iter().map(|r| r.slot.as_deref()).collect();
        assert_eq!(slots, [Some("b"), Some("a")]);
    }

    #[test]
    fn an_unreserved_slot_is_critical() {
        let verdict = verdict_on(SlotReading {
            wal_status: Some("unreserved".to_owned()),
            ..slot("rosetta_1", 8_192)
        });

        assert_eq!(
            codes(&verdict),
            [(Severity::Critical, ReasonCode::WalUnreserved)]
        );
    }

    #[test]
    fn a_lost_slot_is_critical() {
        let verdict = verdict_on(SlotReading {
            wal_status: Some("lost".to_owned()),
            retained_bytes: None,
            ..slot("rosetta_1", 0)
        });

        assert_eq!(codes(&verdict), [(Severity::Critical, ReasonCode::WalLost)]);
    }

    #[test]
    fn an_extended_slot_is_ok() {
        let verdict = verdict_on(SlotReading {
            wal_status: Some("extended".to_owned()),
            ..slot("rosetta_1", 8_192)
        });

        assert_eq!(verdict.severity, Severity::Ok);
    }

    #[test]
    fn a_slot_that_can_take_under_a_fifth_of_max_slot_wal_keep_size_is_a_warning() {
        let limited = |safe: Option<i64>, limit: Option<i64>| {
            let mut reading = reading(vec![SlotReading {
                safe_wal_size_bytes: safe,
                ..slot("rosetta_1", 8_192)
            }]);
            reading.max_slot_wal_keep_size_bytes = limit;
            WalVerdict::assess(Some(&probed(reading)), WalThresholds::default())
        };

        let low = limited(Some(199), Some(1_000));
        assert_eq!(
            codes(&low),
            [(Severity::Warning, ReasonCode::SafeWalSizeLow)]
        );
        assert_eq!(limited(Some(200), Some(1_000)).severity, Severity::Ok);
        assert_eq!(limited(Some(199), None).severity, Severity::Ok);
        assert_eq!(limited(None, Some(1_000)).severity, Severity::Ok);
    }

    #[test]
    fn reasons_are_sorted_worst_first() {
        let inactive = SlotReading {
            active: false,
            ..slot("a", 4_096)
        };
        let unreserved = SlotReading {
            wal_status: Some("unreserved".to_owned()),
            ..slot("b", 8_192)
        };
        let large = slot("c", 2 * GIB);
        let status = failing(1, Some(reading(vec![inactive, unreserved, large])));

        let verdict = WalVerdict::assess(Some(&status), WalThresholds::default());

        assert_eq!(verdict.severity, Severity::Critical);
        assert_eq!(verdict.reasons.len(), 4);
        assert_eq!(verdict.reasons[0].code, ReasonCode::WalUnreserved);
        assert!(verdict
            .reasons
            .windows(2)
            .all(|pair| pair[0].severity >= pair[1].severity));
    }

    #[test]
    fn severities_are_ordered_and_names_are_stable() {
        assert!(Severity::Ok < Severity::Warning && Severity::Warning < Severity::Critical);
        assert_eq!(
            [Severity::Ok, Severity::Warning, Severity::Critical].map(Severity::as_str),
            ["ok", "warning", "critical"]
        );
        assert_eq!(
            [
                ReasonCode::NotProbedYet,
                ReasonCode::ProbeFailing,
                ReasonCode::SlotInactiveRetaining,
                ReasonCode::RetainedAboveWarning,
                ReasonCode::RetainedAboveCritical,
                ReasonCode::WalUnreserved,
                ReasonCode::WalLost,
                ReasonCode::SafeWalSizeLow,
            ]
            .map(ReasonCode::as_str),
            [
                "not_probed_yet",
                "probe_failing",
                "slot_inactive_retaining",
                "retained_above_warning",
                "retained_above_critical",
                "wal_unreserved",
                "wal_lost",
                "safe_wal_size_low",
            ]
        );
    }
}
