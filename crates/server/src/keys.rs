//! The keys that encrypt secrets at rest: those of `ROSETTA_ENCRYPTION_KEYS`, or, in
//! development only, a key file `rosetta` makes for itself in the data directory; both are read
//! by [`parse_keys`].

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

/// Reads a key file: `id:base64key` entries, as in `ROSETTA_ENCRYPTION_KEYS`, also one a line.
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
    let keys = parse_keys(&contents, KeyText::File)
        .map_err(|problems| anyhow!("the key file {shown}: {}", problems.join("; ")))?;
    SecretCipher::new(keys.iter().map(|k| (k.id, k.key)))
        .with_context(|| format!("the key file {shown}"))
}

/// One encryption key: its id and its 32 bytes. `Debug` shows the id only.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// The key's id (1 or more), stored beside every value it encrypts.
    pub id: u32,
    /// The key (AES-256-GCM).
    pub key: [u8; 32],
}

impl fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySpec")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Where a list of keys is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyText {
    /// `ROSETTA_ENCRYPTION_KEYS`: comma-separated entries, each counted, blank ones too.
    Variable,
    /// The key file: entries separated by commas or line breaks; blank lines and lines
    /// starting with `#` are skipped.
    File,
}

/// Reads `id:base64key` entries, sorted by id: each id 1 or more and given once, each key 32
/// bytes of standard base64.
///
/// # Errors
///
/// One message per bad entry, naming it by position (`entry 2 …`) and never quoting it.
pub fn parse_keys(text: &str, from: KeyText) -> Result<Vec<KeySpec>, Vec<String>> {
    let entries: Vec<&str> = match from {
        KeyText::Variable => text.split(',').map(str::trim).collect(),
        KeyText::File => text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.starts_with('#'))
            .collect(),
    };
    let mut keys: Vec<KeySpec> = Vec::new();
    let mut problems = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let position = index + 1;
        match parse_entry(entry) {
            Some(spec) if keys.iter().any(|k| k.id == spec.id) => {
                problems.push(format!("entry {position} repeats key id {}", spec.id));
            }
            Some(spec) => keys.push(spec),
            None => problems.push(format!(
                "entry {position} must be id:base64key, with an id of 1 or more and a base64 key of 32 bytes (openssl rand -base64 32)"
            )),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    keys.sort_by_key(|k| k.id);
    Ok(keys)
}

fn parse_entry(entry: &str) -> Option<KeySpec> {
    let (id, key) = entry.split_once(':')?;
    let id = id.trim().parse::<u32>().ok().filter(|id| *id >= 1)?;
    let key = STANDARD.decode(key.trim()).ok()?.try_into().ok()?;
    Some(KeySpec { id, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    const TWO: &str = "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

    #[test]
    fn the_variable_and_the_file_take_the_same_entries() {
        let from_variable = parse_keys(&format!("{TWO}, {ONE}"), KeyText::Variable).unwrap();
        let from_file = parse_keys(&format!("# rotated\n{TWO}\n\n{ONE}\n"), KeyText::File).unwrap();
        assert_eq!(from_variable, from_file);
        assert_eq!(
            from_variable.iter().map(|k| k.id).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(from_variable[0].key, [1_u8; 32]);
    }

    #[test]
    fn bad_entries_are_named_by_position_and_never_quoted() {
        let problems = parse_keys(
            &format!("{ONE},,0:AQEB,{ONE},short-secret"),
            KeyText::Variable,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems[0].starts_with("entry 2 must be id:base64key"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("entry 3 must be"), "{problems:?}");
        assert_eq!(problems[2], "entry 4 repeats key id 1");
        assert!(problems[3].starts_with("entry 5 must be"), "{problems:?}");
        assert!(!problems.join(" ").contains("short-secret"));
        // In a file, blank entries and comments are not entries: the bad one is the second.
        let problems = parse_keys(&format!("# keys\n{ONE}\n\nsecret"), KeyText::File).unwrap_err();
        assert!(problems[0].starts_with("entry 2 must be"), "{problems:?}");
    }
}
