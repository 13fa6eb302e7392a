//! The client commands of the `rosetta` binary: the catalogue, the pipelines' lifecycle and the
//! WAL monitor of a Rosetta server, through its REST API (`rosetta-client`), from a terminal or
//! a script (`docs/cli.md`).
//!
//! - The server is `--url` or `ROSETTA_URL` (default `http://127.0.0.1:8000`), the key
//!   `--api-key` or `ROSETTA_API_KEY` (the variable is better: flags show in process lists),
//!   or both from a named profile (`--profile`, `rosetta profile set`).
//! - Output is a table on a terminal and JSON otherwise; `-o table|json|yaml` chooses.
//! - Destructive commands ask first, unless `--yes`; without a terminal to ask on, they refuse.
//! - Errors are one line on standard error: the API's message and its failing fields.
//! - Exit codes ([`exit`]): 0 ok, 1 error, 2 usage, 3 a WAL warning, 4 a WAL critical, 5 a
//!   plan with changes (`--detailed-exitcode`).
//! - Pipelines as code: `export` writes the catalogue as YAML, `plan -f` says what `apply -f`
//!   would create, change and delete.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod catalogue;
mod commands;
mod edit;
mod output;
mod profiles;
mod remote;
mod watch;

use std::process::ExitCode;

pub use commands::Command;
use remote::Failure;

/// The exit codes, as docs/cli.md lists them.
pub mod exit {
    /// It worked; for `sources wal`, the verdict is `ok`.
    pub const OK: u8 = 0;
    /// An error: the API refused, the server cannot be reached, a check is not ready.
    pub const ERROR: u8 = 1;
    /// The command line is wrong (clap's code too).
    pub const USAGE: u8 = 2;
    /// `sources wal`: the verdict is `warning`.
    pub const WAL_WARNING: u8 = 3;
    /// `sources wal`: the verdict is `critical`.
    pub const WAL_CRITICAL: u8 = 4;
    /// `plan --detailed-exitcode`: applying the file would change something (2, terraform's
    /// code, is the usage error here).
    pub const CHANGES: u8 = 5;
}

/// Runs `command` and says how it ended. Its output goes to standard output, errors to
/// standard error, in one line each.
pub async fn run(command: Command) -> ExitCode {
    match command.run().await {
        Ok(code) => ExitCode::from(code),
        Err(Failure { message, code }) => {
            eprintln!("rosetta: error: {message}");
            ExitCode::from(code)
        }
    }
}
