//! The WAL monitor's scheduler: runs a monitor cycle every interval for as long as the service
//! runs, and keeps what `/health` reports about it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rosetta_app::WalMonitor;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// What the scheduler last did, for `/health`.
#[derive(Debug, Default)]
pub struct MonitorState {
    running: AtomicBool,
    /// When the last cycle finished without error (run here or left to another instance).
    last_finished: Mutex<Option<Instant>>,
}

impl MonitorState {
    /// Whether the scheduler runs and its last cycle finished, recently enough: a cycle ends
    /// within its interval, so a scheduler that has not finished one in `stale_after` is stuck.
    pub fn healthy(&self, stale_after: Duration) -> bool {
        self.running.load(Ordering::Acquire)
            && self
                .last_finished
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some_and(|at| at.elapsed() <= stale_after)
    }

    fn finished(&self, ok: bool) {
        let mut last = self
            .last_finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *last = ok.then(Instant::now);
    }
}

/// The running scheduler; dropping it stops it.
pub struct Scheduler {
    task: JoinHandle<()>,
    state: Arc<MonitorState>,
}

impl Scheduler {
    /// Starts running `monitor`'s cycles, the first one now, then one per interval. A cycle
    /// that overruns makes the scheduler skip the ticks it missed rather than run cycles back to
    /// back.
    pub fn start(monitor: WalMonitor) -> Self {
        let state = Arc::new(MonitorState::default());
        state.running.store(true, Ordering::Release);
        let task = tokio::spawn(run(monitor, state.clone()));
        Self { task, state }
    }

    /// What `/health` reads.
    pub fn state(&self) -> Arc<MonitorState> {
        self.state.clone()
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.state.running.store(false, Ordering::Release);
        self.task.abort();
    }
}

async fn run(monitor: WalMonitor, state: Arc<MonitorState>) {
    let mut ticks = tokio::time::interval(monitor.settings().interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        match monitor.run_cycle().await {
            Ok(_) => state.finished(true),
            Err(e) => {
                tracing::warn!(error = %e, cause = ?std::error::Error::source(&e), "wal monitor cycle failed");
                state.finished(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use rosetta_app::{MonitorSettings, Ports, Rosetta};
    use rosetta_domain::ports::{
        MockDestinationRepository, MockDestinationWriter, MockMonitorLock, MockPipelineLeases,
        MockPipelineRepository, MockPipelineRuntime, MockReplicationSource, MockSourceRepository,
        MockWalHistory, MockWalProbe, MonitorLockError,
    };

    use super::*;

    const INTERVAL: Duration = Duration::from_secs(60);

    /// A monitor whose every cycle is left to another instance (or fails to be claimed), so
    /// that a cycle is exactly one call of `try_begin_cycle`, counted in `calls`.
    fn monitor(calls: Arc<AtomicUsize>, claim_fails: bool) -> WalMonitor {
        let mut lock = MockMonitorLock::new();
        lock.expect_try_begin_cycle().returning(move |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            if claim_fails {
                Err(MonitorLockError::Unavailable(anyhow::anyhow!("down")))
            } else {
                Ok(false)
            }
        });
        let rosetta = Rosetta::new(Ports {
            sources: Arc::new(MockSourceRepository::new()),
            destinations: Arc::new(MockDestinationRepository::new()),
            pipelines: Arc::new(MockPipelineRepository::new()),
            wal_history: Arc::new(MockWalHistory::new()),
            monitor_lock: Arc::new(lock),
            wal_probe: Arc::new(MockWalProbe::new()),
            replication: Arc::new(MockReplicationSource::new()),
            writer: Arc::new(MockDestinationWriter::new()),
            leases: Arc::new(MockPipelineLeases::new()),
            runtime: Arc::new(MockPipelineRuntime::new()),
        });
        rosetta.wal_monitor(MonitorSettings {
            interval: INTERVAL,
            ..MonitorSettings::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn the_scheduler_runs_a_cycle_at_once_then_one_per_interval_until_dropped() {
        let calls = Arc::new(AtomicUsize::new(0));
        let scheduler = Scheduler::start(monitor(calls.clone(), false));
        let state = scheduler.state();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the first cycle runs at start"
        );
        assert!(state.healthy(INTERVAL * 2));

        tokio::time::sleep(INTERVAL * 3).await;
        assert_eq!(calls.load(Ordering::SeqCst), 4, "one cycle per interval");

        drop(scheduler);
        tokio::time::sleep(INTERVAL * 3).await;
        assert_eq!(calls.load(Ordering::SeqCst), 4, "no cycle once dropped");
        assert!(!state.healthy(INTERVAL * 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_scheduler_whose_cycles_fail_is_not_healthy_but_keeps_trying() {
        let calls = Arc::new(AtomicUsize::new(0));
        let scheduler = Scheduler::start(monitor(calls.clone(), true));
        tokio::time::sleep(INTERVAL * 2 + Duration::from_secs(1)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(!scheduler.state().healthy(INTERVAL * 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cycle_finished_longer_ago_than_the_stale_bound_is_not_healthy() {
        let state = MonitorState::default();
        state.running.store(true, Ordering::Release);
        state.finished(true);
        assert!(state.healthy(INTERVAL));
        tokio::time::advance(INTERVAL + Duration::from_secs(1)).await;
        assert!(!state.healthy(INTERVAL));
    }
}
