//! `rosetta migrate`: bring the metadata database into being and up to date.

use rosetta_metadata_store::migrations::{create_database_if_missing, run_migrations};

use crate::config::Config;

/// Creates the database if it is missing, applies the pending migrations, then encrypts the
/// secrets an older version stored in plaintext, saying what it did on standard output.
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
    let encrypted = crate::rotate_keys::encrypt_plaintext_if_any(config).await?;
    if encrypted > 0 {
        println!("encrypted {encrypted} secret(s) stored in plaintext in {target}");
    }
    Ok(())
}
