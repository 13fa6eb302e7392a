//! Test doubles for WAL monitor cycles: mocks set up for a claimed cycle, and a probe whose
//! probes take time (a mock's return at once).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rosetta_domain::ports::{WalProbe, WalProbeError};
use rosetta_domain::{Source, SourceId, WalReading};

use crate::fixtures::{source, Mocks};
use crate::{AppError, CycleReport, MonitorSettings, WalMonitor};

/// Sources 1 to `count`.
pub fn sources(count: i64) -> Vec<Source> {
    (1..=count).map(source).collect()
}

/// Mocks for a claimed cycle over `listed`: the claim is granted and released any number of
/// times, pruning deletes nothing, and the sources fit in one page.
pub fn claimed_cycle(listed: Vec<Source>) -> Mocks {
    let mut mocks = claim_granted();
    mocks
        .monitor_lock
        .expect_finish_cycle()
        .returning(|| Ok(()));
    mocks
        .sources
        .expect_list()
        .returning(move |_| Ok(listed.clone()));
    mocks
}

/// Mocks for cycles whose claim is granted any number of times and whose pruning deletes
/// nothing; the release of the claim and the sources are left to the test.
pub fn claim_granted() -> Mocks {
    let mut mocks = Mocks::default();
    mocks
        .monitor_lock
        .expect_try_begin_cycle()
        .returning(|_| Ok(true));
    mocks.wal_history.expect_prune().returning(|_| Ok(0));
    mocks
}

/// A monitor with `settings` over the mocks, probing through `probe` (the mock probe must
/// expect nothing).
pub fn probing_through(
    mocks: Mocks,
    probe: &Arc<SlowProbe>,
    settings: MonitorSettings,
) -> WalMonitor {
    let probe: Arc<dyn WalProbe> = probe.clone();
    mocks.into_rosetta_with_probe(probe).wal_monitor(settings)
}

/// Runs one cycle of a monitor with `settings` over the mocks.
pub async fn run_cycle(mocks: Mocks, settings: MonitorSettings) -> Result<CycleReport, AppError> {
    mocks.into_rosetta().wal_monitor(settings).run_cycle().await
}

/// How a [`SlowProbe`] answers the `n`th probe (from 1) of a source: after how long, and what.
type Script =
    dyn Fn(SourceId, usize) -> (Duration, Result<WalReading, WalProbeError>) + Send + Sync;

/// A probe that takes time, following a script, and counts its calls and how many ran at once.
pub struct SlowProbe {
    script: Box<Script>,
    calls: Mutex<HashMap<SourceId, usize>>,
    running: AtomicUsize,
    max_running: AtomicUsize,
}

impl SlowProbe {
    pub fn new(
        script: impl Fn(SourceId, usize) -> (Duration, Result<WalReading, WalProbeError>)
            + Send
            + Sync
            + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            script: Box::new(script),
            calls: Mutex::default(),
            running: AtomicUsize::new(0),
            max_running: AtomicUsize::new(0),
        })
    }

    /// How many times `id` was probed.
    pub fn calls(&self, id: i64) -> usize {
        let calls = self.calls.lock().unwrap();
        calls.get(&SourceId::new(id)).copied().unwrap_or(0)
    }

    /// The most probes that ran at once.
    pub fn max_running(&self) -> usize {
        self.max_running.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl WalProbe for SlowProbe {
    async fn probe(&self, source: &Source) -> Result<WalReading, WalProbeError> {
        let call = {
            let mut calls = self.calls.lock().unwrap();
            let count = calls.entry(source.id).or_default();
            *count += 1;
            *count
        };
        let (delay, result) = (self.script)(source.id, call);
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(running, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

/// A refused connection to the fixture sources' server.
pub fn refused(attempt: usize) -> WalProbeError {
    WalProbeError::Connect {
        host: "db.internal:5432".to_owned(),
        reason: format!("connection refused (attempt {attempt})"),
    }
}
