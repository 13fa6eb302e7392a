//! What can go wrong building the cipher or opening a stored secret. Messages say which value
//! and why, never the value or a key.

use super::SecretField;

/// A failure of [`SecretCipher`](super::SecretCipher).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The cipher was given no key.
    #[error("no encryption key is configured")]
    NoKeys,
    /// Two keys have the same id.
    #[error("encryption key id {key_id} is given twice")]
    DuplicateKeyId {
        /// The repeated id.
        key_id: u32,
    },
    /// The value was encrypted with a key the cipher does not have (removed too early, or the
    /// database belongs to another deployment).
    #[error("cannot decrypt {at}: encrypted with key {key_id}, which is not configured")]
    UnknownKey {
        /// The value.
        at: SecretField,
        /// The key id stored with it.
        key_id: u32,
    },
    /// Authentication failed: the ciphertext was altered, or it belongs to another row or
    /// field (the associated data differs), or the key with that id is not the one that
    /// encrypted it.
    #[error(
        "cannot decrypt {at}: tampered with, or copied from another row \
         (or key {key_id} is not the key that encrypted it)"
    )]
    Tampered {
        /// The value.
        at: SecretField,
        /// The key id stored with it.
        key_id: u32,
    },
    /// The value starts like an encrypted one but does not follow the format.
    #[error("cannot decrypt {at}: not a valid rosetta:v1 value ({reason})")]
    Malformed {
        /// The value.
        at: SecretField,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Encryption failed (a value far too long for the cipher).
    #[error("cannot encrypt {at}")]
    Encrypt {
        /// The value.
        at: SecretField,
    },
    /// The operating system could not provide random bytes for a nonce or a key.
    #[error("the operating system's random number generator failed: {reason}")]
    Randomness {
        /// Its error.
        reason: String,
    },
}
