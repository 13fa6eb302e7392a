//! API keys: which bearer keys open `/api/v1` (and `/metrics` when asked), checked without
//! leaking through timing which key, or how much of one, a caller got right.

mod guard;

use std::fmt;

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::error::ApiError;

pub use guard::{require_api_key, ApiKey};

/// The keys accepted in `Authorization: Bearer <key>`. With none, the API is open.
///
/// Only SHA-256 digests of the keys are kept: every comparison is between two 32-byte values,
/// so neither a key's length nor the length of its common prefix with a guess shows in the time
/// a refusal takes. `Debug` shows how many keys there are, never a key.
#[derive(Clone, Default)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

impl ApiKeys {
    /// The keys accepted; none leaves the API open.
    pub fn new<K: AsRef<[u8]>>(keys: impl IntoIterator<Item = K>) -> Self {
        Self {
            digests: keys.into_iter().map(|key| digest(key.as_ref())).collect(),
        }
    }

    /// Whether no key is configured, so that every request is let through.
    pub fn is_open(&self) -> bool {
        self.digests.is_empty()
    }

    /// The SHA-256 digest of each configured key, in the order configured: what another
    /// adapter derives per-key secrets from (the dashboard signs its sessions with a secret
    /// derived from the digest of the key that signed in, so that removing a key ends its
    /// sessions). Never log them.
    pub fn digests(&self) -> &[[u8; 32]] {
        &self.digests
    }

    /// Whether `presented` is one of the keys.
    ///
    /// Every configured key is compared, and the results combined without branching, so the
    /// time taken does not depend on which key matched (the first, the last, or none): a key
    /// being rotated in can be added before the old one is removed without either becoming
    /// easier to guess.
    pub fn accepts(&self, presented: &[u8]) -> bool {
        let presented = digest(presented);
        let matched = self.digests.iter().fold(Choice::from(0), |matched, key| {
            matched | key.as_slice().ct_eq(presented.as_slice())
        });
        matched.into()
    }

    /// Lets the request through when the API is open or it carries an accepted bearer key.
    ///
    /// # Errors
    ///
    /// [`ApiError::Unauthenticated`], saying whether a bearer key was presented at all.
    pub fn authorize(&self, req: &HttpRequest) -> Result<(), ApiError> {
        if self.is_open() {
            return Ok(());
        }
        match bearer_token(req) {
            Some(token) if self.accepts(token) => Ok(()),
            Some(_) => Err(ApiError::Unauthenticated { presented: true }),
            None => Err(ApiError::Unauthenticated { presented: false }),
        }
    }
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeys({} key(s))", self.digests.len())
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case, as RFC 7235
/// allows); `None` without such a header.
fn bearer_token(req: &HttpRequest) -> Option<&[u8]> {
    let value = req.headers().get(AUTHORIZATION)?.as_bytes();
    let (scheme, token) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = token.trim_ascii();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    const FIRST: &str = "first-key-0123456789";
    const SECOND: &str = "second-key-0123456789";

    #[test]
    fn a_key_matching_only_the_last_configured_key_is_accepted() {
        let keys = ApiKeys::new(["k1-0123456789abcdef", "k2-0123456789abcdef", SECOND]);
        assert!(keys.accepts(SECOND.as_bytes()));
        assert!(keys.accepts(b"k1-0123456789abcdef"));
    }

    #[test]
    fn keys_of_any_length_or_a_prefix_of_a_key_are_refused() {
        let keys = ApiKeys::new([FIRST, SECOND]);
        for wrong in [
            "",
            "f",
            "first-key-012345678",
            "first-key-01234567890",
            "x".repeat(4096).as_str(),
        ] {
            assert!(!keys.accepts(wrong.as_bytes()), "{wrong:?}");
        }
    }

    #[test]
    fn no_key_leaves_the_api_open() {
        let keys = ApiKeys::default();
        assert!(keys.is_open());
        assert!(keys
            .authorize(&TestRequest::get().to_http_request())
            .is_ok());
        // Open means nothing to compare against, not that any key matches.
        assert!(!keys.accepts(FIRST.as_bytes()));
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        let keys = ApiKeys::new([FIRST]);
        for header in [format!("Bearer {FIRST}"), format!("bearer  {FIRST} ")] {
            let req = TestRequest::get()
                .insert_header((AUTHORIZATION, header.clone()))
                .to_http_request();
            assert!(keys.authorize(&req).is_ok(), "{header}");
        }
    }

    #[test]
    fn a_refusal_says_whether_a_key_was_presented() {
        let keys = ApiKeys::new([FIRST]);
        let cases = [
            (None, false),
            (Some(format!("Basic {FIRST}")), false),
            (Some("Bearer ".to_owned()), false),
            (Some(format!("Bearer {SECOND}")), true),
        ];
        for (header, presented) in cases {
            let mut req = TestRequest::get();
            if let Some(header) = &header {
                req = req.insert_header((AUTHORIZATION, header.clone()));
            }
            let refused = keys.authorize(&req.to_http_request());
            assert!(
                matches!(refused, Err(ApiError::Unauthenticated { presented: p }) if p == presented),
                "{header:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_a_key() {
        let shown = format!("{:?}", ApiKeys::new([FIRST, SECOND]));
        assert_eq!(shown, "ApiKeys(2 key(s))");
    }
}
