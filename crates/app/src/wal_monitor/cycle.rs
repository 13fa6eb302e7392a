//! Use case: run one WAL monitor cycle.

use std::time::Duration;

use anyhow::anyhow;
use chrono::{DateTime, TimeDelta, Utc};
use rosetta_domain::{Limit, PageRequest, Source};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::in_flight::InFlight;
use super::metrics;
use super::probe_source::Outcome;
use super::{CycleReport, WalMonitor};
use crate::AppError;

/// The longest a cycle waits for its probes, whatever the interval, so that the deadline is a
/// representable instant.
const LONGEST_CYCLE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

impl WalMonitor {
    /// Runs one cycle, if no other instance ran one less than 90 % of an interval ago: prunes
    /// samples older than the retention, then probes every source (at most `concurrency` at
    /// once, retrying failures while the interval allows) and records each outcome as soon as
    /// it is known. Returns when every probe ended or the interval ran out, whichever comes
    /// first; probes still running then go on in the background and are skipped by the next
    /// cycles until they end.
    ///
    /// A failed probe or prune is not an error of the cycle: it is recorded or logged and
    /// counted in the report.
    ///
    /// # Errors
    ///
    /// [`AppError::Unavailable`], [`AppError::Unknown`] when the cycle cannot be claimed,
    /// the sources cannot be listed or the claim cannot be released (it is always released
    /// once taken; the first error is returned).
    #[tracing::instrument(name = "wal_monitor_cycle", skip_all, err)]
    pub async fn run_cycle(&self) -> Result<CycleReport, AppError> {
        let started = Instant::now();
        let interval = self.settings.interval;
        // Instances tick at slightly different times: a gap a little under the interval lets
        // the next tick claim its cycle despite timer jitter, while keeping one cycle per
        // interval among all instances.
        let min_gap = interval - interval / 10;
        let lock = &self.rosetta.monitor_lock;
        if !lock.try_begin_cycle(min_gap).await? {
            let report = CycleReport::not_claimed(started.elapsed());
            log_report(&report);
            metrics::cycle_finished(&report);
            return Ok(report);
        }
        let deadline = started + interval.min(LONGEST_CYCLE);
        let cycle = self.claimed_cycle(started, deadline).await;
        let finished = lock.finish_cycle().await;
        if let Ok(report) = &cycle {
            log_report(report);
            metrics::cycle_finished(report);
        }
        match (cycle, finished) {
            (Ok(report), Ok(())) => Ok(report),
            (Ok(_), Err(error)) => Err(error.into()),
            (Err(error), finished) => {
                if let Err(finish_error) = finished {
                    tracing::warn!(error = ?finish_error, "cannot finish the wal monitor cycle");
                }
                Err(error)
            }
        }
    }

    async fn claimed_cycle(
        &self,
        started: Instant,
        deadline: Instant,
    ) -> Result<CycleReport, AppError> {
        let pruned = self.prune().await;
        let sources = self.list_all_sources().await?;
        let mut report = CycleReport {
            claimed: true,
            sources: sources.len(),
            pruned,
            ..CycleReport::not_claimed(Duration::ZERO)
        };
        let mut tasks = JoinSet::new();
        for source in sources {
            let Some(claim) = InFlight::claim(&self.in_flight, source.id) else {
                tracing::debug!(source_id = %source.id, "skipped: its previous probe still runs");
                report.skipped += 1;
                continue;
            };
            let span = tracing::info_span!("wal_probe", source_id = %source.id);
            let monitor = self.clone();
            let task = async move {
                // Held until the task ends, however it ends.
                let _claim = claim;
                monitor.probe_and_record(source, deadline).await
            };
            tasks.spawn(task.instrument(span));
        }
        loop {
            match tokio::time::timeout_at(deadline, tasks.join_next()).await {
                Ok(Some(Ok(Outcome::Succeeded))) => report.succeeded += 1,
                Ok(Some(Ok(Outcome::Failed))) => report.failed += 1,
                Ok(Some(Err(error))) => {
                    tracing::error!(error = %error, "a probe task ended abnormally");
                    report.failed += 1;
                }
                Ok(None) => break,
                Err(_) => {
                    report.unfinished = tasks.len();
                    // Dropping the set would abort them; they record their outcome when they
                    // end, and the in-flight set keeps the next cycles off their sources.
                    tasks.detach_all();
                    break;
                }
            }
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Deletes the samples older than the retention; how many went, 0 when pruning failed
    /// (it is retried next cycle and must not stop the probes).
    async fn prune(&self) -> u64 {
        let Some(cutoff) = retention_cutoff(Utc::now(), self.settings.retention) else {
            return 0;
        };
        match self.rosetta.wal_history.prune(cutoff).await {
            Ok(pruned) => pruned,
            Err(error) => {
                tracing::warn!(error = ?error, "cannot prune old wal samples");
                0
            }
        }
    }

    /// Every source, a page of the largest size at a time until a short page.
    async fn list_all_sources(&self) -> Result<Vec<Source>, AppError> {
        let limit = Limit::new(i64::from(Limit::MAX)).map_err(|error| anyhow!(error))?;
        let page_size = usize::from(limit.get());
        let mut all = Vec::new();
        loop {
            let skip = i64::try_from(all.len()).map_err(|error| anyhow!(error))?;
            let page = PageRequest::new(skip, limit).map_err(|error| anyhow!(error))?;
            let batch = self.rosetta.sources.list(page).await?;
            let full = batch.len() >= page_size;
            all.extend(batch);
            if !full {
                return Ok(all);
            }
        }
    }
}

/// `now - retention`; `None` when the retention reaches before any representable time, so
/// that nothing is old enough to go.
fn retention_cutoff(now: DateTime<Utc>, retention: Duration) -> Option<DateTime<Utc>> {
    TimeDelta::from_std(retention)
        .ok()
        .and_then(|retention| now.checked_sub_signed(retention))
}

/// The line the benchmark reads, one per cycle.
fn log_report(report: &CycleReport) {
    tracing::info!(
        claimed = report.claimed,
        sources = report.sources,
        succeeded = report.succeeded,
        failed = report.failed,
        skipped = report.skipped,
        unfinished = report.unfinished,
        pruned = report.pruned,
        elapsed_ms = u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
        "wal monitor cycle finished"
    );
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use anyhow::anyhow;
    use rosetta_domain::ports::{
        MonitorLockError, SourceRepositoryError, WalHistoryError, WalProbeError,
    };
    use rosetta_domain::SourceId;

    use super::*;
    use crate::fixtures::{wal_reading, Mocks};
    use crate::wal_monitor::testing::{
        claim_granted, claimed_cycle, probing_through, refused, run_cycle, sources, SlowProbe,
    };
    use crate::MonitorSettings;

    fn counts(report: &CycleReport) -> (usize, usize, usize, usize, usize) {
        (
            report.sources,
            report.succeeded,
            report.failed,
            report.skipped,
            report.unfinished,
        )
    }

    fn every_success_recorded(mocks: &mut Mocks) -> Arc<AtomicUsize> {
        let recorded = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&recorded);
        mocks
            .wal_history
            .expect_record_success()
            .returning(move |_, _| {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        recorded
    }

    /// Runs one cycle with the default settings, in which every probe reads well: the report,
    /// and how many successes were recorded.
    async fn run_reading_well(mut mocks: Mocks) -> (CycleReport, usize) {
        mocks
            .wal_probe
            .expect_probe()
            .returning(|_| Ok(wal_reading()));
        let recorded = every_success_recorded(&mut mocks);
        let report = run_cycle(mocks, MonitorSettings::default()).await.unwrap();
        (report, recorded.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_sources_are_probed_at_once_than_the_concurrency_allows() {
        let mut mocks = claimed_cycle(sources(50));
        let recorded = every_success_recorded(&mut mocks);
        let probe = SlowProbe::new(|_, _| (Duration::from_secs(1), Ok(wal_reading())));
        let settings = MonitorSettings {
            concurrency: 4,
            ..MonitorSettings::default()
        };
        let monitor = probing_through(mocks, &probe, settings);

        let report = monitor.run_cycle().await.unwrap();

        assert_eq!(probe.max_running(), 4);
        assert_eq!(counts(&report), (50, 50, 0, 0, 0));
        assert_eq!(recorded.load(Ordering::SeqCst), 50);
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_waiting_out_its_backoff_leaves_its_permit_to_others() {
        let mut mocks = claimed_cycle(sources(2));
        every_success_recorded(&mut mocks);
        // Source 1 fails at 1 s and waits until 3 s; source 2 runs in between, from 1 s to
        // 2 s, so the retry ends at 4 s (it would end at 5 s if the wait held the permit).
        let probe = SlowProbe::new(|id, call| {
            let answer = if id == SourceId::new(1) && call == 1 {
                Err(refused(call))
            } else {
                Ok(wal_reading())
            };
            (Duration::from_secs(1), answer)
        });
        let settings = MonitorSettings {
            concurrency: 1,
            ..MonitorSettings::default()
        };
        let monitor = probing_through(mocks, &probe, settings);

        let report = monitor.run_cycle().await.unwrap();

        assert_eq!(counts(&report), (2, 2, 0, 0, 0));
        assert_eq!(probe.calls(1), 2);
        assert_eq!(report.elapsed.as_secs(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_still_probed_from_an_earlier_cycle_is_skipped_until_its_probe_ends() {
        let mut mocks = claimed_cycle(sources(3));
        let recorded = every_success_recorded(&mut mocks);
        // Source 1 takes 20 s, twice the interval but within the probe timeout.
        let probe = SlowProbe::new(|id, _| {
            let delay = if id == SourceId::new(1) { 20 } else { 0 };
            (Duration::from_secs(delay), Ok(wal_reading()))
        });
        let settings = MonitorSettings {
            interval: Duration::from_secs(10),
            ..MonitorSettings::default()
        };
        let monitor = probing_through(mocks, &probe, settings);

        let first = monitor.run_cycle().await.unwrap();
        assert_eq!(counts(&first), (3, 2, 0, 0, 1));
        assert_eq!(first.elapsed.as_secs(), 10);

        // A clone shares what is in flight.
        let second = monitor.clone().run_cycle().await.unwrap();
        assert_eq!(counts(&second), (3, 2, 0, 1, 0));
        assert_eq!(probe.calls(1), 1);
        assert_eq!(probe.calls(2), 2);

        // The first probe of source 1 ends at 20 s and records its reading.
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(recorded.load(Ordering::SeqCst), 5);

        let third = monitor.run_cycle().await.unwrap();
        assert_eq!(counts(&third), (3, 2, 0, 0, 1));
        assert_eq!(probe.calls(1), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn one_failing_source_does_not_keep_the_others_from_being_recorded() {
        let mut mocks = claimed_cycle(sources(3));
        let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = Arc::clone(&recorded);
        mocks
            .wal_history
            .expect_record_success()
            .times(2)
            .returning(move |id, _| {
                into.lock().unwrap().push(id.get());
                Ok(())
            });
        mocks
            .wal_history
            .expect_record_failure()
            .withf(|id, _, _| *id == SourceId::new(2))
            .times(1)
            .returning(|_, _, _| Ok(None));
        mocks.wal_probe.expect_probe().returning(|source| {
            if source.id == SourceId::new(2) {
                Err(WalProbeError::Query {
                    host: "db.internal:5432".to_owned(),
                    reason: "permission denied".to_owned(),
                })
            } else {
                Ok(wal_reading())
            }
        });
        let report = run_cycle(mocks, MonitorSettings::default()).await.unwrap();

        assert_eq!(counts(&report), (3, 2, 1, 0, 0));
        let mut recorded = recorded.lock().unwrap().clone();
        recorded.sort_unstable();
        assert_eq!(recorded, [1, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_another_instance_ran_touches_nothing() {
        let mut mocks = Mocks::default();
        mocks
            .monitor_lock
            .expect_try_begin_cycle()
            .times(1)
            .returning(|_| Ok(false));
        mocks.monitor_lock.expect_finish_cycle().never();
        mocks.wal_history.expect_prune().never();
        mocks.sources.expect_list().never();
        mocks.wal_probe.expect_probe().never();
        let report = run_cycle(mocks, MonitorSettings::default()).await.unwrap();

        assert!(!report.claimed);
        assert_eq!(counts(&report), (0, 0, 0, 0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn the_claim_asks_for_a_gap_of_nine_tenths_of_the_interval() {
        let mut mocks = Mocks::default();
        mocks
            .monitor_lock
            .expect_try_begin_cycle()
            .withf(|gap| *gap == Duration::from_secs(270))
            .times(1)
            .returning(|_| Ok(false));
        assert!(run_cycle(mocks, MonitorSettings::default()).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_that_cannot_be_claimed_is_an_error_and_releases_nothing() {
        let mut mocks = Mocks::default();
        mocks
            .monitor_lock
            .expect_try_begin_cycle()
            .returning(|_| Err(MonitorLockError::Unavailable(anyhow!("refused"))));
        mocks.monitor_lock.expect_finish_cycle().never();
        let error = run_cycle(mocks, MonitorSettings::default()).await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }

    /// A cycle claimed once, whose listing answers `listed` and whose release of the claim,
    /// expected once, answers `finished`.
    async fn released_once(
        listed: fn() -> Result<Vec<Source>, SourceRepositoryError>,
        finished: fn() -> Result<(), MonitorLockError>,
    ) -> Result<CycleReport, AppError> {
        let mut mocks = claim_granted();
        mocks
            .monitor_lock
            .expect_finish_cycle()
            .times(1)
            .returning(finished);
        mocks.sources.expect_list().returning(move |_| listed());
        mocks.wal_probe.expect_probe().never();
        run_cycle(mocks, MonitorSettings::default()).await
    }

    fn listing_refused() -> Result<Vec<Source>, SourceRepositoryError> {
        Err(SourceRepositoryError::Unavailable(anyhow!("refused")))
    }

    fn claim_lost() -> Result<(), MonitorLockError> {
        Err(MonitorLockError::Unknown(anyhow!("lost the claim")))
    }

    #[tokio::test(start_paused = true)]
    async fn a_claimed_cycle_is_released_once_even_when_listing_sources_fails() {
        let error = released_once(listing_refused, || Ok(())).await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn when_listing_and_releasing_both_fail_the_listing_error_is_returned() {
        let error = released_once(listing_refused, claim_lost).await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_claim_that_cannot_be_released_fails_the_cycle() {
        let error = released_once(|| Ok(Vec::new()), claim_lost).await;

        assert!(matches!(error, Err(AppError::Unknown(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn samples_older_than_the_retention_are_pruned() {
        let mut mocks = claimed_cycle(Vec::new());
        mocks.wal_history.checkpoint();
        let retention = Duration::from_secs(7 * 24 * 60 * 60);
        mocks
            .wal_history
            .expect_prune()
            .withf(move |cutoff| {
                let expected = Utc::now() - TimeDelta::from_std(retention).unwrap();
                (expected - *cutoff).abs() < TimeDelta::seconds(5)
            })
            .times(1)
            .returning(|_| Ok(42));
        let settings = MonitorSettings {
            retention,
            ..MonitorSettings::default()
        };
        let report = run_cycle(mocks, settings).await.unwrap();

        assert!(report.claimed);
        assert_eq!(report.pruned, 42);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_prune_does_not_stop_the_probes() {
        let mut mocks = claimed_cycle(sources(1));
        mocks.wal_history.checkpoint();
        mocks
            .wal_history
            .expect_prune()
            .times(1)
            .returning(|_| Err(WalHistoryError::Unavailable(anyhow!("refused"))));
        let (report, recorded) = run_reading_well(mocks).await;

        assert_eq!(report.pruned, 0);
        assert_eq!(counts(&report), (1, 1, 0, 0, 0));
        assert_eq!(recorded, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn every_source_is_probed_however_many_pages_they_fill() {
        let mut mocks = claimed_cycle(Vec::new());
        mocks.sources.checkpoint();
        mocks
            .sources
            .expect_list()
            .withf(|page| page.skip() == 0 && page.limit().get() == 1000)
            .times(1)
            .returning(|_| Ok(sources(1000)));
        mocks
            .sources
            .expect_list()
            .withf(|page| page.skip() == 1000 && page.limit().get() == 1000)
            .times(1)
            .returning(|_| Ok((1001..=1002).map(crate::fixtures::source).collect()));
        let (report, recorded) = run_reading_well(mocks).await;

        assert_eq!(counts(&report), (1002, 1002, 0, 0, 0));
        assert_eq!(recorded, 1002);
    }

    #[test]
    fn a_retention_beyond_representable_time_prunes_nothing() {
        let now = Utc::now();
        assert_eq!(retention_cutoff(now, Duration::MAX), None);
        assert_eq!(
            retention_cutoff(now, Duration::from_secs(60)),
            Some(now - TimeDelta::seconds(60))
        );
    }
}
