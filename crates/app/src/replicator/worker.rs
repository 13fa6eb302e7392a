//! One pipeline's worker: runs the pipeline again and again while its lease holds, starting
//! over when the catalogue asks for it, retrying a failure a retry can help after a backoff,
//! and waiting for a START or a change after one it cannot.

use std::time::Duration;

use rosetta_domain::replication::PipelinePhase;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::failure::RunError;
use super::progress::Reporter;
use super::run::{run, RunContext};
use super::wanted::Wanted;

/// The first wait before a retry; each next one waits twice as long, up to the setting.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// A running worker, told what its pipeline wants through `wanted` (`None`: stop).
pub(super) struct Worker {
    wanted: watch::Sender<Option<Wanted>>,
    task: JoinHandle<()>,
    /// The lease epoch it runs under.
    pub epoch: u64,
}

impl Worker {
    /// Starts a worker for `ctx`'s pipeline, as `wanted` says, reporting as `owner`.
    pub fn spawn(ctx: RunContext, wanted: Wanted, owner: String) -> Self {
        let epoch = ctx.epoch;
        let (sender, receiver) = watch::channel(Some(wanted));
        let pipeline = ctx.pipeline;
        let task = tokio::spawn(tracing::Instrument::instrument(
            work(ctx, receiver, owner),
            tracing::info_span!("pipeline", pipeline_id = %pipeline, epoch),
        ));
        Self {
            wanted: sender,
            task,
            epoch,
        }
    }

    /// Passes on what the catalogue now says of the pipeline.
    pub fn want(&self, wanted: Wanted) {
        self.wanted.send_if_modified(|current| {
            let changed = current.as_ref() != Some(&wanted);
            *current = Some(wanted);
            changed
        });
    }

    /// Whether the worker has ended on its own (another process took the pipeline over).
    pub fn finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the worker and waits, at most `grace`, for it to report and end; past it the
    /// worker is aborted (nothing is lost: only what the destination committed counts).
    pub async fn stop(self, grace: Duration) {
        let _ = self.wanted.send(None);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
        }
    }
}

async fn work(ctx: RunContext, mut wanted: watch::Receiver<Option<Wanted>>, owner: String) {
    let mut reporter = Reporter::resume(
        ctx.rosetta.runtime.clone(),
        ctx.pipeline,
        &owner,
        ctx.settings.sample_interval,
    )
    .await;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let Some(mut current) = wanted.borrow_and_update().clone().filter(Wanted::runs) else {
            break;
        };
        let began = Instant::now();
        let outcome = tokio::select! {
            outcome = run(&ctx, &mut reporter) => Some(outcome),
            () = until_restart(&mut wanted, &mut current) => None,
        };
        match outcome {
            // Start over as the catalogue now says (or stop, at the top of the loop).
            None | Some(Ok(_)) => backoff = FIRST_BACKOFF,
            Some(Err(error @ RunError::Fenced)) => {
                tracing::info!("another replicator runs the pipeline now; this worker stops");
                super::metrics::failed(ctx.pipeline, error.kind());
                return;
            }
            Some(Err(error @ RunError::Transient(_))) => {
                tracing::warn!(error = error.message(), retry_in = ?backoff, "the pipeline's run failed; retrying");
                reporter.failed(error.message(), error.kind()).await;
                if began.elapsed() > ctx.settings.max_backoff {
                    // It ran a good while: this failure starts a new series of retries.
                    backoff = FIRST_BACKOFF;
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = until_restart(&mut wanted, &mut current) => {}
                }
                backoff = (backoff * 2).min(ctx.settings.max_backoff);
            }
            Some(Err(error @ RunError::Permanent(_))) => {
                tracing::warn!(
                    error = error.message(),
                    "the pipeline's run failed; waiting for it to be started again"
                );
                reporter.failed(error.message(), error.kind()).await;
                until_restart(&mut wanted, &mut current).await;
                backoff = FIRST_BACKOFF;
            }
        }
    }
    reporter.phase(PipelinePhase::Paused).await;
}

/// Resolves when what the catalogue wants of the pipeline means the run begun for `current`
/// must end: a restart (see [`Wanted::restarts_for`]), a pause, or a stop. A change that needs
/// no restart (the run's own end of a refresh) becomes `current`.
async fn until_restart(wanted: &mut watch::Receiver<Option<Wanted>>, current: &mut Wanted) {
    loop {
        if wanted.changed().await.is_err() {
            return;
        }
        match &*wanted.borrow() {
            Some(next) if next.runs() && !current.restarts_for(next) => *current = next.clone(),
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use chrono::Utc;
    use rosetta_domain::ports::{MockPipelineRuntime, ReplicationError};
    use rosetta_domain::replication::PipelinePhase;
    use rosetta_domain::{PipelineId, PipelineStatus};

    use super::super::ReplicatorSettings;
    use super::*;
    use crate::fixtures::{pipeline_details, Mocks};

    /// What a test worker's pipeline saw: its runs, the failures recorded, the phases reported.
    type Seen = (
        Arc<AtomicUsize>,
        Arc<Mutex<Vec<String>>>,
        Arc<Mutex<Vec<PipelinePhase>>>,
    );

    /// A worker for pipeline 9 whose every run fails on the source with `error`.
    fn worker(error: fn() -> ReplicationError) -> (Worker, Seen) {
        let runs = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let phases = Arc::new(Mutex::new(Vec::new()));
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_get()
            .returning(|_| Ok(Some(pipeline_details(9, PipelineStatus::Start))));
        let counted = runs.clone();
        mocks.replication.expect_facts().returning(move |_, _| {
            counted.fetch_add(1, Ordering::SeqCst);
            Err(error())
        });
        let mut runtime = MockPipelineRuntime::new();
        runtime.expect_progress().returning(|_| Ok(None));
        let reported = phases.clone();
        runtime.expect_report().returning(move |_, progress| {
            reported.lock().unwrap().push(progress.phase);
            Ok(())
        });
        runtime.expect_report_tables().returning(|_, _| Ok(()));
        runtime.expect_sample().returning(|_, _| Ok(()));
        let failed = failures.clone();
        runtime.expect_fail().returning(move |_, message, _| {
            failed.lock().unwrap().push(message.to_owned());
            Ok(())
        });
        mocks.runtime = runtime;
        let ctx = RunContext {
            rosetta: mocks.into_rosetta(),
            settings: ReplicatorSettings::default(),
            pipeline: PipelineId::new(9),
            epoch: 1,
        };
        let wanted = Wanted::of(&pipeline_details(9, PipelineStatus::Start));
        (
            Worker::spawn(ctx, wanted, "me".to_owned()),
            (runs, failures, phases),
        )
    }

    fn unreachable() -> ReplicationError {
        ReplicationError::Connect {
            host: "db:5432".to_owned(),
            reason: "connection refused".to_owned(),
        }
    }

    fn refused() -> ReplicationError {
        ReplicationError::Refused {
            host: "db:5432".to_owned(),
            what: "reading the publication".to_owned(),
            code: "42501".to_owned(),
            reason: "permission denied".to_owned(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_a_retry_can_help_is_recorded_and_retried_with_a_growing_backoff() {
        let (worker, (runs, failures, _)) = worker(unreachable);
        // Runs at 0 s, then after 1, 2 and 4 s of backoff: 4 runs by 7.5 s.
        tokio::time::sleep(Duration::from_millis(7_500)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        let failures = failures.lock().unwrap().clone();
        assert_eq!(failures.len(), 4);
        assert!(failures[0].contains("connection refused"), "{failures:?}");
        worker.stop(Duration::from_secs(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_needing_a_fix_waits_for_the_pipeline_to_be_started_again() {
        let (worker, (runs, failures, _)) = worker(refused);
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "it never crash-loops");
        assert_eq!(failures.lock().unwrap().len(), 1);

        // START again: `last_start_at` moves, and the worker tries once more.
        let mut again = pipeline_details(9, PipelineStatus::Start);
        again.metadata.last_start_at = Some(Utc::now());
        worker.want(Wanted::of(&again));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        worker.stop(Duration::from_secs(1)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopped_worker_reports_its_pipeline_paused_and_ends() {
        let (worker, (_, _, phases)) = worker(refused);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!worker.finished());
        worker.stop(Duration::from_secs(5)).await;
        assert_eq!(phases.lock().unwrap().last(), Some(&PipelinePhase::Paused));
    }
}
