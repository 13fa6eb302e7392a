//! What the WAL monitor reports to the `metrics` facade: per source, what its probes read and
//! how they went; per cycle, how long it took and what came of its probes. The binary installs
//! the recorder and chooses the exposition format; without one, this costs next to nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::Unit;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use rosetta_domain::{Source, SourceId, WalReading};

use super::{CycleReport, WalMonitor};

const WAL_POSITION: &str = "rosetta_source_wal_position_bytes";
const SLOT_RETAINED: &str = "rosetta_source_slot_retained_bytes";
const SLOT_ACTIVE: &str = "rosetta_source_slot_active";
const PROBE_DURATION: &str = "rosetta_source_probe_duration_seconds";
const PROBE_FAILURES: &str = "rosetta_source_probe_failures_total";
const PROBE_LAST_SUCCESS: &str = "rosetta_source_probe_last_success_timestamp_seconds";
const CYCLE_DURATION: &str = "rosetta_wal_monitor_cycle_duration_seconds";
const PROBES: &str = "rosetta_wal_monitor_probes_total";
const CYCLES: &str = "rosetta_wal_monitor_cycles_total";

/// One probe: from a few milliseconds on a local server to the probe timeout (30 s by
/// default, 60 s and more counted in the last bucket).
const PROBE_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// One cycle: bounded by the interval (5 minutes by default).
const CYCLE_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    3600.0,
];

impl WalMonitor {
    /// The histograms the monitor records, each with bucket bounds (in seconds) that suit
    /// what it measures, for the recorder to be configured with.
    pub fn metric_buckets() -> [(&'static str, &'static [f64]); 2] {
        [
            (PROBE_DURATION, PROBE_BUCKETS),
            (CYCLE_DURATION, CYCLE_BUCKETS),
        ]
    }

    /// Registers the help text and unit of every metric the monitor records with the
    /// installed recorder.
    pub fn describe_metrics() {
        describe_gauge!(
            WAL_POSITION,
            Unit::Bytes,
            "WAL position of the source, as last read"
        );
        describe_gauge!(
            SLOT_RETAINED,
            Unit::Bytes,
            "WAL a replication slot of the source's server holds back, as last read"
        );
        describe_gauge!(
            SLOT_ACTIVE,
            "Whether a replication slot has a consumer (1) or not (0)"
        );
        describe_histogram!(
            PROBE_DURATION,
            Unit::Seconds,
            "Time one probe of a source took, failed or not"
        );
        describe_counter!(
            PROBE_FAILURES,
            "Cycles in which a source's probe still failed after its retries"
        );
        describe_gauge!(
            PROBE_LAST_SUCCESS,
            Unit::Seconds,
            "When a probe of the source last succeeded (Unix time)"
        );
        describe_histogram!(
            CYCLE_DURATION,
            Unit::Seconds,
            "Time a claimed WAL monitor cycle took"
        );
        describe_counter!(
            PROBES,
            "Sources of claimed cycles, by outcome: succeeded, failed, skipped, unfinished"
        );
        describe_counter!(
            CYCLES,
            "WAL monitor cycles run (claimed=true) or left to another instance (claimed=false)"
        );
    }
}

/// How long one probe of `source` took.
pub(super) fn probe_took(source: SourceId, elapsed: Duration) {
    histogram!(PROBE_DURATION, "source_id" => source.to_string()).record(elapsed.as_secs_f64());
}

/// What a successful probe of `source` read.
pub(super) fn probe_succeeded(source: &Source, reading: &WalReading) {
    let id = source.id.to_string();
    let name = source.name.as_str().to_owned();
    gauge!(WAL_POSITION, "source_id" => id.clone(), "source" => name.clone())
        .set(reading.position_bytes as f64);
    for slot in &reading.slots {
        if let Some(retained) = slot.retained_bytes {
            gauge!(
                SLOT_RETAINED,
                "source_id" => id.clone(),
                "source" => name.clone(),
                "slot" => slot.name.clone(),
                "slot_type" => slot.slot_type.as_str()
            )
            .set(retained as f64);
        }
        gauge!(
            SLOT_ACTIVE,
            "source_id" => id.clone(),
            "source" => name.clone(),
            "slot" => slot.name.clone()
        )
        .set(if slot.active { 1.0 } else { 0.0 });
    }
    last_success(&id, &name, reading.read_at);
    // Present from the first success, so that a first failure shows as an increase.
    counter!(PROBE_FAILURES, "source_id" => id, "source" => name).increment(0);
}

/// A probe of `source` that failed for good in this cycle; `last_success_at` is when one last
/// succeeded, if ever.
pub(super) fn probe_failed(source: &Source, last_success_at: Option<DateTime<Utc>>) {
    let id = source.id.to_string();
    let name = source.name.as_str().to_owned();
    counter!(PROBE_FAILURES, "source_id" => id.clone(), "source" => name.clone()).increment(1);
    // Set again although it did not change: gauges nobody sets lapse from the output after a
    // while, and an alert on the age of the last success must keep seeing it.
    if let Some(at) = last_success_at {
        last_success(&id, &name, at);
    }
}

fn last_success(id: &str, name: &str, at: DateTime<Utc>) {
    let seconds = at.timestamp_micros() as f64 / 1e6;
    gauge!(PROBE_LAST_SUCCESS, "source_id" => id.to_owned(), "source" => name.to_owned())
        .set(seconds);
}

/// A cycle that ran to its end (claimed or not).
pub(super) fn cycle_finished(report: &CycleReport) {
    if !report.claimed {
        counter!(CYCLES, "claimed" => "false").increment(1);
        return;
    }
    counter!(CYCLES, "claimed" => "true").increment(1);
    histogram!(CYCLE_DURATION).record(report.elapsed.as_secs_f64());
    let outcomes = [
        ("succeeded", report.succeeded),
        ("failed", report.failed),
        ("skipped", report.skipped),
        ("unfinished", report.unfinished),
    ];
    for (outcome, count) in outcomes {
        counter!(PROBES, "outcome" => outcome).increment(count as u64);
    }
}

#[cfg(test)]
mod tests {
    use metrics::{SharedString, Unit as MetricUnit};
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use metrics_util::CompositeKey;

    use super::*;
    use crate::fixtures::{long_ago, wal_reading, Mocks};
    use crate::wal_monitor::testing::{claimed_cycle, refused, sources};
    use crate::MonitorSettings;

    /// Everything recorded, read once (reading resets the values).
    type Snapshot = Vec<(
        CompositeKey,
        Option<MetricUnit>,
        Option<SharedString>,
        DebugValue,
    )>;

    /// Runs one cycle with a recorder of this thread's own (the probe tasks run on this thread
    /// too, so they record into it) and returns what was recorded.
    fn run_cycle_recorded(mocks: Mocks) -> Snapshot {
        let recorder = DebuggingRecorder::new();
        let settings = MonitorSettings {
            max_retries: 0,
            ..MonitorSettings::default()
        };
        let monitor = mocks.into_rosetta().wal_monitor(settings);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        metrics::with_local_recorder(&recorder, || runtime.block_on(monitor.run_cycle())).unwrap();
        recorder.snapshotter().snapshot().into_vec()
    }

    /// The value of the series `name` whose labels include `labels`.
    fn value<'a>(
        snapshot: &'a Snapshot,
        name: &str,
        labels: &[(&str, &str)],
    ) -> Option<&'a DebugValue> {
        snapshot
            .iter()
            .find(|(key, ..)| {
                let key = key.key();
                key.name() == name
                    && labels.iter().all(|(k, v)| {
                        key.labels()
                            .any(|label| label.key() == *k && label.value() == *v)
                    })
            })
            .map(|(.., value)| value)
    }

    fn gauge_of(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> f64 {
        match value(snapshot, name, labels) {
            Some(DebugValue::Gauge(v)) => v.0,
            other => panic!("{name} {labels:?}: {other:?}"),
        }
    }

    fn counter_of(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> u64 {
        match value(snapshot, name, labels) {
            Some(DebugValue::Counter(v)) => *v,
            other => panic!("{name} {labels:?}: {other:?}"),
        }
    }

    fn samples_of(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> usize {
        match value(snapshot, name, labels) {
            Some(DebugValue::Histogram(samples)) => samples.len(),
            other => panic!("{name} {labels:?}: {other:?}"),
        }
    }

    /// A cycle over sources 1 (healthy) and 2 (refusing, last successful long ago).
    fn one_healthy_one_failing() -> Mocks {
        let mut mocks = claimed_cycle(sources(2));
        mocks.wal_probe.expect_probe().returning(|source| {
            if source.id == SourceId::new(1) {
                Ok(wal_reading())
            } else {
                Err(refused(1))
            }
        });
        mocks
            .wal_history
            .expect_record_success()
            .returning(|_, _| Ok(()));
        mocks
            .wal_history
            .expect_record_failure()
            .returning(|_, _, _| Ok(Some(long_ago())));
        mocks.wal_history.expect_status().never();
        mocks
    }

    #[test]
    fn a_cycle_reports_what_each_probe_read_and_how_it_went() {
        let snapshot = run_cycle_recorded(one_healthy_one_failing());

        let healthy = [("source_id", "1"), ("source", "source-1")];
        let failing = [("source_id", "2"), ("source", "source-2")];
        assert_eq!(gauge_of(&snapshot, WAL_POSITION, &healthy), 123_456_789.0);
        let slot = [("source_id", "1"), ("slot", "rosetta_1")];
        assert_eq!(
            gauge_of(
                &snapshot,
                SLOT_RETAINED,
                &[slot[0], slot[1], ("slot_type", "logical")]
            ),
            8_192.0
        );
        assert_eq!(gauge_of(&snapshot, SLOT_ACTIVE, &slot), 1.0);
        let long_ago_seconds = long_ago().timestamp() as f64;
        for labels in [&healthy, &failing] {
            assert_eq!(
                gauge_of(&snapshot, PROBE_LAST_SUCCESS, labels),
                long_ago_seconds
            );
        }
        assert_eq!(counter_of(&snapshot, PROBE_FAILURES, &healthy), 0);
        assert_eq!(counter_of(&snapshot, PROBE_FAILURES, &failing), 1);
        assert!(value(&snapshot, WAL_POSITION, &failing).is_none());
        for id in ["1", "2"] {
            assert_eq!(
                samples_of(&snapshot, PROBE_DURATION, &[("source_id", id)]),
                1
            );
        }
        assert_eq!(counter_of(&snapshot, CYCLES, &[("claimed", "true")]), 1);
        assert_eq!(samples_of(&snapshot, CYCLE_DURATION, &[]), 1);
        let outcomes = [
            ("succeeded", 1),
            ("failed", 1),
            ("skipped", 0),
            ("unfinished", 0),
        ];
        for (outcome, count) in outcomes {
            assert_eq!(
                counter_of(&snapshot, PROBES, &[("outcome", outcome)]),
                count,
                "{outcome}"
            );
        }
    }

    #[test]
    fn a_cycle_left_to_another_instance_is_counted_unclaimed_and_not_timed() {
        let mut mocks = Mocks::default();
        mocks
            .monitor_lock
            .expect_try_begin_cycle()
            .returning(|_| Ok(false));

        let snapshot = run_cycle_recorded(mocks);

        assert_eq!(counter_of(&snapshot, CYCLES, &[("claimed", "false")]), 1);
        assert!(value(&snapshot, CYCLES, &[("claimed", "true")]).is_none());
        assert!(value(&snapshot, CYCLE_DURATION, &[]).is_none());
        assert!(value(&snapshot, PROBES, &[]).is_none());
    }
}
