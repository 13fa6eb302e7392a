//! The Prometheus recorder behind `GET /metrics`: installed once per process (the `metrics`
//! facade has one global recorder, which every app built in the process shares), with the
//! metadata pool's gauges read at scrape time.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics::{describe_gauge, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use rosetta_app::{MonitorSettings, Replicator, WalMonitor};
use rosetta_http_api::metrics::{MetricsRenderer, HTTP_DURATION_BUCKETS, HTTP_REQUEST_DURATION};
use rosetta_metadata_store::DbPool;

/// Connections the metadata pool holds, in use or idle.
pub const DB_POOL_SIZE: &str = "rosetta_db_pool_size";
/// Connections of the metadata pool ready to be handed out.
pub const DB_POOL_IDLE: &str = "rosetta_db_pool_idle";
/// Requests waiting for a connection of the metadata pool.
pub const DB_POOL_WAITING: &str = "rosetta_db_pool_waiting";

/// How often histograms are folded between scrapes, so that a long gap between two scrapes
/// does not pile up samples in memory.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Why the recorder could not be installed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MetricsError {
    /// The exporter refused its settings, or another recorder was installed first.
    #[error("cannot install the Prometheus metrics recorder: {0}")]
    Install(String),
}

static RECORDER: OnceLock<Result<PrometheusHandle, MetricsError>> = OnceLock::new();

/// The process's recorder, installed on the first call with the settings of `monitor`; later
/// calls (another app in the same test process) get the same one.
///
/// # Errors
///
/// [`MetricsError::Install`], on every call, when the first installation failed.
pub fn install(monitor: &MonitorSettings) -> Result<PrometheusHandle, MetricsError> {
    RECORDER.get_or_init(|| build(monitor)).clone()
}

fn build(monitor: &MonitorSettings) -> Result<PrometheusHandle, MetricsError> {
    let install_error =
        |error: metrics_exporter_prometheus::BuildError| MetricsError::Install(error.to_string());
    // A gauge that nobody sets any more (a slot dropped, a source deleted) leaves the output
    // once the monitor would count as stuck, while a gauge it sets every cycle never lapses.
    let mut builder =
        PrometheusBuilder::new().idle_timeout(MetricKindMask::GAUGE, Some(monitor.stale_after()));
    // Buckets make these true Prometheus histograms (aggregatable across instances) rather
    // than the exporter's default summaries.
    let histograms = [(HTTP_REQUEST_DURATION, HTTP_DURATION_BUCKETS)]
        .into_iter()
        .chain(WalMonitor::metric_buckets());
    for (name, buckets) in histograms {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
            .map_err(install_error)?;
    }
    let handle = builder.install_recorder().map_err(install_error)?;
    describe();
    rosetta_http_api::metrics::describe();
    WalMonitor::describe_metrics();
    Replicator::describe_metrics();
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            upkeep.run_upkeep();
        });
    if let Err(error) = spawned {
        // Rendering folds histograms too; only memory between scrapes is at stake.
        tracing::warn!(error = %error, "cannot start the metrics upkeep thread");
    }
    Ok(handle)
}

fn describe() {
    describe_gauge!(DB_POOL_SIZE, "Connections the metadata pool holds");
    describe_gauge!(DB_POOL_IDLE, "Idle connections of the metadata pool");
    describe_gauge!(
        DB_POOL_WAITING,
        "Requests waiting for a metadata pool connection"
    );
}

/// What `GET /metrics` serves: the pool's gauges as they are now, then everything recorded.
pub fn renderer(handle: PrometheusHandle, pool: DbPool) -> MetricsRenderer {
    Arc::new(move || {
        let status = pool.status();
        gauge!(DB_POOL_SIZE).set(status.size as f64);
        gauge!(DB_POOL_IDLE).set(status.available as f64);
        gauge!(DB_POOL_WAITING).set(status.waiting as f64);
        handle.render()
    })
}
