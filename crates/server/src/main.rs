//! `rosetta`: PostgreSQL change-data-capture pipelines.
//!
//! Subcommands:
//! - `rosetta serve`: serves the REST API and runs the WAL monitor and the data plane
//!   (migrating the metadata database first);
//! - `rosetta replicate`: runs only the data plane, with health and metrics;
//! - `rosetta migrate`: creates the metadata database if it does not exist and applies the
//!   pending migrations (a no-op when there are none);
//! - `rosetta rotate-keys [--dry-run]`: re-encrypts every stored secret with the newest key;
//! - `rosetta openapi`: prints the OpenAPI document.
//!
//! Configuration comes from flags, the environment and an optional `.env` file in the working
//! directory, in that order (`rosetta serve --help`); see `docs/configuration.md`.

use std::process::ExitCode;

use mimalloc::MiMalloc;

use clap::Parser as _;
use rosetta_server::cli::{Cli, Command};
use rosetta_server::config::Config;
use rosetta_server::startup::Application;
use rosetta_server::{migrate, rotate_keys, telemetry};

// Serving JSON allocates many small, short-lived buffers from every worker thread, the pattern
// mimalloc's thread-local heaps are made for; every figure in docs/benchmarks.md was measured
// with it.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.log_level, config.log_format);
    let app = Application::build(&config).await?;
    tracing::info!(
        host = %config.host,
        port = app.port(),
        database = %config.database_target(),
        "serving the API; documentation at /docs"
    );
    app.run_until_stopped().await
}

async fn replicate(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.log_level, config.log_format);
    let app = Application::build_replicator(&config).await?;
    tracing::info!(
        host = %config.host,
        port = app.port(),
        database = %config.database_target(),
        "running the data plane; health and metrics at /health and /metrics"
    );
    app.run_until_stopped().await
}

async fn print_openapi() -> anyhow::Result<()> {
    let document = rosetta_http_api::openapi_document().await?;
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}

fn main() -> ExitCode {
    // Before the command line is read, so that its variables stand in for missing flags; a
    // missing .env is normal, a malformed one is worth a word. Variables already set win.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("rosetta: warning: ignoring .env: {e}");
        }
    }
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command, "rosetta", &mut script);
        // A closed pipe (`| head`) is not an error.
        let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
        return ExitCode::SUCCESS;
    }
    // The client commands need no configuration of the service: only a server to call.
    if let Command::Client(command) = cli.command {
        return match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(rosetta_cli::run(command)),
            Err(e) => {
                eprintln!("rosetta: error: cannot start the async runtime: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match &cli.command {
        // Only serve listens: its API must not be open to the network by accident.
        Command::Serve(settings) => Config::for_serve(&settings.vars()),
        Command::Migrate(settings)
        | Command::Replicate(settings)
        | Command::RotateKeys { settings, .. } => Config::from_vars(&settings.vars()),
        Command::Openapi | Command::Client(_) | Command::Completions { .. } => {
            Config::from_vars(&Default::default())
        }
    };
    let config = match config {
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
            Command::Serve(_) => serve(config).await,
            Command::Replicate(_) => replicate(config).await,
            Command::Migrate(_) => migrate::run(&config).await,
            Command::RotateKeys { dry_run, .. } => rotate_keys::run(&config, dry_run).await,
            Command::Openapi => print_openapi().await,
            // Answered above.
            Command::Client(_) | Command::Completions { .. } => Ok(()),
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
