//! Moving stored secrets to the newest key (`rosetta rotate-keys`) and encrypting plaintext
//! secrets written before encryption at rest (at every start-up and `rosetta migrate`).
//!
//! The work goes in batches, one transaction each: a batch locks its rows (`FOR UPDATE SKIP
//! LOCKED`, so an API write to the same row waits or is skipped, never overwritten with stale
//! data), re-encrypts them and commits. An interruption loses at most the batch under way, and
//! the rows left are exactly those a rerun selects, since a row leaves the selection once it is
//! under the newest key. A secret that does not decrypt stops the run with the error naming it.

mod batch;
mod destinations;
mod sources;

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use diesel_async::pooled_connection::deadpool::PoolError;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use batch::run_batch;
use destinations::DestinationSecrets;
use sources::SourcePasswords;

use crate::crypto::{CipherError, SecretCipher};
use crate::destination_config::SECRET_FIELDS;
use crate::errors::DbError;
use crate::DbPool;

/// Which stored secrets a run re-encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationMode {
    /// Every secret not yet under the newest key, plaintext included: a key rotation.
    AllToNewest,
    /// Only plaintext secrets, written before encryption at rest: the start-up pass.
    PlaintextOnly,
}

/// How a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationOptions {
    /// Which secrets it re-encrypts.
    pub mode: RotationMode,
    /// Rows per transaction (at least 1).
    pub batch_size: u32,
    /// Count what would be re-encrypted (decrypting each value to check it), and write nothing.
    pub dry_run: bool,
    /// Stop after this many batches; the rest is left for a later run.
    pub max_batches: Option<u32>,
}

impl RotationOptions {
    /// Rows per transaction by default: short transactions, few round trips.
    pub const DEFAULT_BATCH_SIZE: u32 = 500;

    /// A complete run in `mode`, with the default batch size.
    pub fn new(mode: RotationMode) -> Self {
        Self {
            mode,
            batch_size: Self::DEFAULT_BATCH_SIZE,
            dry_run: false,
            max_batches: None,
        }
    }
}

/// What a run did, counted in secret values (a destination may hold two).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Values the run selected and decrypted.
    pub examined: u64,
    /// Values moved from an older key to the newest (in a dry run: that would be).
    pub reencrypted: u64,
    /// Plaintext values encrypted (in a dry run: that would be).
    pub plaintext_encrypted: u64,
    /// Values the mode selects that are still left when the run ends (rows locked by another
    /// writer, a `max_batches` stop, or everything in a dry run).
    pub remaining: u64,
}

impl RotationReport {
    /// Adds the counts of a committed batch.
    fn add(&mut self, batch: Self) {
        self.examined += batch.examined;
        self.reencrypted += batch.reencrypted;
        self.plaintext_encrypted += batch.plaintext_encrypted;
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// A stored secret does not decrypt; nothing of its batch was written.
    #[error(transparent)]
    Cipher(#[from] CipherError),
    /// The database failed.
    #[error("re-encrypting secrets: {0:#}")]
    Database(anyhow::Error),
}

impl From<DbError> for RotationError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(e) | DbError::Other(e) => Self::Database(e),
            other => Self::Database(anyhow::anyhow!("unexpected: {other:?}")),
        }
    }
}

impl From<PoolError> for RotationError {
    fn from(error: PoolError) -> Self {
        DbError::from(error).into()
    }
}

impl From<diesel::result::Error> for RotationError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

/// What a run selects and how it rewrites one value.
pub(crate) struct Target<'a> {
    cipher: &'a SecretCipher,
    mode: RotationMode,
    /// A `LIKE` pattern: the values that do not match it are selected.
    done: String,
}

impl<'a> Target<'a> {
    fn new(cipher: &'a SecretCipher, mode: RotationMode) -> Self {
        Self {
            cipher,
            mode,
            done: done_pattern(cipher, mode),
        }
    }

    /// Whether the run rewrites a stored value; matches the `done` pattern in SQL.
    fn selects(&self, stored: &str) -> bool {
        match self.mode {
            RotationMode::AllToNewest => !self.cipher.is_current(stored),
            RotationMode::PlaintextOnly => !SecretCipher::is_encrypted(stored),
        }
    }

    /// The value re-encrypted with the newest key, counted in `report`.
    fn rewrite(
        &self,
        stored: &str,
        at: &crate::crypto::SecretField,
        report: &mut RotationReport,
    ) -> Result<String, CipherError> {
        let plain = self.cipher.decrypt(stored, at)?;
        let sealed = self.cipher.encrypt(&plain, at)?;
        report.examined += 1;
        if SecretCipher::is_encrypted(stored) {
            report.reencrypted += 1;
        } else {
            report.plaintext_encrypted += 1;
        }
        Ok(sealed)
    }
}

fn done_pattern(cipher: &SecretCipher, mode: RotationMode) -> String {
    match mode {
        RotationMode::AllToNewest => format!("{}%", cipher.current_prefix()),
        RotationMode::PlaintextOnly => format!("{}%", SecretCipher::encrypted_prefix()),
    }
}

/// Re-encrypts the stored secrets `options.mode` selects with the newest key of `cipher`:
/// source passwords, then destinations' secret fields, `options.batch_size` rows per
/// transaction.
///
/// # Errors
///
/// [`RotationError::Cipher`] when a stored secret does not decrypt (it names the row and field;
/// the batches before it stay committed), [`RotationError::Database`] when the database fails.
#[tracing::instrument(skip(pool, cipher), err)]
pub async fn reencrypt_secrets(
    pool: &DbPool,
    cipher: &SecretCipher,
    options: RotationOptions,
) -> Result<RotationReport, RotationError> {
    let target = Target::new(cipher, options.mode);
    let batch_size = i64::from(options.batch_size.max(1));
    let mut report = RotationReport::default();
    let mut batches = 0_u32;
    let mut conn = pool.get().await?;
    'tables: for table in [Table::Sources, Table::Destinations] {
        let mut after = 0_i64;
        loop {
            if options.max_batches.is_some_and(|max| batches >= max) {
                break 'tables;
            }
            let batch = Batch {
                after,
                limit: batch_size,
                dry_run: options.dry_run,
            };
            let last = match table {
                Table::Sources => {
                    run_batch::<SourcePasswords>(&mut conn, &target, batch, &mut report).await?
                }
                Table::Destinations => {
                    run_batch::<DestinationSecrets>(&mut conn, &target, batch, &mut report).await?
                }
            };
            match last {
                Some(last) => after = last,
                None => break,
            }
            batches += 1;
        }
    }
    report.remaining = count_selected(&mut conn, &target.done).await?;
    Ok(report)
}

/// How many stored secrets are still plaintext: a start-up that finds none needs no key to
/// encrypt them.
///
/// # Errors
///
/// When the database fails.
pub async fn count_plaintext_secrets(pool: &DbPool) -> Result<u64, RotationError> {
    let mut conn = pool.get().await?;
    count_selected(&mut conn, &format!("{}%", SecretCipher::encrypted_prefix())).await
}

#[derive(Debug, Clone, Copy)]
enum Table {
    Sources,
    Destinations,
}

/// One batch: the rows after id `after`, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch {
    after: i64,
    limit: i64,
    dry_run: bool,
}

impl Batch {
    /// The row lock a batch that writes takes; a dry run takes none.
    fn locking(self) -> &'static str {
        if self.dry_run {
            ""
        } else {
            "FOR UPDATE SKIP LOCKED"
        }
    }
}

/// The SQL condition "destination secret `key` is not done", `$n` being the `done` pattern.
fn destination_condition(key: &str, n: usize) -> String {
    format!("(config->>'{key}' IS NOT NULL AND config->>'{key}' NOT LIKE ${n})")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The secret values not matching `done`, in both tables.
async fn count_selected(conn: &mut AsyncPgConnection, done: &str) -> Result<u64, RotationError> {
    let per_destination = SECRET_FIELDS
        .iter()
        .map(|(key, _)| format!("{}::int", destination_condition(key, 1)))
        .collect::<Vec<_>>()
        .join(" + ");
    let query = format!(
        "SELECT (SELECT count(*) FROM sources \
                 WHERE pg_password IS NOT NULL AND pg_password NOT LIKE $1) \
              + (SELECT coalesce(sum({per_destination}), 0) FROM destinations)::bigint AS n"
    );
    let count: Count = diesel::sql_query(query)
        .bind::<Text, _>(done)
        .get_result(conn)
        .await?;
    Ok(u64::try_from(count.n).unwrap_or_default())
}
