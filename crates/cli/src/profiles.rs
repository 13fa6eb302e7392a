//! Named profiles: a server's URL, and its API key when one is given to `profile set`, kept in
//! the user's configuration directory (`$XDG_CONFIG_HOME/rosetta/profiles.yaml`, else
//! `~/.config/rosetta/profiles.yaml`; `ROSETTA_CONFIG_DIR` instead of both), readable by its
//! owner only. A key from the environment or a flag is never written: `profile set` takes it
//! from a prompt or standard input only.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;
use serde::{Deserialize, Serialize};

use crate::edit::SecretInput;
use crate::exit;
use crate::output::{columns, emit};
use crate::remote::{Failure, Format};

/// One profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The server.
    pub url: String,
    /// Its API key, when it has `API_KEYS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilesFile {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// What to do with profiles.
#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// Keep a server under a name (and its key, from --password-stdin or --password-prompt).
    Set {
        /// The profile's name.
        name: String,
        /// The server.
        #[arg(long)]
        url: String,
        /// The API key.
        #[command(flatten)]
        key: SecretInput,
    },
    /// List the profiles (never their keys).
    List,
    /// Forget a profile.
    Remove {
        /// The profile's name.
        name: String,
    },
}

/// Where profiles are kept.
pub fn path() -> Result<PathBuf, Failure> {
    let dir = std::env::var_os("ROSETTA_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CONFIG_HOME").map(|d| PathBuf::from(d).join("rosetta")))
        .or_else(|| {
            std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".config").join("rosetta"))
        })
        .ok_or_else(|| {
            Failure::error("no configuration directory: set HOME or ROSETTA_CONFIG_DIR")
        })?;
    Ok(dir.join("profiles.yaml"))
}

fn load() -> Result<ProfilesFile, Failure> {
    let path = path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => yaml_serde::from_str(&text)
            .map_err(|e| Failure::error(format!("{}: not a profiles file: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProfilesFile::default()),
        Err(e) => Err(Failure::error(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

fn save(file: &ProfilesFile) -> Result<(), Failure> {
    let path = path()?;
    let cannot =
        |e: std::io::Error| Failure::error(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let text = yaml_serde::to_string(file)
        .map_err(|e| Failure::error(format!("cannot write the profiles: {e}")))?;
    // Written aside and moved into place, readable by its owner only: it may hold keys.
    let aside = path.with_extension("yaml.new");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(&aside).map_err(cannot)?;
        std::io::Write::write_all(&mut out, text.as_bytes()).map_err(cannot)?;
    }
    std::fs::rename(&aside, &path).map_err(cannot)
}

/// The profile named `name`.
pub fn get(name: &str) -> Result<Profile, Failure> {
    load()?.profiles.remove(name).ok_or_else(|| {
        Failure::usage(format!(
            "no profile named {name:?} (rosetta profile list; kept in {})",
            path().map(|p| p.display().to_string()).unwrap_or_default()
        ))
    })
}

/// Runs a profile command.
pub fn run(action: ProfileAction, format: Format) -> Result<u8, Failure> {
    match action {
        ProfileAction::Set { name, url, key } => {
            rosetta_client::Client::new(&url).map_err(Failure::from)?;
            let api_key = key.read("API key")?;
            let mut file = load()?;
            file.profiles.insert(name.clone(), Profile { url, api_key });
            save(&file)?;
            emit(format, &serde_json::json!({"saved": name}), |_| {
                format!(
                    "saved profile {name} in {}",
                    path().map(|p| p.display().to_string()).unwrap_or_default()
                )
            })?;
        }
        ProfileAction::List => {
            let file = load()?;
            let listed: Vec<serde_json::Value> = file
                .profiles
                .iter()
                .map(|(name, p)| serde_json::json!({"name": name, "url": p.url, "api_key": p.api_key.is_some()}))
                .collect();
            emit(format, &listed, |_| {
                let rows = file
                    .profiles
                    .iter()
                    .map(|(name, p)| {
                        vec![
                            name.clone(),
                            p.url.clone(),
                            if p.api_key.is_some() {
                                "stored"
                            } else {
                                "none"
                            }
                            .to_owned(),
                        ]
                    })
                    .collect();
                columns(&["PROFILE", "URL", "API KEY"], &[], rows)
            })?;
        }
        ProfileAction::Remove { name } => {
            let mut file = load()?;
            if file.profiles.remove(&name).is_none() {
                return Err(Failure::usage(format!("no profile named {name:?}")));
            }
            save(&file)?;
            emit(format, &serde_json::json!({"removed": name}), |_| {
                format!("removed profile {name}")
            })?;
        }
    }
    Ok(exit::OK)
}
