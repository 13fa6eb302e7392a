//! What a call can fail with: the API's own error (its code, message and failing fields), a
//! server that cannot be reached, or an answer that is not Rosetta's.

use rosetta_api_types::error::{ErrorBody, FieldError};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused the request and said why, in its JSON error body.
    #[error("{}", body.message)]
    Api {
        /// The HTTP status (404, 409, 422, 401, …).
        status: u16,
        /// The API's error: `error` (its code, such as `ValidationError`), `message` and
        /// `details` (boxed: it is large, and errors should be small to pass around).
        body: Box<ErrorBody>,
    },
    /// The server could not be reached, or did not answer in time.
    #[error("cannot reach Rosetta at {url}: {reason}")]
    Unreachable {
        /// The server's address.
        url: String,
        /// What went wrong (connection refused, timed out, …).
        reason: String,
    },
    /// The server answered something that is not a Rosetta answer (a proxy's page, say).
    #[error("unexpected answer from {url} (HTTP {status}): {detail}")]
    Unexpected {
        /// The server's address.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What could not be read.
        detail: String,
    },
    /// The server address given is not an http(s) URL.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// What was given.
        url: String,
        /// Why it is not usable.
        reason: String,
    },
}

impl Error {
    /// The API's error code (`EntityNotFoundError`, `ValidationError`, …), when the API
    /// answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { body, .. } => Some(&body.error),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Unexpected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Each failing value of a `ValidationError` (`loc`, `msg`, `type`); empty otherwise.
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            Self::Api { body, .. } if body.error == "ValidationError" => {
                serde_json::from_value(body.details.clone()).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn api(code: &str, details: serde_json::Value) -> Error {
        Error::Api {
            status: 422,
            body: Box::new(ErrorBody {
                error: code.to_owned(),
                message: "Request validation failed".to_owned(),
                details,
            }),
        }
    }

    #[test]
    fn a_validation_error_lists_its_failing_fields() {
        let error = api(
            "ValidationError",
            json!([{"loc": ["body", "pg_port"], "msg": "must be at most 65535", "type": "less_than_equal"}]),
        );
        assert_eq!(error.code(), Some("ValidationError"));
        assert_eq!(error.status(), Some(422));
        assert_eq!(
            error.fields(),
            vec![FieldError::new(
                &["body", "pg_port"],
                "less_than_equal",
                "must be at most 65535"
            )]
        );
        assert_eq!(error.to_string(), "Request validation failed");
    }

    #[test]
    fn other_errors_have_no_fields() {
        let missing = api(
            "EntityNotFoundError",
            json!({"entity_type": "Source", "entity_id": "4"}),
        );
        assert!(missing.fields().is_empty());
        let down = Error::Unreachable {
            url: "http://127.0.0.1:1/".to_owned(),
            reason: "Connection refused".to_owned(),
        };
        assert_eq!(down.code(), None);
        assert_eq!(down.status(), None);
    }
}
