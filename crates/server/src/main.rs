//! `rosetta`: the control plane for PostgreSQL change-data-capture pipelines.
//!
//! Subcommands:
//! - `rosetta migrate`: creates the metadata database if it does not exist and applies the
//!   pending migrations (a no-op when there are none).
//!
//! Configuration comes from the environment and an optional `.env` file in the working
//! directory; see `docs/configuration.md`.

mod config;
mod migrate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// The control plane for PostgreSQL change-data-capture pipelines.
#[derive(Debug, Parser)]
#[command(name = "rosetta", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the metadata database if needed and apply pending migrations.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A missing .env is normal; a malformed one is worth a word.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("rosetta: warning: ignoring .env: {e}");
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("rosetta: error: {errors}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("rosetta: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Migrate => migrate::run(&config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes, never a backtrace.
            eprintln!("rosetta: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
