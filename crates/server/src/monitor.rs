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
