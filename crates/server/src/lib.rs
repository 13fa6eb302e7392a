//! The `rosetta` binary's library: configuration, telemetry and wiring, so that tests start the
//! real service the way `rosetta serve` does.

pub mod cli;
pub mod config;
pub mod keys;
pub mod metrics;
pub mod migrate;
pub mod monitor;
pub mod rotate_keys;
pub mod startup;
pub mod telemetry;
