//! The stored format, `rosetta:v1:<key id>:<base64(12-byte nonce || ciphertext and tag)>`: the
//! key id is in clear so that a read picks the right key and a rotation finds what is left.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// What every encrypted value starts with; anything else is a plaintext value written before
/// encryption at rest.
pub(crate) const PREFIX: &str = "rosetta:v1:";

/// AES-GCM's nonce length.
pub(crate) const NONCE_LEN: usize = 12;

/// AES-GCM's tag length.
pub(crate) const TAG_LEN: usize = 16;

/// An encrypted value taken apart.
pub(crate) struct Sealed {
    pub(crate) key_id: u32,
    /// The nonce followed by the ciphertext and its tag.
    pub(crate) blob: Vec<u8>,
}

/// The prefix of values encrypted with `key_id`, `rosetta:v1:<key id>:`.
pub(crate) fn key_prefix(key_id: u32) -> String {
    format!("{PREFIX}{key_id}:")
}

/// The stored text of a nonce and ciphertext.
pub(crate) fn encode(key_id: u32, blob: &[u8]) -> String {
    let mut out = key_prefix(key_id);
    STANDARD.encode_string(blob, &mut out);
    out
}

/// Takes a stored value apart: `Ok(None)` for a plaintext value, `Err(reason)` for one that
/// starts like an encrypted value but is not one.
pub(crate) fn decode(stored: &str) -> Result<Option<Sealed>, &'static str> {
    let Some(rest) = stored.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let (id, data) = rest.split_once(':').ok_or("no key id")?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the key id is not a number");
    }
    let key_id = id
        .parse::<u32>()
        .map_err(|_| "the key id is out of range")?;
    let blob = STANDARD
        .decode(data)
        .map_err(|_| "the payload is not base64")?;
    if blob.len() < NONCE_LEN + TAG_LEN {
        return Err("the payload is too short");
    }
    Ok(Some(Sealed { key_id, blob }))
}
