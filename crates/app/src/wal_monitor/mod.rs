//! The WAL monitor: a cycle, run every interval, that probes every source and keeps what it read,
//! and the use case that judges what it kept.
//!
//! The caller owns the timer (`rosetta-server` ticks [`WalMonitor::run_cycle`] every
//! [`MonitorSettings::interval`]); the monitor owns what one cycle does: claim it among the
//! instances sharing a metadata database, prune old samples, probe every source with bounded
//! concurrency and retries, and record each outcome as soon as it is known.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rosetta_domain::SourceId;
use rosetta_settings::{Days, Seconds, Whole};
use tokio::sync::Semaphore;

use crate::Rosetta;

mod cycle;
mod in_flight;
mod metrics;
mod probe_source;
mod report;

#[cfg(test)]
mod testing;

rosetta_settings::settings! {
    /// How the WAL monitor runs its cycles.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct MonitorSettings {
        /// Seconds between two WAL monitor cycles. A cycle never waits longer than this for its
        /// probes, and retries only when they fit in it.
        pub interval: Duration = Duration::from_secs(300),
            env "WAL_MONITOR_INTERVAL_SECONDS", rule Seconds::within(1, Seconds::YEAR);
        /// Probes running at once, so at most this many connections to sources.
        pub concurrency: usize = 16,
            env "WAL_MONITOR_CONCURRENCY", rule Whole::within(1, 1024);
        /// Retries of a failed probe within a cycle.
        pub max_retries: u32 = 3, env "WAL_MONITOR_MAX_RETRIES", rule Whole::within(0, 10);
        /// Seconds one probe may take before it is abandoned; the probe adapter is built with
        /// the same bound.
        pub probe_timeout: Duration = Duration::from_secs(30),
            env "WAL_MONITOR_TIMEOUT_SECONDS", rule Seconds::within(1, Seconds::YEAR);
        /// Days WAL, slot and pipeline samples are kept.
        pub retention: Duration = Duration::from_secs(30 * 86_400),
            env "WAL_METRICS_RETENTION_DAYS", rule Days::within(1, 3650);
    }
}

impl MonitorSettings {
    /// How long after its last finished cycle a monitor counts as stuck: a cycle ends within its
    /// interval, so two missed intervals and a probe mean that none is coming.
    pub fn stale_after(&self) -> Duration {
        self.interval * 2 + self.probe_timeout
    }
}

/// What one call of [`WalMonitor::run_cycle`] did.
///
/// For a claimed cycle, `sources == succeeded + failed + skipped + unfinished`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleReport {
    /// Whether this instance ran the cycle; `false` when another instance ran one less than
    /// 90 % of an interval ago (or runs one now), and then nothing else was done.
    pub claimed: bool,
    /// How many sources there are.
    pub sources: usize,
    /// Sources probed and recorded. A source deleted while it was probed counts by its probe.
    pub succeeded: usize,
    /// Sources whose probe still failed after its retries, or whose outcome could not be
    /// recorded.
    pub failed: usize,
    /// Sources not probed because their probe from an earlier cycle was still running.
    pub skipped: usize,
    /// Sources whose probe was still running when the cycle's interval ran out; it goes on, and
    /// records its outcome, after the cycle returns.
    pub unfinished: usize,
    /// How many old samples were deleted (0 when pruning failed).
    pub pruned: u64,
    /// How long the cycle took.
    pub elapsed: Duration,
}

impl CycleReport {
    fn not_claimed(elapsed: Duration) -> Self {
        Self {
            claimed: false,
            sources: 0,
            succeeded: 0,
            failed: 0,
            skipped: 0,
            unfinished: 0,
            pruned: 0,
            elapsed,
        }
    }
}

/// Runs WAL monitor cycles over Rosetta's ports.
///
/// Clones share the sources being probed and the cap on concurrent probes, so a probe that
/// outlives its cycle is seen by the next one, whichever clone runs it. Build one per process
/// with [`Rosetta::wal_monitor`] and clone it.
#[derive(Clone)]
pub struct WalMonitor {
    rosetta: Rosetta,
    settings: MonitorSettings,
    /// Sources whose probe task is running, across cycles.
    in_flight: Arc<Mutex<HashSet<SourceId>>>,
    /// One permit per probe running, shared across cycles so that probes outliving their cycle
    /// count against the cap too.
    permits: Arc<Semaphore>,
}

impl Rosetta {
    /// A WAL monitor running on these ports with `settings`.
    pub fn wal_monitor(&self, settings: MonitorSettings) -> WalMonitor {
        // A cap of 0 would let no probe run, ever.
        let permits = settings.concurrency.clamp(1, Semaphore::MAX_PERMITS);
        WalMonitor {
            rosetta: self.clone(),
            settings,
            in_flight: Arc::default(),
            permits: Arc::new(Semaphore::new(permits)),
        }
    }
}

impl WalMonitor {
    /// The settings it runs with.
    pub fn settings(&self) -> &MonitorSettings {
        &self.settings
    }
}

impl fmt::Debug for WalMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalMonitor")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
