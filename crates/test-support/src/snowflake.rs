//! What the Snowflake destination's tests share: the emulator's address and RSA key pairs made
//! with `openssl`, as an operator would make them for Snowflake.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// The passphrase of [`Keys::pkcs8`]'s encrypted key.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// The Snowflake emulator's address (`$SNOWFLAKE_EMULATOR_URL`, set by `scripts/test.sh`).
///
/// # Panics
///
/// When the variable is not set, saying how to run the tests.
pub fn emulator() -> String {
    std::env::var("SNOWFLAKE_EMULATOR_URL").unwrap_or_else(|_| {
        panic!(
            "SNOWFLAKE_EMULATOR_URL is not set: run the tests with scripts/test.sh, which starts \
             the Snowflake emulator (scripts/ensure-fakesnow.sh)"
        )
    })
}

/// A directory of its own for a test's keys, removed when dropped.
#[derive(Debug)]
pub struct Keys(PathBuf);

impl Keys {
    /// An empty directory named after `label`.
    ///
    /// # Panics
    ///
    /// When it cannot be made.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rosetta-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Self(dir)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// Runs `openssl` with `args` in the directory.
    ///
    /// # Panics
    ///
    /// When it fails.
    pub fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&self.0)
            .output()
            .unwrap_or_else(|e| panic!("openssl does not run: {e}"));
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    }

    /// A 2048-bit PKCS#8 key, and the same encrypted with [`PASSPHRASE`] (AES-256-CBC).
    pub fn pkcs8(&self) -> (PathBuf, PathBuf) {
        self.openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "plain.p8",
        ]);
        let pass = format!("pass:{PASSPHRASE}");
        self.openssl(&[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "plain.p8",
            "-out",
            "enc.p8",
            "-passout",
            &pass,
        ]);
        (self.0.join("plain.p8"), self.0.join("enc.p8"))
    }

    /// A PKCS#1 key (`BEGIN RSA PRIVATE KEY`), which Snowflake's drivers do not take.
    pub fn pkcs1(&self) -> PathBuf {
        self.openssl(&["genrsa", "-traditional", "-out", "rsa.pem", "2048"]);
        self.0.join("rsa.pem")
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
