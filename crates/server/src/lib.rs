//! The `rosetta` binary's library: configuration, telemetry and wiring, so that tests start the
//! real service the way `rosetta serve` does.

pub mod config;
pub mod migrate;
pub mod monitor;
pub mod startup;
pub mod telemetry;
