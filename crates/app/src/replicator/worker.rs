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
    let mut reporter = Reporter::resume(ctx.rosetta.runtime.clone(), ctx.pipeline, &owner).await;
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
            Some(Err(RunError::Fenced)) => {
                tracing::info!("another replicator runs the pipeline now; this worker stops");
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
                tracing::warn!(error = error.message(), "the pipeline's run failed; waiting for it to be started again");
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
