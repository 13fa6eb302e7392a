//! Reading stored values back through the domain's validation.

use rosetta_domain::InvalidValue;

/// A stored value that no longer passes validation is a corrupt row, reported with its column
/// (never its value, which may be a secret).
pub(crate) fn stored<T>(value: Result<T, InvalidValue>, column: &'static str) -> anyhow::Result<T> {
    value.map_err(|e| anyhow::anyhow!("stored {column} is invalid: {e}"))
}
