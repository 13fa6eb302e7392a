//! `rosetta rotate-keys [--dry-run]`: re-encrypt every stored secret with the newest key, so
//! that older keys can be removed; and the pass that encrypts plaintext secrets left by a
//! version without encryption at rest, run after migrating.

use rosetta_metadata_store::{
    build_pool, count_plaintext_secrets, reencrypt_secrets, DbPool, RotationMode, RotationOptions,
    RotationReport, SecretCipher,
};

use crate::config::Config;
use crate::keys::load_keys;

/// Re-encrypts every secret not under the newest key, in batches committed one by one, and
/// prints a one-line summary. An interrupted run is resumed by running it again.
///
/// # Errors
///
/// When the keys cannot be loaded, the database fails, a stored secret does not decrypt (the
/// message names it), or secrets are left under older keys (rows another writer held: run it
/// again).
pub async fn run(config: &Config, dry_run: bool) -> anyhow::Result<()> {
    let (cipher, source) = load_keys(config)?;
    let pool = build_pool(&config.database_url, &config.pool)?;
    let options = RotationOptions {
        dry_run,
        ..RotationOptions::new(RotationMode::AllToNewest)
    };
    let result = reencrypt_secrets(&pool, &cipher, options).await;
    pool.close();
    let report = result?;
    println!(
        "{} (keys from {source}, database {})",
        summary(&report, &cipher, dry_run),
        config.database_target()
    );
    if !dry_run && report.remaining > 0 {
        anyhow::bail!(
            "{} secret(s) are not under key {} yet (their rows were busy): run rosetta rotate-keys again",
            report.remaining,
            cipher.newest_key_id()
        );
    }
    Ok(())
}

/// The one line `rotate-keys` prints.
pub fn summary(report: &RotationReport, cipher: &SecretCipher, dry_run: bool) -> String {
    let newest = cipher.newest_key_id();
    let changed = report.reencrypted + report.plaintext_encrypted;
    let counts = format!(
        "{} under older keys, {} in plaintext",
        report.reencrypted, report.plaintext_encrypted
    );
    if dry_run {
        return format!(
            "dry run: {changed} secret(s) would be re-encrypted with key {newest} ({counts}); nothing was written"
        );
    }
    let older: Vec<String> = cipher
        .key_ids()
        .into_iter()
        .filter(|id| *id != newest)
        .map(|id| id.to_string())
        .collect();
    let next = match (report.remaining, older.is_empty()) {
        (0, true) => format!("every secret is under key {newest}"),
        (0, false) => format!(
            "every secret is under key {newest}: key(s) {} can be removed",
            older.join(", ")
        ),
        (left, _) => format!("{left} left"),
    };
    format!("re-encrypted {changed} secret(s) with key {newest} ({counts}); {next}")
}

/// Encrypts the secrets a version without encryption at rest stored in plaintext, and returns
/// how many. Run after migrating, by `serve` and `migrate`.
///
/// # Errors
///
/// When the database fails or a stored secret does not decrypt.
pub async fn encrypt_plaintext(pool: &DbPool, cipher: &SecretCipher) -> anyhow::Result<u64> {
    let report = reencrypt_secrets(
        pool,
        cipher,
        RotationOptions::new(RotationMode::PlaintextOnly),
    )
    .await?;
    Ok(report.plaintext_encrypted)
}

/// [`encrypt_plaintext`] for `rosetta migrate`, which loads the keys (and so may create the
/// development key file) only when there is plaintext to encrypt.
///
/// # Errors
///
/// As [`encrypt_plaintext`], and when the keys cannot be loaded.
pub async fn encrypt_plaintext_if_any(config: &Config) -> anyhow::Result<u64> {
    let pool = build_pool(&config.database_url, &config.pool)?;
    let result = async {
        if count_plaintext_secrets(&pool).await? == 0 {
            return Ok(0);
        }
        let (cipher, _) = load_keys(config)?;
        encrypt_plaintext(&pool, &cipher).await
    }
    .await;
    pool.close();
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cipher(ids: &[u32]) -> SecretCipher {
        SecretCipher::new(ids.iter().map(|id| (*id, [0_u8; 32]))).unwrap()
    }

    #[test]
    fn the_summary_says_what_was_done_and_which_keys_can_go() {
        let report = RotationReport {
            examined: 5,
            reencrypted: 4,
            plaintext_encrypted: 1,
            remaining: 0,
        };
        assert_eq!(
            summary(&report, &cipher(&[1, 2, 3]), false),
            "re-encrypted 5 secret(s) with key 3 (4 under older keys, 1 in plaintext); \
             every secret is under key 3: key(s) 1, 2 can be removed"
        );
        assert_eq!(
            summary(&report, &cipher(&[3]), true),
            "dry run: 5 secret(s) would be re-encrypted with key 3 \
             (4 under older keys, 1 in plaintext); nothing was written"
        );
        let busy = RotationReport {
            remaining: 2,
            ..report
        };
        assert!(summary(&busy, &cipher(&[1, 2]), false).ends_with("; 2 left"));
    }
}
