//! Rosetta's own client of PostgreSQL's replication protocol: the few messages a
//! `replication=database` session needs, on tokio, with TLS from `rosetta-postgres-tls`.
//!
//! tokio-postgres cannot open such a session (no `replication` startup parameter, no
//! CopyBoth), and the crates that can bring in aws-lc-rs; this one is small because a
//! replication session only ever logs in, runs simple queries and then streams.

mod auth;
mod connection;
mod transport;

use std::fmt;
use std::io;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};

pub(crate) use connection::{Login, WireConnection};
pub(crate) use transport::Target;

/// One backend message: its type byte and its body (without the length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The message type (`d` CopyData, `E` ErrorResponse, …).
    pub(crate) tag: u8,
    /// What follows the length word.
    pub(crate) body: Bytes,
}

/// Takes the first complete message off `buffer`, or `None` when it holds only part of one
/// (then room for the rest is reserved, so the next read can complete it in one go).
///
/// # Errors
///
/// `Protocol` when the length word is impossible or larger than `max_len`.
pub(crate) fn take_frame(
    buffer: &mut BytesMut,
    max_len: usize,
) -> Result<Option<Frame>, WireError> {
    let Some(header) = buffer.get(..5) else {
        return Ok(None);
    };
    let tag = header[0];
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len < 4 {
        return Err(WireError::Protocol(format!(
            "message '{}' has an impossible length {len}",
            char::from(tag)
        )));
    }
    if len > max_len {
        return Err(WireError::Protocol(format!(
            "message '{}' of {len} bytes is larger than the limit of {max_len}",
            char::from(tag)
        )));
    }
    let total = len + 1;
    if buffer.len() < total {
        buffer.reserve(total - buffer.len());
        return Ok(None);
    }
    let mut message = buffer.split_to(total);
    message.advance(5);
    Ok(Some(Frame {
        tag,
        body: message.freeze(),
    }))
}

/// An error or a notice the server sent (`ErrorResponse`, `NoticeResponse`), with the fields
/// Rosetta uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ServerError {
    /// `ERROR`, `FATAL`, `PANIC`, `WARNING`, … (the non-localized spelling when sent).
    pub(crate) severity: String,
    /// The SQLSTATE (`55006`).
    pub(crate) code: String,
    /// The primary message.
    pub(crate) message: String,
    /// The detail, when there is one.
    pub(crate) detail: Option<String>,
    /// The hint, when there is one.
    pub(crate) hint: Option<String>,
}

impl ServerError {
    /// Reads the fields of an `ErrorResponse` or `NoticeResponse` body.
    pub(crate) fn parse(mut body: &[u8]) -> Self {
        let mut error = Self::default();
        let mut localized_severity = None;
        while let Some((&field, rest)) = body.split_first() {
            if field == 0 {
                break;
            }
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let value = String::from_utf8_lossy(&rest[..end]).into_owned();
            body = rest.get(end + 1..).unwrap_or_default();
            match field {
                b'S' => localized_severity = Some(value),
                b'V' => error.severity = value,
                b'C' => error.code = value,
                b'M' => error.message = value,
                b'D' => error.detail = Some(value),
                b'H' => error.hint = Some(value),
                _ => {}
            }
        }
        if error.severity.is_empty() {
            error.severity = localized_severity.unwrap_or_default();
        }
        error
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

/// What can go wrong on a replication session, before it is put in the domain's terms (which
/// need the host and what was being done).
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// The socket failed or closed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The server answered with an error.
    #[error("{0} (SQLSTATE {code})", code = .0.code)]
    Server(ServerError),
    /// The server sent something this client does not expect.
    #[error("unexpected message from the server: {0}")]
    Protocol(String),
    /// TLS could not be set up as the source's `ssl_mode` asks.
    #[error("{0}")]
    Tls(String),
    /// The client cannot log in the way the server asks (no password, an unknown method).
    #[error("{0}")]
    Auth(String),
    /// The server did not answer in time.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

/// Reads a NUL-terminated string off the front of `body`.
pub(crate) fn take_cstr(body: &mut Bytes) -> Result<Bytes, WireError> {
    let end = body
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| WireError::Protocol("a string without its terminator".to_owned()))?;
    let text = body.split_to(end);
    body.advance(1);
    Ok(text)
}

/// Reads a big-endian `i32` off the front of `body`.
pub(crate) fn take_i32(body: &mut Bytes) -> Result<i32, WireError> {
    if body.len() < 4 {
        return Err(WireError::Protocol("a message ends early".to_owned()));
    }
    Ok(body.get_i32())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_taken_whole_and_only_whole() {
        let mut buffer = BytesMut::new();
        buffer.extend_from_slice(b"Z\0\0\0\x05I");
        buffer.extend_from_slice(b"d\0\0\0\x08ab");
        let first = take_frame(&mut buffer, 1 << 20).unwrap().unwrap();
        assert_eq!(first.tag, b'Z');
        assert_eq!(&first.body[..], b"I");
        assert_eq!(take_frame(&mut buffer, 1 << 20).unwrap(), None);
        buffer.extend_from_slice(b"cd");
        let second = take_frame(&mut buffer, 1 << 20).unwrap().unwrap();
        assert_eq!((second.tag, &second.body[..]), (b'd', &b"abcd"[..]));
        assert!(buffer.is_empty());
    }

    #[test]
    fn impossible_or_oversized_lengths_are_refused() {
        let mut short = BytesMut::from(&b"d\0\0\0\x02"[..]);
        assert!(take_frame(&mut short, 100).is_err());
        let mut huge = BytesMut::from(&b"d\x7f\0\0\0"[..]);
        let error = take_frame(&mut huge, 1 << 20).unwrap_err().to_string();
        assert!(error.contains("larger than the limit"), "{error}");
    }

    #[test]
    fn a_server_error_keeps_its_sqlstate_message_detail_and_hint() {
        let body = b"SERREUR\0VERROR\0C55006\0Mreplication slot \"s\" is active for PID 42\0Dsome detail\0Hsome hint\0\0";
        let error = ServerError::parse(body);
        assert_eq!(error.severity, "ERROR");
        assert_eq!(error.code, "55006");
        assert_eq!(error.message, "replication slot \"s\" is active for PID 42");
        assert_eq!(
            WireError::Server(error).to_string(),
            "replication slot \"s\" is active for PID 42 (some detail); hint: some hint (SQLSTATE 55006)"
        );
        let truncated = ServerError::parse(b"C08P01\0Mhalf");
        assert_eq!(
            (truncated.code.as_str(), truncated.message.as_str()),
            ("08P01", "half")
        );
    }
}
