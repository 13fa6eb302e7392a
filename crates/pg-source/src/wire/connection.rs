//! A logged-in replication session: startup, simple queries (replication commands and
//! `SELECT`s, rows as text), the switch to CopyBoth, and the buffered reads and writes every
//! step uses. Reads and writes keep their partial state in the connection, never in a future,
//! so a caller may abandon any of them and go on.

use std::io;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use postgres_protocol::message::frontend;
use rosetta_domain::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::transport::{Io, Target};
use super::{auth, take_frame, Frame, ServerError, WireError};

/// How much a read asks the socket for: large enough that a busy stream needs few system
/// calls, small enough that ten streams stay well under the memory target.
const READ_CHUNK: usize = 64 * 1024;

/// Who logs in, and the session's startup parameters.
pub(crate) struct Login<'a> {
    /// The role.
    pub(crate) user: &'a str,
    /// Its password, when the server may ask for one.
    pub(crate) password: Option<&'a Secret>,
    /// The database whose changes are decoded.
    pub(crate) database: &'a str,
    /// How the session shows in `pg_stat_activity` (`rosetta:<slot>`).
    pub(crate) application_name: &'a str,
    /// `-c name=value …` settings for the session (the pinned output formats).
    pub(crate) options: &'a str,
}

/// The rows of a query's result, each value as text (`None` for NULL).
pub(crate) type QueryRows = Vec<Vec<Option<String>>>;

/// A replication session after login.
pub(crate) struct WireConnection {
    io: Box<dyn Io>,
    /// What was read and not yet taken as messages.
    input: BytesMut,
    /// What was written and not yet sent.
    output: BytesMut,
    /// The largest message accepted, against a corrupt length word asking for gigabytes.
    max_message: usize,
    /// The server's major version, from the `server_version` it reports at login.
    server_major: Option<i32>,
}

impl WireConnection {
    /// Opens `target` and logs in as `login` says. The caller bounds the time it may take.
    ///
    /// # Errors
    ///
    /// `Io`, `Tls`, `Auth`, `Server` (a refused login), `Protocol`.
    pub(crate) async fn connect(
        target: &Target,
        login: &Login<'_>,
        max_message: usize,
    ) -> Result<Self, WireError> {
        let io = target.open().await?;
        let mut conn = Self {
            io,
            input: BytesMut::with_capacity(READ_CHUNK),
            output: BytesMut::new(),
            max_message,
            server_major: None,
        };
        let parameters = [
            ("user", login.user),
            ("database", login.database),
            ("replication", "database"),
            ("application_name", login.application_name),
            ("client_encoding", "UTF8"),
            ("options", login.options),
        ];
        frontend::startup_message(parameters, &mut conn.output)
            .map_err(|e| WireError::Protocol(format!("cannot encode the startup message: {e}")))?;
        conn.flush().await?;
        auth::authenticate(&mut conn, login.user, login.password).await?;
        conn.wait_ready().await?;
        Ok(conn)
    }

    /// The server's major version (`15`), when it reported `server_version`.
    pub(crate) fn server_major(&self) -> Option<i32> {
        self.server_major
    }

    /// The next complete message already read, if there is one; no I/O.
    ///
    /// # Errors
    ///
    /// `Protocol` on an impossible length.
    pub(crate) fn try_frame(&mut self) -> Result<Option<Frame>, WireError> {
        take_frame(&mut self.input, self.max_message)
    }

    /// Reads what the socket has into the input buffer. Cancel-safe: a read that does not
    /// complete has taken nothing.
    ///
    /// # Errors
    ///
    /// `Io`, `UnexpectedEof` when the server closed the connection.
    pub(crate) async fn fill(&mut self) -> Result<(), WireError> {
        if self.input.capacity() - self.input.len() < READ_CHUNK / 4 {
            self.input.reserve(READ_CHUNK);
        }
        if self.io.read_buf(&mut self.input).await? == 0 {
            return Err(WireError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )));
        }
        Ok(())
    }

    /// The next message, reading as needed. Cancel-safe, as [`WireConnection::fill`].
    ///
    /// # Errors
    ///
    /// As [`WireConnection::fill`] and [`WireConnection::try_frame`].
    pub(crate) async fn read_frame(&mut self) -> Result<Frame, WireError> {
        loop {
            if let Some(frame) = self.try_frame()? {
                return Ok(frame);
            }
            self.fill().await?;
        }
    }

    /// Where messages to send are written; [`WireConnection::flush`] sends them.
    pub(crate) fn output(&mut self) -> &mut BytesMut {
        &mut self.output
    }

    /// Whether written messages wait to be sent.
    pub(crate) fn has_output(&self) -> bool {
        self.output.has_remaining()
    }

    /// Sends what was written. Cancel-safe: what the socket took is gone from the buffer, the
    /// rest waits for the next flush.
    ///
    /// # Errors
    ///
    /// `Io`.
    pub(crate) async fn flush(&mut self) -> Result<(), WireError> {
        self.io.write_all_buf(&mut self.output).await?;
        self.io.flush().await?;
        Ok(())
    }

    /// Runs `sql` as a simple query and returns its rows as text.
    ///
    /// # Errors
    ///
    /// `Server` with the server's error (the session stays usable), `Io`, `Protocol`.
    pub(crate) async fn simple_query(&mut self, sql: &str) -> Result<QueryRows, WireError> {
        self.send_query(sql).await?;
        let mut rows = Vec::new();
        let mut error = None;
        loop {
            let frame = self.read_frame().await?;
            match frame.tag {
                b'D' => rows.push(data_row(frame.body)?),
                // RowDescription, CommandComplete, EmptyQueryResponse, notices, parameters.
                b'T' | b'C' | b'I' | b'N' | b'S' => {}
                b'E' => error = Some(ServerError::parse(&frame.body)),
                b'Z' => return error.map_or(Ok(rows), |e| Err(WireError::Server(e))),
                other => return Err(unexpected(other, "a query")),
            }
        }
    }

    /// Runs `sql`, a command that answers with CopyBothResponse (`START_REPLICATION`), and
    /// returns once the stream has begun.
    ///
    /// # Errors
    ///
    /// `Server` when the server refuses (the slot is in use, missing…), `Io`, `Protocol`.
    pub(crate) async fn start_copy_both(&mut self, sql: &str) -> Result<(), WireError> {
        self.send_query(sql).await?;
        let mut error = None;
        loop {
            let frame = self.read_frame().await?;
            match frame.tag {
                b'W' if error.is_none() => return Ok(()),
                b'E' if error.is_none() => error = Some(ServerError::parse(&frame.body)),
                b'N' | b'S' => {}
                b'Z' => {
                    return Err(error
                        .map_or_else(|| unexpected(b'Z', "START_REPLICATION"), WireError::Server))
                }
                other => return Err(unexpected(other, "START_REPLICATION")),
            }
        }
    }

    /// Says goodbye (`Terminate`) and closes the socket, so the server logs no "unexpected
    /// EOF"; failures only mean it was closed already, and a server that does not read is
    /// given a second, not more.
    pub(crate) async fn terminate(mut self) {
        frontend::terminate(&mut self.output);
        let goodbye = async {
            if self.flush().await.is_ok() {
                let _ = self.io.shutdown().await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), goodbye).await;
    }

    async fn send_query(&mut self, sql: &str) -> Result<(), WireError> {
        frontend::query(sql, &mut self.output)
            .map_err(|e| WireError::Protocol(format!("cannot encode a query: {e}")))?;
        self.flush().await
    }

    /// Reads the messages after authentication up to `ReadyForQuery`, keeping the version.
    async fn wait_ready(&mut self) -> Result<(), WireError> {
        loop {
            let frame = self.read_frame().await?;
            match frame.tag {
                b'Z' => return Ok(()),
                b'S' => {
                    let mut body = frame.body;
                    let name = super::take_cstr(&mut body)?;
                    let value = super::take_cstr(&mut body)?;
                    if &name[..] == b"server_version" {
                        self.server_major = major_version(&String::from_utf8_lossy(&value));
                    }
                }
                // BackendKeyData (cancelling is not used), notices, NegotiateProtocolVersion.
                b'K' | b'N' | b'v' => {}
                b'E' => return Err(WireError::Server(ServerError::parse(&frame.body))),
                other => return Err(unexpected(other, "login")),
            }
        }
    }
}

/// A DataRow's values, as text.
fn data_row(mut body: bytes::Bytes) -> Result<Vec<Option<String>>, WireError> {
    if body.len() < 2 {
        return Err(WireError::Protocol("a DataRow ends early".into()));
    }
    let count = body.get_i16();
    let mut values = Vec::with_capacity(usize::try_from(count).unwrap_or_default());
    for _ in 0..count {
        let len = super::take_i32(&mut body)?;
        if len < 0 {
            values.push(None);
            continue;
        }
        let len = usize::try_from(len).unwrap_or_default();
        if body.len() < len {
            return Err(WireError::Protocol("a DataRow value ends early".into()));
        }
        let value = body.split_to(len);
        values.push(Some(String::from_utf8_lossy(&value).into_owned()));
    }
    Ok(values)
}

/// The leading number of `server_version` (`15.20 (Debian 15.20-0+deb12u1)`, `17beta1`).
fn major_version(version: &str) -> Option<i32> {
    let version = version.trim_start();
    let digits = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    version[..digits].parse().ok()
}

fn unexpected(tag: u8, during: &str) -> WireError {
    WireError::Protocol(format!("message '{}' during {during}", char::from(tag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_rows_read_as_text_with_nulls() {
        let mut body = BytesMut::new();
        body.extend_from_slice(&3_i16.to_be_bytes());
        body.extend_from_slice(&2_i32.to_be_bytes());
        body.extend_from_slice(b"ab");
        body.extend_from_slice(&(-1_i32).to_be_bytes());
        body.extend_from_slice(&0_i32.to_be_bytes());
        let row = data_row(body.freeze()).unwrap();
        assert_eq!(row, vec![Some("ab".to_owned()), None, Some(String::new())]);
        assert!(data_row(bytes::Bytes::from_static(b"\0\x01\0\0\0\x09ab")).is_err());
    }

    #[test]
    fn the_major_version_is_the_leading_number() {
        assert_eq!(major_version("15.20 (Debian 15.20-0+deb12u1)"), Some(15));
        assert_eq!(major_version("17beta1"), Some(17));
        assert_eq!(major_version("devel"), None);
    }
}
