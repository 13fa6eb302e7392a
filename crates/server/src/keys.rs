//! The keys that encrypt secrets at rest: those of `ROSETTA_ENCRYPTION_KEYS`, or, in
//! development only, a key file `rosetta` makes for itself in the data directory.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rosetta_metadata_store::SecretCipher;

use crate::config::{AppEnv, Config};

/// The key file's name in `ROSETTA_DATA_DIR`.
pub const KEY_FILE: &str = "encryption.key";

/// Where the keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `ROSETTA_ENCRYPTION_KEYS`.
    Configured,
    /// The key file, found.
    KeyFile(PathBuf),
    /// The key file, created just now with a new key.
    CreatedKeyFile(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Configured => f.write_str("ROSETTA_ENCRYPTION_KEYS"),
            Self::KeyFile(path) => write!(f, "the key file {}", path.display()),
            Self::CreatedKeyFile(path) => write!(
                f,
                "the key file {}, created with a new key: back it up, secrets cannot be read without it",
                path.display()
            ),
        }
    }
}

/// The cipher for secrets at rest, saying in the log where its keys came from (a warning, once,
/// when it created the key file).
///
/// # Errors
///
/// See [`load_keys`].
pub fn load_cipher(config: &Config) -> anyhow::Result<Arc<SecretCipher>> {
    let (cipher, source) = load_keys(config)?;
    match &source {
        KeySource::CreatedKeyFile(path) => tracing::warn!(
            path = %path.display(),
            "no ROSETTA_ENCRYPTION_KEYS: created {} with a new encryption key; back it up, \
             stored secrets cannot be read without it",
            path.display()
        ),
        KeySource::KeyFile(path) => tracing::info!(
            path = %path.display(),
            "no ROSETTA_ENCRYPTION_KEYS: using the key file {}",
            path.display()
        ),
        KeySource::Configured => tracing::info!(
            key_ids = ?cipher.key_ids(),
            newest = cipher.newest_key_id(),
            "encrypting secrets at rest with ROSETTA_ENCRYPTION_KEYS"
        ),
    }
    Ok(cipher)
}

/// The cipher for secrets at rest and where its keys came from: the configured keys when there
/// are any; otherwise, outside production, `<ROSETTA_DATA_DIR>/encryption.key`, created (with
/// its directory) when missing, readable by its owner only.
///
/// # Errors
///
/// In production without keys; when the key file cannot be read or created, is readable by
/// others, or does not hold `id:base64key` entries. No message quotes a key.
pub fn load_keys(config: &Config) -> anyhow::Result<(Arc<SecretCipher>, KeySource)> {
    if !config.encryption_keys.is_empty() {
        let keys = config.encryption_keys.iter().map(|k| (k.id, k.key));
        return Ok((Arc::new(SecretCipher::new(keys)?), KeySource::Configured));
    }
    if config.app_env == AppEnv::Production {
        bail!(
            "APP_ENV=production needs ROSETTA_ENCRYPTION_KEYS: no key file is made in production"
        );
    }
    let path = config.data_dir.join(KEY_FILE);
    let source = if create_key_file(&config.data_dir, &path)? {
        KeySource::CreatedKeyFile(path.clone())
    } else {
        KeySource::KeyFile(path.clone())
    };
    let cipher = read_key_file(&path)?;
    Ok((Arc::new(cipher), source))
}

/// Creates the key file with a new key `1`, unless it exists; returns whether it created it.
fn create_key_file(dir: &Path, path: &Path) -> anyhow::Result<bool> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    // create_new: never overwrite a key, even one another process has just written.
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create the key file {}", path.display()))
        }
    };
    let key = SecretCipher::generate_key()?;
    let contents = format!("1:{}\n", STANDARD.encode(key));
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the key file {}", path.display()))?;
    Ok(true)
}

/// Reads a key file: `id:base64key` entries, one a line or comma-separated, as in
/// `ROSETTA_ENCRYPTION_KEYS`.
fn read_key_file(path: &Path) -> anyhow::Result<SecretCipher> {
    let shown = path.display();
    let mode = fs::metadata(path)
        .with_context(|| format!("cannot read the key file {shown}"))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "the key file {shown} may be read by others (mode {:o}): make it readable by its owner only (chmod 600 {shown})",
            mode & 0o777
        );
    }
    let contents =
        fs::read_to_string(path).with_context(|| format!("cannot read the key file {shown}"))?;
    let mut keys = Vec::new();
    let entries = contents
        .split([',', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.starts_with('#'));
    for (index, entry) in entries.enumerate() {
        keys.push(parse_entry(entry).ok_or_else(|| {
            anyhow!(
                "the key file {shown}: entry {} must be id:base64key, with an id of 1 or more and a base64 key of 32 bytes",
                index + 1
            )
        })?);
    }
    SecretCipher::new(keys).with_context(|| format!("the key file {shown}"))
}

fn parse_entry(entry: &str) -> Option<(u32, [u8; 32])> {
    let (id, key) = entry.split_once(':')?;
    let id = id.trim().parse::<u32>().ok().filter(|id| *id >= 1)?;
    let key = STANDARD.decode(key.trim()).ok()?.try_into().ok()?;
    Some((id, key))
}
