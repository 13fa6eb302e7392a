//! The replicator's supervisor: on every poll it reads the catalogue, takes its share of the
//! pipelines that should run (renewing the leases it holds), and starts, updates or stops one
//! worker per pipeline it runs. It polls every `poll_interval`, and at once when a use case of
//! its own process changed the catalogue.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rosetta_domain::{Limit, PageRequest, PipelineDetails, PipelineId};
use tokio::time::{Instant, MissedTickBehavior};

use super::failure::RunError;
use super::metrics;
use super::run::RunContext;
use super::wanted::Wanted;
use super::worker::Worker;
use super::ReplicatorSettings;
use crate::Rosetta;

/// How long a stopped worker gets to report before it is aborted.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How long a wake-up from a change of the catalogue waits for more, so that a burst of
/// changes is read in one poll.
const WAKE_GATHER: Duration = Duration::from_millis(20);

/// One replicator process: runs the pipelines whose leases it holds.
#[derive(Clone)]
pub struct Replicator {
    rosetta: Rosetta,
    settings: ReplicatorSettings,
    owner: String,
    /// When a poll last read the catalogue and renewed the leases.
    last_poll: Arc<Mutex<Option<Instant>>>,
}

impl Rosetta {
    /// A replicator named `owner` (unique among the processes sharing the metadata database,
    /// such as `host:pid:random`), running pipelines as `settings` say.
    pub fn replicator(&self, settings: ReplicatorSettings, owner: impl Into<String>) -> Replicator {
        Replicator {
            rosetta: self.clone(),
            settings,
            owner: owner.into(),
            last_poll: Arc::new(Mutex::new(None)),
        }
    }
}

impl Replicator {
    /// Its name in leases and reports.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// How it runs pipelines.
    pub fn settings(&self) -> &ReplicatorSettings {
        &self.settings
    }

    /// Whether it runs and its last poll read the catalogue, less than three polls ago (the
    /// health check of a replicator process).
    pub fn healthy(&self) -> bool {
        self.last_poll
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < self.settings.poll_interval * 3)
    }

    /// Runs pipelines until `stop` resolves, then stops every worker and gives their leases up
    /// at once, so that another replicator takes them over without waiting for them to lapse.
    ///
    /// While the metadata database cannot be reached the workers go on, until the leases they
    /// hold would have lapsed: then they stop, since another replicator may take over.
    pub async fn run(&self, stop: impl Future<Output = ()>) {
        let mut workers: HashMap<PipelineId, Worker> = HashMap::new();
        let mut ticks = tokio::time::interval(self.settings.poll_interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut held_until: Option<Instant> = None;
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                // A change made through this process's API is taken up now, not at the next
                // tick (changes made elsewhere wait for it).
                () = self.rosetta.catalogue.notified() => {
                    tokio::time::sleep(WAKE_GATHER).await;
                }
                () = &mut stop => break,
            }
            let polled = Instant::now();
            match self.poll(&mut workers).await {
                // What the poll renewed lasts a lease from its start, less a poll for safety.
                Ok(()) => {
                    held_until = Some(
                        polled
                            + self
                                .settings
                                .lease
                                .saturating_sub(self.settings.poll_interval),
                    );
                    *self
                        .last_poll
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(polled);
                }
                Err(error) => {
                    tracing::warn!(
                        error = error.message(),
                        "the replicator cannot read the catalogue"
                    );
                    if held_until.is_none_or(|until| Instant::now() >= until) && !workers.is_empty()
                    {
                        tracing::warn!(
                            pipelines = workers.len(),
                            "stopping the pipelines: their leases have lapsed"
                        );
                        for (_, worker) in workers.drain() {
                            worker.stop(STOP_GRACE).await;
                        }
                    }
                }
            }
            metrics::running(workers.len());
        }
        // All at once: a stop takes one grace at most, however many pipelines there are.
        let stops = workers.drain().map(|(id, worker)| async move {
            worker.stop(STOP_GRACE).await;
            if let Err(error) = self.rosetta.leases.release(id, &self.owner).await {
                tracing::warn!(pipeline = %id, error = %error, "cannot give the pipeline's lease up");
            }
        });
        futures_util::future::join_all(stops).await;
        if let Err(error) = self.rosetta.leases.leave(&self.owner).await {
            tracing::warn!(error = %error, "cannot say the replicator has stopped");
        }
        metrics::running(0);
        *self
            .last_poll
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// One poll: every pipeline of the catalogue gets what it wants of this replicator.
    async fn poll(&self, workers: &mut HashMap<PipelineId, Worker>) -> Result<(), RunError> {
        let leases = &self.rosetta.leases;
        let replicators = leases.heartbeat(&self.owner, self.settings.lease).await?;
        let pipelines = self.all_pipelines().await?;
        let runnable = pipelines.iter().filter(|p| Wanted::of(p).runs()).count();
        let share = runnable.div_ceil(replicators.max(1));
        let runs: HashSet<PipelineId> = pipelines
            .iter()
            .filter(|p| Wanted::of(p).runs())
            .map(|p| p.pipeline.id)
            .collect();
        // Deleted and paused pipelines first, so that their workers do not count against the
        // share.
        for id in workers.keys().copied().collect::<Vec<_>>() {
            if !runs.contains(&id) {
                if let Some(worker) = workers.remove(&id) {
                    tracing::info!(pipeline = %id, "the pipeline was paused or deleted; stopping it");
                    worker.stop(STOP_GRACE).await;
                    leases.release(id, &self.owner).await?;
                }
            }
        }
        for details in &pipelines {
            let id = details.pipeline.id;
            let wanted = Wanted::of(details);
            if !wanted.runs() {
                continue;
            }
            let running = workers.contains_key(&id);
            if running && workers.len() > share {
                // More than this replicator's share: another replicator takes it.
                if let Some(worker) = workers.remove(&id) {
                    tracing::info!(pipeline = %id, share, "handing the pipeline over to another replicator");
                    worker.stop(STOP_GRACE).await;
                    leases.release(id, &self.owner).await?;
                }
                continue;
            }
            if !running && workers.len() >= share {
                continue;
            }
            match leases.acquire(id, &self.owner, self.settings.lease).await? {
                Some(lease) => {
                    if let Some(worker) = workers.get(&id) {
                        if worker.epoch == lease.epoch && !worker.finished() {
                            worker.want(wanted);
                            continue;
                        }
                    }
                    if let Some(old) = workers.remove(&id) {
                        let fenced = old.finished();
                        old.stop(STOP_GRACE).await;
                        if fenced {
                            // It stopped on its own: a newer run holds the destination. Let the
                            // lease go, so that the next one has a newer epoch.
                            leases.release(id, &self.owner).await?;
                            continue;
                        }
                    }
                    tracing::info!(pipeline = %id, epoch = lease.epoch, "running the pipeline");
                    let ctx = RunContext {
                        rosetta: self.rosetta.clone(),
                        settings: self.settings,
                        pipeline: id,
                        epoch: lease.epoch,
                    };
                    workers.insert(id, Worker::spawn(ctx, wanted, self.owner.clone()));
                }
                None => {
                    if let Some(worker) = workers.remove(&id) {
                        tracing::warn!(pipeline = %id, "another replicator holds the pipeline's lease now; stopping it");
                        worker.stop(STOP_GRACE).await;
                    }
                }
            }
        }
        Ok(())
    }

    /// Every pipeline of the catalogue, a page at a time.
    async fn all_pipelines(&self) -> Result<Vec<PipelineDetails>, RunError> {
        let invalid = |e: rosetta_domain::InvalidValue| RunError::Permanent(e.to_string());
        let limit = Limit::new(i64::from(Limit::MAX)).map_err(invalid)?;
        let mut all = Vec::new();
        loop {
            let skip = i64::try_from(all.len()).unwrap_or(i64::MAX);
            let page = PageRequest::new(skip, limit).map_err(invalid)?;
            let batch = self.rosetta.pipelines.list(page, None).await?;
            let done = batch.len() < usize::from(Limit::MAX);
            all.extend(batch);
            if done {
                return Ok(all);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use chrono::Utc;
    use rosetta_domain::ports::{Lease, MockPipelineRuntime, ReplicationError};
    use rosetta_domain::{PipelineDetails, PipelineStatus};

    use super::*;
    use crate::fixtures::{pipeline_details, Mocks};

    /// What the fake lease store saw.
    #[derive(Default)]
    struct Leases {
        acquired: Vec<i64>,
        released: Vec<i64>,
        left: bool,
    }

    struct Setup {
        replicator: Replicator,
        pipelines: Arc<Mutex<Vec<PipelineDetails>>>,
        leases: Arc<Mutex<Leases>>,
        /// Whether the store grants leases.
        grants: Arc<Mutex<bool>>,
    }

    /// A replicator among `replicators` alive, over `pipelines`; every run fails on the source
    /// for good (it then waits), so that workers live on without doing anything.
    fn setup(replicators: usize, pipelines: Vec<PipelineDetails>) -> Setup {
        let pipelines = Arc::new(Mutex::new(pipelines));
        let leases = Arc::new(Mutex::new(Leases::default()));
        let grants = Arc::new(Mutex::new(true));
        let mut mocks = Mocks::default();
        let listed = pipelines.clone();
        mocks
            .pipelines
            .expect_list()
            .returning(move |_, _| Ok(listed.lock().unwrap().clone()));
        let got = pipelines.clone();
        mocks.pipelines.expect_get().returning(move |id| {
            Ok(got
                .lock()
                .unwrap()
                .iter()
                .find(|p| p.pipeline.id == id)
                .cloned())
        });
        mocks.replication.expect_facts().returning(|_, _| {
            Err(ReplicationError::Refused {
                host: "db:5432".to_owned(),
                what: "reading".to_owned(),
                code: "42501".to_owned(),
                reason: "permission denied".to_owned(),
            })
        });
        mocks
            .leases
            .expect_heartbeat()
            .returning(move |_, _| Ok(replicators));
        let (store, granting) = (leases.clone(), grants.clone());
        mocks
            .leases
            .expect_acquire()
            .returning(move |id, owner, _| {
                store.lock().unwrap().acquired.push(id.get());
                Ok(granting.lock().unwrap().then(|| Lease {
                    pipeline: id,
                    owner: owner.to_owned(),
                    epoch: 1,
                    expires_at: Utc::now(),
                }))
            });
        let store = leases.clone();
        mocks.leases.expect_release().returning(move |id, _| {
            store.lock().unwrap().released.push(id.get());
            Ok(())
        });
        let store = leases.clone();
        mocks.leases.expect_leave().returning(move |_| {
            store.lock().unwrap().left = true;
            Ok(())
        });
        let mut runtime = MockPipelineRuntime::new();
        runtime.expect_progress().returning(|_| Ok(None));
        runtime.expect_report().returning(|_, _| Ok(()));
        runtime.expect_sample().returning(|_, _| Ok(()));
        runtime.expect_report_tables().returning(|_, _| Ok(()));
        runtime.expect_fail().returning(|_, _, _| Ok(()));
        mocks.runtime = runtime;
        let replicator = mocks
            .into_rosetta()
            .replicator(ReplicatorSettings::default(), "me");
        Setup {
            replicator,
            pipelines,
            leases,
            grants,
        }
    }

    fn started(ids: &[i64]) -> Vec<PipelineDetails> {
        ids.iter()
            .map(|id| pipeline_details(*id, PipelineStatus::Start))
            .collect()
    }

    /// Runs the replicator for `for_`, then stops it; returns what the leases saw.
    async fn run(s: &Setup, for_: Duration, between: impl std::future::Future<Output = ()>) {
        let replicator = s.replicator.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            replicator
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        });
        tokio::time::sleep(for_).await;
        between.await;
        tokio::time::sleep(for_).await;
        let _ = stop.send(());
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn each_replicator_takes_its_share_of_the_pipelines_and_gives_them_up_when_it_stops() {
        let s = setup(2, started(&[1, 2, 3, 4]));
        run(&s, Duration::from_secs(1), async {}).await;
        let leases = s.leases.lock().unwrap();
        let mut acquired = leases.acquired.clone();
        acquired.sort_unstable();
        acquired.dedup();
        assert_eq!(
            acquired,
            [1, 2],
            "its share of four pipelines between two replicators"
        );
        let mut released = leases.released.clone();
        released.sort_unstable();
        assert_eq!(released, [1, 2]);
        assert!(leases.left);
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_pipeline_is_stopped_and_its_lease_given_up() {
        let s = setup(1, started(&[1, 2]));
        let pipelines = s.pipelines.clone();
        run(&s, Duration::from_secs(3), async move {
            pipelines.lock().unwrap()[1] = pipeline_details(2, PipelineStatus::Pause);
        })
        .await;
        let leases = s.leases.lock().unwrap();
        // Released when paused, then pipeline 1 at the stop.
        assert_eq!(leases.released, [2, 1]);
        // Polls at 0 and 2 s leased both; those after the pause (at 3 s) only pipeline 1.
        let times = |id: i64| leases.acquired.iter().filter(|a| **a == id).count();
        assert_eq!(
            times(2),
            2,
            "the paused pipeline is not leased again: {:?}",
            leases.acquired
        );
        assert!(times(1) >= 3, "{:?}", leases.acquired);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pipeline_whose_lease_another_took_is_stopped_here() {
        let s = setup(1, started(&[1]));
        let grants = s.grants.clone();
        run(&s, Duration::from_secs(3), async move {
            *grants.lock().unwrap() = false;
        })
        .await;
        let leases = s.leases.lock().unwrap();
        // Nothing to give up at the stop: the worker had already been stopped.
        assert!(leases.released.is_empty(), "{:?}", leases.released);
    }

    #[tokio::test(start_paused = true)]
    async fn a_change_made_in_its_process_is_taken_up_before_the_next_poll() {
        let s = setup(1, started(&[1, 2]));
        let (pipelines, rosetta) = (s.pipelines.clone(), s.replicator.rosetta.clone());
        // Polls every 2 s: at 0 s, then not before the stop at 1 s but for the wake-up.
        run(&s, Duration::from_millis(500), async move {
            pipelines.lock().unwrap()[1] = pipeline_details(2, PipelineStatus::Pause);
            rosetta.catalogue_changed();
        })
        .await;
        let leases = s.leases.lock().unwrap();
        let times = |id: i64| leases.acquired.iter().filter(|a| **a == id).count();
        assert_eq!(
            (times(1), times(2)),
            (2, 1),
            "the woken poll renews pipeline 1 and no longer leases the paused one: {:?}",
            leases.acquired
        );
    }
}
