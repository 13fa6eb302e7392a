//! `rosetta migrate`: bring the metadata database into being and up to date.

use rosetta_metadata_store::migrations::{create_database_if_missing, run_migrations};

use crate::config::Config;

/// Creates the database if it is missing, then applies the pending migrations, saying what it
/// did on standard output.
///
/// # Errors
///
/// When the server cannot be reached, refuses the login, or a migration fails.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let target = config.database_target();
    if create_database_if_missing(&config.database_url).await? {
        println!("created database {target}");
    }
    let applied = run_migrations(&config.database_url).await?;
    if applied.is_empty() {
        println!("{target} is up to date");
    } else {
        println!(
            "applied {} migration(s) to {target}: {}",
            applied.len(),
            applied.join(", ")
        );
    }
    Ok(())
}
