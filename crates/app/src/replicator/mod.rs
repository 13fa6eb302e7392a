//! The data plane: a replicator process runs the pipelines whose leases it holds, each from its
//! initial copy to its streamed changes, and gives a pipeline up when it is paused, deleted or
//! taken over by another process.
//!
//! [`Replicator::run`] is the supervisor: every [`ReplicatorSettings::poll_interval`] it reads
//! the catalogue, takes or renews the lease of every pipeline that should run, and starts,
//! restarts or stops one worker per pipeline (`worker.rs`). A worker's run (`run.rs`) checks the
//! source, opens the destination for its lease's epoch, copies the tables that need it
//! (`copy.rs`) and applies the stream in batches committed with their checkpoint (`apply.rs`);
//! failures are recorded on the pipeline and retried with backoff when a retry can help.

use std::time::Duration;

use rosetta_settings::{Seconds, Whole};

mod apply;
mod copy;
mod failure;
mod metrics;
mod progress;
mod run;
mod supervisor;
mod wanted;
mod worker;

#[cfg(test)]
mod testing;

pub use supervisor::Replicator;

rosetta_settings::settings! {
    /// How the replicator runs pipelines.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ReplicatorSettings {
        /// Seconds a replicator's lease on a pipeline lasts unless renewed: when a replicator
        /// stops or dies, another takes its pipelines over within this time.
        pub lease: Duration = Duration::from_secs(30),
            env "REPLICATOR_LEASE_SECONDS", rule Seconds::within(3, 3600);
        /// Seconds between two reads of the catalogue: how soon a pipeline started, paused or
        /// changed through another process's API is taken up (a change through this
        /// process's own API is taken up at once); leases are renewed on the same beat.
        pub poll_interval: Duration = Duration::from_secs(2),
            env "REPLICATOR_POLL_SECONDS", rule Seconds::within(1, 600);
        /// Tables of one pipeline copied at once, each on a connection of its own to the
        /// source and to the destination.
        pub copy_concurrency: usize = 4,
            env "REPLICATOR_COPY_CONCURRENCY", rule Whole::within(1, 64);
        /// Row changes gathered before they are written to the destination.
        pub batch_rows: usize = 10_000,
            env "REPLICATOR_BATCH_ROWS", rule Whole::within(1, 1_000_000);
        /// Bytes of row changes gathered before they are written to the destination.
        pub batch_bytes: usize = 16 << 20,
            env "REPLICATOR_BATCH_BYTES", rule Whole::within(1024, 1 << 30);
        /// Milliseconds a committed source transaction may wait for more before its batch is
        /// committed on the destination: the delay added to a quiet stream.
        pub batch_delay: Duration = Duration::from_millis(200),
            env "REPLICATOR_BATCH_DELAY_MS", rule rosetta_settings::Millis::within(1, 60_000);
        /// Seconds between retries of a pipeline that failed in a way a retry can help, at most
        /// (the first retry comes after one second, each next one waits twice as long).
        pub max_backoff: Duration = Duration::from_secs(60),
            env "REPLICATOR_MAX_BACKOFF_SECONDS", rule Seconds::within(1, 3600);
        /// Seconds between two samples of a running pipeline's lag and throughput, kept for
        /// the dashboard's charts and pruned with the WAL history.
        pub sample_interval: Duration = Duration::from_secs(60),
            env "REPLICATOR_SAMPLE_SECONDS", rule Seconds::within(1, 3600);
    }
}
