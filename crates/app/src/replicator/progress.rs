//! What a run tells the metadata database (and `/metrics`) about its pipeline: its phase at
//! once, its figures at most once a second, a sample of them for the charts every
//! `REPLICATOR_SAMPLE_SECONDS`, its tables when their states change. A report that cannot be
//! written is logged and skipped: the data keeps moving while the metadata database is away.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rosetta_domain::ports::PipelineRuntime;
use rosetta_domain::replication::{
    Lsn, PipelinePhase, PipelineProgress, TableName, TableProgress, TableState,
};
use rosetta_domain::PipelineId;
use tokio::time::Instant;

use super::metrics;

/// How often a streaming pipeline's figures are written at most.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// The reports of one run of one pipeline.
pub(super) struct Reporter {
    runtime: Arc<dyn PipelineRuntime>,
    pipeline: PipelineId,
    progress: PipelineProgress,
    tables: Mutex<BTreeMap<TableName, TableProgress>>,
    last_report: Option<Instant>,
    sample_every: Duration,
    last_sample: Option<Instant>,
}

impl Reporter {
    /// The reports of `pipeline` run by `owner`, counting on from what it reported last, with
    /// a sample of them every `sample_every`.
    pub async fn resume(
        runtime: Arc<dyn PipelineRuntime>,
        pipeline: PipelineId,
        owner: &str,
        sample_every: Duration,
    ) -> Self {
        let previous = match runtime.progress(pipeline).await {
            Ok(previous) => previous,
            Err(error) => {
                tracing::warn!(%pipeline, error = %error, "cannot read the pipeline's last report");
                None
            }
        };
        let progress = PipelineProgress {
            phase: PipelinePhase::Starting,
            owner: Some(owner.to_owned()),
            confirmed_lsn: previous.as_ref().and_then(|p| p.confirmed_lsn),
            lag_bytes: None,
            lag: None,
            rows_copied: previous.as_ref().map_or(0, |p| p.rows_copied),
            changes_applied: previous.as_ref().map_or(0, |p| p.changes_applied),
            last_commit_at: previous.as_ref().and_then(|p| p.last_commit_at),
            updated_at: Utc::now(),
        };
        Self {
            runtime,
            pipeline,
            progress,
            tables: Mutex::new(BTreeMap::new()),
            last_report: None,
            sample_every,
            last_sample: None,
        }
    }

    /// The figures so far.
    pub fn progress(&self) -> &PipelineProgress {
        &self.progress
    }

    /// Enters `phase`, reported at once.
    pub async fn phase(&mut self, phase: PipelinePhase) {
        self.progress.phase = phase;
        if phase == PipelinePhase::Paused {
            self.progress.owner = None;
            self.progress.lag = None;
            // This process no longer runs it: its gauges here must not linger.
            metrics::lag(self.pipeline, 0, 0.0);
        }
        self.report().await;
    }

    /// A new copy begins: the rows copied count from zero.
    pub fn copy_begins(&mut self) {
        self.progress.rows_copied = 0;
    }

    /// `rows` more rows copied (already counted in the metrics, table by table, by
    /// [`Reporter::table_copied`]).
    pub fn copied(&mut self, rows: u64) {
        self.progress.rows_copied += rows;
    }

    /// A table's copy committed `rows` rows: counted in the metrics at once, so that their
    /// rate follows the copy table by table.
    pub fn table_copied(&self, rows: u64) {
        metrics::rows_copied(self.pipeline, rows);
    }

    /// A batch of `changes` committed on the destination, up to `confirmed`, its last
    /// transaction committed on the source at `commit_time`; `server_end` is how far the
    /// source's log goes. Reported when a second has passed since the last report.
    pub async fn applied(
        &mut self,
        changes: u64,
        confirmed: Lsn,
        commit_time: Option<DateTime<Utc>>,
        server_end: Lsn,
    ) {
        self.progress.changes_applied += changes;
        self.progress.confirmed_lsn = Some(confirmed);
        if commit_time.is_some() {
            self.progress.last_commit_at = commit_time;
        }
        metrics::changes_applied(self.pipeline, changes);
        self.caught_up_to(confirmed, server_end, None).await;
    }

    /// How far behind the stream is: `waiting_since` is when the oldest change not yet on the
    /// destination committed on the source (`None` when nothing waits). Reported when a second
    /// has passed since the last report.
    pub async fn caught_up_to(
        &mut self,
        confirmed: Lsn,
        server_end: Lsn,
        waiting_since: Option<DateTime<Utc>>,
    ) {
        self.progress.confirmed_lsn = Some(confirmed);
        let lag_bytes = server_end.bytes_after(confirmed);
        let lag = waiting_since.map_or(Duration::ZERO, |at| {
            (Utc::now() - at).to_std().unwrap_or(Duration::ZERO)
        });
        self.progress.lag_bytes = Some(lag_bytes);
        self.progress.lag = Some(lag);
        metrics::lag(self.pipeline, lag_bytes, lag.as_secs_f64());
        if self
            .last_report
            .is_none_or(|at| at.elapsed() >= REPORT_EVERY)
        {
            self.report().await;
        }
    }

    /// Sets `table`'s state (and its rows copied, when known), reported by
    /// [`Reporter::report_tables`]. Callable from concurrent copies.
    pub fn table(
        &self,
        table: &TableName,
        state: TableState,
        rows: Option<u64>,
        error: Option<String>,
    ) {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = tables
            .entry(table.clone())
            .or_insert_with(|| TableProgress {
                table: table.clone(),
                state,
                rows_copied: 0,
                error: None,
                updated_at: Utc::now(),
            });
        entry.state = state;
        if let Some(rows) = rows {
            entry.rows_copied = rows;
        }
        entry.error = error;
        entry.updated_at = Utc::now();
    }

    /// Keeps only the tables in `tables` (the others left the publication).
    pub fn keep_tables(&self, tables: &[TableName]) {
        self.tables
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|name, _| tables.contains(name));
    }

    /// Writes the tables' states.
    pub async fn report_tables(&self) {
        let tables: Vec<TableProgress> = self
            .tables
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        if let Err(error) = self.runtime.report_tables(self.pipeline, &tables).await {
            tracing::warn!(pipeline = %self.pipeline, error = %error, "cannot report the pipeline's tables");
        }
    }

    /// Writes the figures now, and a sample of them when one is due.
    pub async fn report(&mut self) {
        self.progress.updated_at = Utc::now();
        self.last_report = Some(Instant::now());
        if let Err(error) = self.runtime.report(self.pipeline, &self.progress).await {
            tracing::warn!(pipeline = %self.pipeline, error = %error, "cannot report the pipeline's progress");
        }
        if self
            .last_sample
            .is_none_or(|at| at.elapsed() >= self.sample_every)
        {
            self.last_sample = self.last_report;
            if let Err(error) = self.runtime.sample(self.pipeline, &self.progress).await {
                tracing::warn!(pipeline = %self.pipeline, error = %error, "cannot sample the pipeline's progress");
            }
        }
    }

    /// Records that the run failed with `message`: the pipeline's metadata says `ERROR` with
    /// it, and its phase `error`.
    pub async fn failed(&mut self, message: &str, kind: &'static str) {
        self.progress.phase = PipelinePhase::Error;
        metrics::failed(self.pipeline, kind);
        if let Err(error) = self.runtime.fail(self.pipeline, message, Utc::now()).await {
            tracing::warn!(pipeline = %self.pipeline, error = %error, "cannot record the pipeline's failure");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rosetta_domain::ports::{MockPipelineRuntime, RuntimeError};

    use super::*;

    /// A reporter whose reports and samples are counted.
    async fn counted(sample_every: Duration) -> (Reporter, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let reports = Arc::new(AtomicUsize::new(0));
        let samples = Arc::new(AtomicUsize::new(0));
        let mut runtime = MockPipelineRuntime::new();
        runtime.expect_progress().returning(|_| Ok(None));
        let reported = reports.clone();
        runtime.expect_report().returning(move |_, _| {
            reported.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        let sampled = samples.clone();
        runtime.expect_sample().returning(move |_, progress| {
            assert_eq!(progress.phase, PipelinePhase::Streaming);
            sampled.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        let mut reporter =
            Reporter::resume(Arc::new(runtime), PipelineId::new(1), "me", sample_every).await;
        reporter.progress.phase = PipelinePhase::Streaming;
        (reporter, reports, samples)
    }

    #[tokio::test(start_paused = true)]
    async fn a_sample_is_kept_at_the_first_report_and_then_once_per_interval() {
        let (mut reporter, reports, samples) = counted(Duration::from_secs(10)).await;

        for _ in 0..25 {
            reporter
                .caught_up_to(Lsn::new(10), Lsn::new(20), None)
                .await;
            tokio::time::advance(Duration::from_secs(1)).await;
        }

        // A report every second; samples at 0 s, 10 s and 20 s.
        assert_eq!(reports.load(Ordering::SeqCst), 25);
        assert_eq!(samples.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_sample_does_not_stop_the_reports() {
        let mut runtime = MockPipelineRuntime::new();
        runtime.expect_progress().returning(|_| Ok(None));
        runtime.expect_report().times(2).returning(|_, _| Ok(()));
        runtime
            .expect_sample()
            .times(2)
            .returning(|pipeline, _| Err(RuntimeError::PipelineMissing(pipeline)));
        let mut reporter = Reporter::resume(
            Arc::new(runtime),
            PipelineId::new(1),
            "me",
            Duration::from_secs(1),
        )
        .await;

        reporter.report().await;
        tokio::time::advance(Duration::from_secs(1)).await;
        reporter.report().await;
    }
}
