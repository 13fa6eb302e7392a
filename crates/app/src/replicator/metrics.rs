//! What the replicator reports to the `metrics` facade, per pipeline: its lag, the rows copied
//! and changes applied (Prometheus' `rate()` makes them rows per second) and its failures.

use metrics::{counter, describe_counter, describe_gauge, gauge, Unit};
use rosetta_domain::PipelineId;

use super::Replicator;

const LAG_BYTES: &str = "rosetta_pipeline_lag_bytes";
const LAG_SECONDS: &str = "rosetta_pipeline_lag_seconds";
const ROWS_COPIED: &str = "rosetta_pipeline_rows_copied_total";
const CHANGES_APPLIED: &str = "rosetta_pipeline_changes_applied_total";
const FAILURES: &str = "rosetta_pipeline_failures_total";
const RUNNING: &str = "rosetta_replicator_pipelines";

impl Replicator {
    /// Registers the help text and unit of every metric the replicator records.
    pub fn describe_metrics() {
        describe_gauge!(
            LAG_BYTES,
            Unit::Bytes,
            "Bytes of the source's WAL a pipeline has not applied yet"
        );
        describe_gauge!(
            LAG_SECONDS,
            Unit::Seconds,
            "How long the oldest change a pipeline has not applied has waited (0 when caught up)"
        );
        describe_counter!(ROWS_COPIED, "Rows a pipeline's copies wrote");
        describe_counter!(CHANGES_APPLIED, "Row changes a pipeline applied");
        describe_counter!(
            FAILURES,
            "Runs of a pipeline that failed, by kind (transient, permanent, fenced)"
        );
        describe_gauge!(RUNNING, "Pipelines this replicator runs");
    }
}

fn label(pipeline: PipelineId) -> String {
    pipeline.get().to_string()
}

pub(super) fn lag(pipeline: PipelineId, bytes: u64, seconds: f64) {
    gauge!(LAG_BYTES, "pipeline_id" => label(pipeline)).set(bytes as f64);
    gauge!(LAG_SECONDS, "pipeline_id" => label(pipeline)).set(seconds);
}

pub(super) fn rows_copied(pipeline: PipelineId, rows: u64) {
    counter!(ROWS_COPIED, "pipeline_id" => label(pipeline)).increment(rows);
}

pub(super) fn changes_applied(pipeline: PipelineId, changes: u64) {
    counter!(CHANGES_APPLIED, "pipeline_id" => label(pipeline)).increment(changes);
}

pub(super) fn failed(pipeline: PipelineId, kind: &'static str) {
    counter!(FAILURES, "pipeline_id" => label(pipeline), "kind" => kind).increment(1);
}

pub(super) fn running(pipelines: usize) {
    gauge!(RUNNING).set(pipelines as f64);
}
