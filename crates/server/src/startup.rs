//! Wiring: the metadata store, the WAL probe, the source and destination adapters and the use
//! cases behind the HTTP API (or, for `rosetta replicate`, only health and metrics), the WAL
//! monitor and the replicator, on one listener, with a graceful stop.

use std::net::TcpListener;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::HttpServer;
use anyhow::Context as _;
use async_trait::async_trait;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use rosetta_app::{Ports, Replicator, Rosetta, WritersByType};
use rosetta_domain::DestinationType;
use rosetta_http_api::auth::ApiKeys;
use rosetta_http_api::{AppOptions, HealthCheck};
use rosetta_metadata_store::migrations::{create_database_if_missing, run_migrations};
use rosetta_metadata_store::{
    build_pool, ping, DbPool, PgDestinationRepository, PgMonitorLock, PgPipelineLeases,
    PgPipelineRepository, PgPipelineRuntime, PgSourceRepository, PgWalHistory, SecretCipher,
};
use rosetta_pg_destination::{PgDestinationSettings, PgDestinationWriter};
use rosetta_pg_source::{PgReplicationSource, PgSourceSettings};
use rosetta_snowflake::SnowflakeWriter;
use rosetta_wal_probe::{PgWalProbe, ProbeSettings};

use crate::config::Config;
use crate::monitor::{MonitorState, Scheduler};

/// How long in-flight requests may take to finish once a stop is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

type Ping = Shared<BoxFuture<'static, bool>>;

/// The health of the pieces `/health` reports on.
struct ServiceHealth {
    pool: DbPool,
    /// The database check under way, which checks arriving meanwhile share: a burst of health
    /// requests costs one query, and no answer is older than the query it waited for.
    in_flight: Mutex<Option<Ping>>,
    /// The WAL monitor's scheduler state, when it runs.
    monitor: Option<Arc<MonitorState>>,
    /// How long after its last finished cycle the monitor counts as stuck.
    monitor_stale_after: Duration,
    /// The data plane, when this process runs it.
    replicator: Option<Replicator>,
}

#[async_trait]
impl HealthCheck for ServiceHealth {
    async fn database(&self) -> bool {
        let ping = {
            let mut slot = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match slot.as_ref() {
                Some(running) if running.peek().is_none() => running.clone(),
                _ => {
                    let pool = self.pool.clone();
                    let started = async move { ping(&pool).await.is_ok() }.boxed().shared();
                    *slot = Some(started.clone());
                    started
                }
            }
        };
        ping.await
    }

    fn wal_monitor(&self) -> bool {
        self.monitor
            .as_ref()
            .is_some_and(|state| state.healthy(self.monitor_stale_after))
    }

    fn replicator(&self) -> bool {
        self.replicator.as_ref().is_some_and(Replicator::healthy)
    }
}

fn cors(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_headers(["x-request-id"])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        return cors.allow_any_origin();
    }
    origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}

/// The use cases on the service's adapters: the metadata store on `pool`, its secrets sealed
/// by `cipher`, the WAL probe, the PostgreSQL source and destination adapters and the Snowflake
/// destination adapter, as `config` sets them.
pub fn use_cases(config: &Config, pool: &DbPool, cipher: Arc<SecretCipher>) -> Rosetta {
    // The monitor's probe timeout bounds every probe, the API's checks included.
    let probe = ProbeSettings::within(config.monitor.probe_timeout);
    let source = PgSourceSettings::new();
    // A destination is waited for as long as a source is.
    let destination = PgDestinationSettings::new(source.connect_timeout, source.statement_timeout);
    Rosetta::new(Ports {
        sources: Arc::new(PgSourceRepository::new(pool.clone(), cipher.clone())),
        destinations: Arc::new(PgDestinationRepository::new(pool.clone(), cipher.clone())),
        pipelines: Arc::new(PgPipelineRepository::new(pool.clone(), cipher)),
        wal_history: Arc::new(PgWalHistory::new(pool.clone())),
        monitor_lock: Arc::new(PgMonitorLock::new(pool.clone())),
        wal_probe: Arc::new(PgWalProbe::new(probe)),
        replication: Arc::new(PgReplicationSource::new(source)),
        writer: Arc::new(
            WritersByType::new()
                .with(
                    DestinationType::Postgres,
                    Arc::new(PgDestinationWriter::new(destination)),
                )
                .with(DestinationType::Snowflake, Arc::new(SnowflakeWriter::new())),
        ),
        leases: Arc::new(PgPipelineLeases::new(pool.clone())),
        runtime: Arc::new(PgPipelineRuntime::new(pool.clone())),
    })
    .with_wal_thresholds(config.wal_thresholds)
}

/// What a process runs: `rosetta serve` (the API, the WAL monitor and, unless turned off, the
/// data plane) or `rosetta replicate` (the data plane alone, with health and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Serve,
    Replicate,
}

/// The name of this process in leases and reports: `host:pid:random`, unique among the
/// processes of a metadata database, and telling an operator where the process runs.
fn process_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "rosetta".to_owned());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ std::process::id().rotate_left(16);
    format!("{host}:{}:{:04x}", std::process::id(), nonce & 0xffff)
}

/// The data plane running in this process.
struct RunningReplicator {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// A built, listening, not yet running service.
pub struct Application {
    server: Server,
    port: u16,
    pool: DbPool,
    scheduler: Option<Scheduler>,
    replicator: Option<RunningReplicator>,
}

impl Application {
    /// Prepares the metadata database (created if missing, migrated), builds the pool and the
    /// use cases, and binds the listener.
    ///
    /// # Errors
    ///
    /// When the encryption keys cannot be loaded, the database cannot be reached or migrated,
    /// a plaintext secret cannot be encrypted, or the address cannot be bound.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_as(config, Role::Serve).await
    }

    /// Prepares the metadata database like [`Application::build`], then runs only the data
    /// plane, with `/health` and `/metrics` on the listener (`rosetta replicate`).
    ///
    /// # Errors
    ///
    /// As [`Application::build`].
    pub async fn build_replicator(config: &Config) -> anyhow::Result<Self> {
        Self::build_as(config, Role::Replicate).await
    }

    async fn build_as(config: &Config, role: Role) -> anyhow::Result<Self> {
        // First, so that a missing or unsafe key stops the start before the database is touched.
        let cipher = crate::keys::load_cipher(config)?;
        create_database_if_missing(&config.database_url).await?;
        let applied = run_migrations(&config.database_url).await?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied pending migrations");
        }
        let pool = build_pool(&config.database_url, &config.pool)?;
        let encrypted = crate::rotate_keys::encrypt_plaintext(&pool, &cipher).await?;
        if encrypted > 0 {
            tracing::info!(
                encrypted,
                "encrypted secrets stored in plaintext by an older version"
            );
        }
        let rosetta = use_cases(config, &pool, cipher);
        // Before the monitor starts, so that its first cycle is recorded.
        let recorder = crate::metrics::install(&config.monitor)?;
        if config.api_keys.is_empty() && role == Role::Serve {
            tracing::warn!("API_KEYS is not set: the API is open to anyone who can reach it");
        }
        let runs_replicator = role == Role::Replicate || config.replicator_enabled;
        let replicator = runs_replicator.then(|| {
            let replicator = rosetta.replicator(config.replicator, process_name());
            tracing::info!(
                owner = replicator.owner(),
                lease_seconds = config.replicator.lease.as_secs(),
                "starting the data plane"
            );
            replicator
        });
        let running = replicator.clone().map(|replicator| {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                replicator
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
            RunningReplicator { stop, task }
        });
        let scheduler = (role == Role::Serve && config.wal_monitor_enabled).then(|| {
            tracing::info!(
                interval_seconds = config.monitor.interval.as_secs(),
                concurrency = config.monitor.concurrency,
                "starting the WAL monitor"
            );
            Scheduler::start(rosetta.wal_monitor(config.monitor))
        });
        let health: Arc<dyn HealthCheck> = Arc::new(ServiceHealth {
            pool: pool.clone(),
            in_flight: Mutex::new(None),
            monitor: scheduler.as_ref().map(Scheduler::state),
            monitor_stale_after: config.monitor.stale_after(),
            replicator,
        });
        let listener = TcpListener::bind((config.host.as_str(), config.port))
            .with_context(|| format!("cannot listen on {}:{}", config.host, config.port))?;
        let port = listener.local_addr()?.port();
        let origins = config.cors_origins.clone();
        let api_keys = ApiKeys::new(&config.api_keys);
        let metrics = crate::metrics::renderer(recorder, pool.clone());
        let server = match role {
            Role::Serve => {
                let options = AppOptions {
                    rosetta: Some(rosetta),
                    health: Some(health),
                    api_keys,
                    metrics: Some(metrics),
                    metrics_require_auth: config.metrics_require_auth,
                    pages: Some(rosetta_dashboard::configure),
                };
                HttpServer::new(move || rosetta_http_api::app(options.clone()).wrap(cors(&origins)))
                    .workers(config.http_workers)
                    .listen(listener)?
                    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
                    .run()
            }
            Role::Replicate => {
                let require_auth = config.metrics_require_auth;
                HttpServer::new(move || {
                    rosetta_http_api::operations_app(
                        health.clone(),
                        api_keys.clone(),
                        Some(metrics.clone()),
                        require_auth,
                    )
                })
                .workers(1)
                .listen(listener)?
                .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
                .run()
            }
        };
        Ok(Self {
            server,
            port,
            pool,
            scheduler,
            replicator: running,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop it.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM, Ctrl-C or a stop through the handle; in-flight requests finish,
    /// then the pool closes.
    ///
    /// # Errors
    ///
    /// When the server fails.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = self.server.await;
        // No new cycle once the API has stopped; probes under way are dropped with the runtime.
        drop(self.scheduler);
        if let Some(replicator) = self.replicator {
            // The pipelines stop and their leases go, so that another replicator takes them
            // over at once.
            let _ = replicator.stop.send(());
            if let Err(error) = replicator.task.await {
                tracing::warn!(error = %error, "the data plane did not stop cleanly");
            }
        }
        self.pool.close();
        tracing::info!("stopped");
        Ok(result?)
    }
}
