//! The command line: subcommands, and one flag per setting, each falling back to its
//! environment variable, built from the settings' declarations. Flags and variables are read as
//! text here and checked together by [`Config::from_vars`], so every invalid setting is reported
//! at once, whichever way it came.

use std::collections::HashMap;

use clap::error::ErrorKind;
use clap::{value_parser, Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand};
use rosetta_settings::SettingsGroup as _;

use crate::config::Config;

/// The control plane for PostgreSQL change-data-capture pipelines.
///
/// Settings come from flags, then the environment, then a `.env` file in the working
/// directory, then defaults; every one is described in docs/configuration.md.
#[derive(Parser)]
#[command(name = "rosetta", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per process; the client commands' options are the large variant"
)]
pub enum Command {
    /// Serve the REST API, run the WAL monitor and the data plane (applies pending migrations
    /// first).
    Serve(Settings),
    /// Run only the data plane: the pipelines this process holds leases on, with /health and
    /// /metrics but no API (applies pending migrations first).
    Replicate(Settings),
    /// Create the metadata database if needed and apply pending migrations.
    Migrate(Settings),
    /// Re-encrypt every stored secret with the newest encryption key, in batches; safe to run
    /// again after an interruption.
    RotateKeys {
        /// Count what would be re-encrypted, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The settings.
        #[command(flatten)]
        settings: Settings,
    },
    /// Print the OpenAPI document (JSON) on standard output.
    Openapi,
    /// Print a completion script for a shell: `rosetta completions bash >
    /// /etc/bash_completion.d/rosetta`, or `source <(rosetta completions zsh)`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// The client commands (`sources`, `destinations`, `pipelines`, `metrics`, `health`): a
    /// Rosetta server through its API (docs/cli.md).
    #[command(flatten)]
    Client(rosetta_cli::Command),
}

/// Every setting, as a flag falling back to its environment variable, kept as the text given.
///
/// The flags are built from the declarations ([`Config`]'s settings, its crates' included): one
/// per setting, named after its variable, with its doc and default as help. No value is shown
/// in `--help`, as some are secrets; for the same reason there is no `Debug`.
#[derive(Clone, Default)]
pub struct Settings {
    given: HashMap<String, String>,
}

impl Settings {
    /// The name of every setting's variable, in the order of `--help`.
    pub fn variables() -> Vec<&'static str> {
        Config::settings().iter().map(|s| s.env).collect()
    }

    /// The settings given, by variable name, for
    /// [`Config::from_vars`](crate::config::Config::from_vars).
    pub fn vars(&self) -> HashMap<String, String> {
        self.given.clone()
    }
}

impl FromArgMatches for Settings {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut settings = Self::default();
        settings.update_from_arg_matches(matches)?;
        Ok(settings)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for setting in Config::settings() {
            let given = matches
                .try_get_one::<String>(setting.env)
                .map_err(|e| clap::Error::raw(ErrorKind::ArgumentConflict, e))?;
            if let Some(value) = given {
                self.given.insert(setting.env.to_owned(), value.clone());
            }
        }
        Ok(())
    }
}

impl Args for Settings {
    fn augment_args(command: clap::Command) -> clap::Command {
        Config::settings()
            .into_iter()
            .fold(command, |command, setting| {
                command.arg(
                    Arg::new(setting.env)
                        .long(setting.flag.clone())
                        .env(setting.env)
                        .value_name("VALUE")
                        .hide_env_values(true)
                        .action(ArgAction::Set)
                        .value_parser(value_parser!(String))
                        .help(setting.help_line()),
                )
            })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn serve_help() -> String {
        let mut command = Cli::command();
        let serve = command
            .find_subcommand_mut("serve")
            .expect("a serve subcommand");
        serve.render_long_help().to_string()
    }

    #[test]
    fn every_setting_has_a_flag_naming_its_variable_and_default_in_serve_help() {
        let help = serve_help();
        for setting in Config::settings() {
            let variable = setting.env;
            // The flags keep the names they had before they were built from the declarations.
            let flag = format!("--{}", variable.to_ascii_lowercase().replace('_', "-"));
            let flag = flag
                .replace("--rosetta-encryption-keys", "--encryption-keys")
                .replace("--rosetta-data-dir", "--data-dir");
            assert_eq!(format!("--{}", setting.flag), flag);
            // The flag's entry, up to the next flag.
            let entry = help
                .split("\n      --")
                .find(|entry| entry.starts_with(&format!("{} <VALUE>", &flag[2..])))
                .unwrap_or_else(|| panic!("{flag}: {help}"));
            assert!(entry.contains(&format!("[env: {variable}")), "{entry}");
            assert!(
                entry.contains(&format!("[default: {}]", setting.default)),
                "{entry}"
            );
        }
    }

    #[test]
    fn every_setting_is_documented_in_the_configuration_guide_with_its_default() {
        let guide = include_str!("../../../docs/configuration.md");
        for setting in Config::settings() {
            let variable = setting.env;
            let row = guide
                .lines()
                .find(|line| line.starts_with(&format!("| `{variable}` |")))
                .unwrap_or_else(|| panic!("{variable} is not documented"));
            let default = row.split('|').nth(2).unwrap_or_default();
            assert!(
                default.contains(&setting.default),
                "{variable}: the guide says {default:?}, the declaration {:?}",
                setting.default
            );
        }
    }

    #[test]
    fn flags_become_the_variables_config_reads() {
        let cli = Cli::try_parse_from([
            "rosetta",
            "serve",
            "--port",
            "9100",
            "--wal-monitor-enabled",
            "false",
            "--api-keys",
            "one-key-0123456789abc",
        ])
        .unwrap();
        let Command::Serve(settings) = cli.command else {
            panic!("not serve");
        };
        let vars = settings.vars();
        assert_eq!(vars.get("PORT").map(String::as_str), Some("9100"));
        assert_eq!(
            vars.get("WAL_MONITOR_ENABLED").map(String::as_str),
            Some("false")
        );
        assert_eq!(
            vars.get("API_KEYS").map(String::as_str),
            Some("one-key-0123456789abc")
        );
    }

    #[test]
    fn rotate_keys_takes_a_dry_run_flag_and_the_settings() {
        let cli = Cli::try_parse_from([
            "rosetta",
            "rotate-keys",
            "--dry-run",
            "--database-url",
            "postgres://db/meta",
        ])
        .unwrap();
        let Command::RotateKeys { dry_run, settings } = cli.command else {
            panic!("not rotate-keys");
        };
        assert!(dry_run);
        assert_eq!(
            settings.vars().get("DATABASE_URL").map(String::as_str),
            Some("postgres://db/meta")
        );
    }
}
