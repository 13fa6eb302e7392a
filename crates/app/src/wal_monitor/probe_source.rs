//! One source's part of a WAL monitor cycle: probe it, retrying while the cycle has time, and
//! record what came of it.

use std::time::Duration;

use anyhow::anyhow;
use chrono::Utc;
use rosetta_domain::ports::{WalHistoryError, WalProbeError};
use rosetta_domain::{Source, WalReading};
use tokio::time::Instant;

use super::{metrics, WalMonitor};

/// What came of one source in a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Succeeded,
    Failed,
}

impl WalMonitor {
    /// Probes `source` and records the reading or the last failure. The cycle that spawned it
    /// ends at `deadline`; no retry is started that could not finish by then.
    pub(super) async fn probe_and_record(&self, source: Source, deadline: Instant) -> Outcome {
        let observations = &self.rosetta.wal_history;
        match self.probe_with_retries(&source, deadline).await {
            Ok(reading) => {
                metrics::probe_succeeded(&source, &reading);
                let recorded = observations.record_success(source.id, &reading).await;
                outcome_of(recorded, Outcome::Succeeded)
            }
            Err(error) => {
                tracing::warn!(error = %error, "probe failed");
                // The message names host:port and the driver's reason, never the password.
                let recorded = observations
                    .record_failure(source.id, Utc::now(), &error.to_string())
                    .await;
                // This process may have started since the last success: the store knows it.
                let last_success_at = recorded.as_ref().ok().copied().flatten();
                metrics::probe_failed(&source, last_success_at);
                outcome_of(recorded.map(|_| ()), Outcome::Failed)
            }
        }
    }

    async fn probe_with_retries(
        &self,
        source: &Source,
        deadline: Instant,
    ) -> Result<WalReading, WalProbeError> {
        let mut retries = 0;
        loop {
            let error = match self.probe_once(source).await {
                Ok(reading) => return Ok(reading),
                Err(error) => error,
            };
            // A server that hung for a whole probe timeout would most likely hang again, and
            // the cycle must end within one probe timeout plus its backoffs.
            if matches!(error, WalProbeError::TimedOut { .. })
                || retries >= self.settings.max_retries
            {
                return Err(error);
            }
            retries += 1;
            let backoff = backoff(retries);
            // A retry that could overrun the interval would delay the next cycle's view of
            // the source; the failure is recorded now instead.
            if !fits_before(deadline, backoff, self.settings.probe_timeout) {
                return Err(error);
            }
            tracing::debug!(error = %error, retry = retries, backoff_s = backoff.as_secs(), "probe failed, retrying");
            tokio::time::sleep(backoff).await;
        }
    }

    /// One probe, holding a permit only while it runs, so that sources waiting out a backoff
    /// leave room for others.
    async fn probe_once(&self, source: &Source) -> Result<WalReading, WalProbeError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| anyhow!("the WAL monitor's probe permits were closed"))?;
        let after = self.settings.probe_timeout;
        let started = Instant::now();
        // The adapter bounds its probes too; this holds for any adapter, so a task never
        // keeps its source claimed for longer than its probes and backoffs.
        let probed = tokio::time::timeout(after, self.rosetta.wal_probe.probe(source))
            .await
            .unwrap_or_else(|_| {
                Err(WalProbeError::TimedOut {
                    host: source.address(),
                    after,
                })
            });
        metrics::probe_took(source.id, started.elapsed());
        probed
    }
}

/// The wait before retry number `retry` (from 1): 2 s, 4 s, 8 s, …
fn backoff(retry: u32) -> Duration {
    Duration::from_secs(2_u64.saturating_pow(retry))
}

/// Whether waiting `backoff` and then probing for up to `probe_timeout` ends by `deadline`.
fn fits_before(deadline: Instant, backoff: Duration, probe_timeout: Duration) -> bool {
    backoff
        .checked_add(probe_timeout)
        .and_then(|needed| Instant::now().checked_add(needed))
        .is_some_and(|end| end <= deadline)
}

fn outcome_of(recorded: Result<(), WalHistoryError>, probed: Outcome) -> Outcome {
    match recorded {
        Ok(()) => probed,
        Err(WalHistoryError::SourceMissing(_)) => {
            tracing::debug!("the source was deleted while it was probed");
            probed
        }
        Err(error) => {
            tracing::error!(error = ?error, "cannot record the probe's outcome");
            Outcome::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use anyhow::anyhow;
    use rosetta_domain::SourceId;

    use super::*;
    use crate::fixtures::wal_reading;
    use crate::wal_monitor::testing::{
        claimed_cycle, probing_through, refused, run_cycle, sources, SlowProbe,
    };
    use crate::{CycleReport, MonitorSettings};

    /// The store expects source 1's failure once, with a message that `matches`.
    fn failure_recorded(
        mocks: &mut crate::fixtures::Mocks,
        matches: impl Fn(&str) -> bool + Send + 'static,
    ) {
        mocks
            .wal_history
            .expect_record_failure()
            .withf(move |id, _, error| *id == SourceId::new(1) && matches(error))
            .times(1)
            .returning(|_, _, _| Ok(None));
    }

    /// One cycle over source 1, read well at the first probe, whose success the store answers
    /// with `recorded`.
    async fn success_answered(
        recorded: fn(SourceId) -> Result<(), WalHistoryError>,
    ) -> CycleReport {
        let mut mocks = claimed_cycle(sources(1));
        scripted(&mut mocks, 1, |_| Ok(wal_reading()));
        mocks
            .wal_history
            .expect_record_success()
            .times(1)
            .returning(move |id, _| recorded(id));
        run_cycle(mocks, MonitorSettings::default()).await.unwrap()
    }

    /// Probes source 1 with a mock answering its `n`th call (from 1) with `answer(n)`, and
    /// keeps when each call came.
    fn scripted(
        mocks: &mut crate::fixtures::Mocks,
        times: usize,
        answer: impl Fn(usize) -> Result<WalReading, WalProbeError> + Send + 'static,
    ) -> Arc<Mutex<Vec<Instant>>> {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&calls);
        mocks
            .wal_probe
            .expect_probe()
            .withf(|source| source.id == SourceId::new(1))
            .times(times)
            .returning(move |_| {
                let mut seen = seen.lock().unwrap();
                seen.push(Instant::now());
                answer(seen.len())
            });
        calls
    }

    /// When each call came, in whole seconds after `start`.
    fn seconds_after(start: Instant, calls: &Mutex<Vec<Instant>>) -> Vec<u64> {
        let calls = calls.lock().unwrap();
        calls
            .iter()
            .map(|at| at.duration_since(start).as_secs())
            .collect()
    }

    fn counts(report: &CycleReport) -> (usize, usize, usize, usize) {
        (
            report.succeeded,
            report.failed,
            report.skipped,
            report.unfinished,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_failing_twice_is_retried_after_two_then_four_seconds() {
        let mut mocks = claimed_cycle(sources(1));
        let calls = scripted(&mut mocks, 3, |call| {
            if call < 3 {
                Err(refused(call))
            } else {
                Ok(wal_reading())
            }
        });
        mocks
            .wal_history
            .expect_record_success()
            .withf(|id, reading| *id == SourceId::new(1) && *reading == wal_reading())
            .times(1)
            .returning(|_, _| Ok(()));
        mocks.wal_history.expect_record_failure().never();
        let start = Instant::now();

        let report = run_cycle(mocks, MonitorSettings::default()).await.unwrap();

        assert_eq!(seconds_after(start, &calls), [0, 2, 6]);
        assert_eq!(counts(&report), (1, 0, 0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_always_failing_is_tried_once_plus_each_retry_and_its_last_failure_kept() {
        let mut mocks = claimed_cycle(sources(1));
        let calls = scripted(&mut mocks, 4, |call| Err(refused(call)));
        mocks.wal_history.expect_record_success().never();
        failure_recorded(&mut mocks, |error| {
            error == "cannot connect to db.internal:5432: connection refused (attempt 4)"
                && !error.contains("hunter2")
        });
        let start = Instant::now();

        let report = run_cycle(mocks, MonitorSettings::default()).await.unwrap();

        assert_eq!(seconds_after(start, &calls), [0, 2, 6, 14]);
        assert_eq!(counts(&report), (0, 1, 0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_timed_out_probe_is_not_retried() {
        let mut mocks = claimed_cycle(sources(1));
        scripted(&mut mocks, 1, |_| {
            Err(WalProbeError::TimedOut {
                host: "db.internal:5432".to_owned(),
                after: Duration::from_secs(30),
            })
        });
        failure_recorded(&mut mocks, |error| {
            error == "probe of db.internal:5432 abandoned after 30s"
        });
        let report = run_cycle(mocks, MonitorSettings::default()).await.unwrap();

        assert_eq!(counts(&report), (0, 1, 0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_outliving_its_timeout_is_abandoned_and_not_retried() {
        let mut mocks = claimed_cycle(sources(1));
        failure_recorded(&mut mocks, |error| {
            error == "probe of db.internal:5432 abandoned after 30s"
        });
        let probe = SlowProbe::new(|_, _| (Duration::from_secs(600), Ok(wal_reading())));
        let monitor = probing_through(mocks, &probe, MonitorSettings::default());
        let start = Instant::now();

        let report = monitor.run_cycle().await.unwrap();

        assert_eq!(probe.calls(1), 1);
        assert_eq!(counts(&report), (0, 1, 0, 0));
        assert_eq!(start.elapsed().as_secs(), 30);
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_starts_when_its_backoff_and_probe_would_overrun_the_interval() {
        let mut mocks = claimed_cycle(sources(1));
        scripted(&mut mocks, 1, |call| Err(refused(call)));
        failure_recorded(&mut mocks, |_| true);
        // 2 s of backoff and 30 s of probe do not fit in 5 s.
        let settings = MonitorSettings {
            interval: Duration::from_secs(5),
            ..MonitorSettings::default()
        };
        let report = run_cycle(mocks, settings).await.unwrap();

        assert_eq!(counts(&report), (0, 1, 0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_the_first_that_would_overrun_the_interval() {
        let mut mocks = claimed_cycle(sources(1));
        // 0 + 2 + 30 and 2 + 4 + 30 fit in 40 s; 6 + 8 + 30 does not.
        let calls = scripted(&mut mocks, 3, |call| Err(refused(call)));
        failure_recorded(&mut mocks, |error| error.ends_with("(attempt 3)"));
        let settings = MonitorSettings {
            interval: Duration::from_secs(40),
            ..MonitorSettings::default()
        };
        let start = Instant::now();

        let report = run_cycle(mocks, settings).await.unwrap();

        assert_eq!(seconds_after(start, &calls), [0, 2, 6]);
        assert_eq!(counts(&report), (0, 1, 0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_deleted_while_probed_is_not_a_failure_of_the_cycle() {
        let report = success_answered(|id| Err(WalHistoryError::SourceMissing(id))).await;

        assert_eq!(counts(&report), (1, 0, 0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn an_outcome_that_cannot_be_recorded_counts_as_failed() {
        let report = success_answered(|_| Err(WalHistoryError::Unavailable(anyhow!("down")))).await;

        assert_eq!(counts(&report), (0, 1, 0, 0));
    }

    #[test]
    fn backoff_doubles_from_two_seconds() {
        let waits: Vec<u64> = (1..=4).map(|retry| backoff(retry).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16]);
        assert_eq!(backoff(u32::MAX), Duration::from_secs(u64::MAX));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_fits_only_when_its_backoff_and_probe_end_by_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(40);
        let probe_timeout = Duration::from_secs(30);

        assert!(fits_before(deadline, Duration::from_secs(8), probe_timeout));
        assert!(fits_before(
            deadline,
            Duration::from_secs(10),
            probe_timeout
        ));
        assert!(!fits_before(
            deadline,
            Duration::from_secs(16),
            probe_timeout
        ));
        assert!(!fits_before(deadline, Duration::MAX, probe_timeout));
    }
}
