//! The replication session's byte stream: TCP (or a Unix socket), upgraded to TLS after an
//! `SSLRequest` as the source's `ssl_mode` says.

use std::io;
use std::time::Duration;

use bytes::BytesMut;
use postgres_protocol::message::frontend;
use rosetta_domain::SslMode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
#[cfg(unix)]
use tokio::net::UnixStream;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::WireError;

/// A byte stream a session runs on: plain or TLS, TCP or Unix.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Where a session connects and how.
#[derive(Clone)]
pub(crate) struct Target {
    /// Host name, address, or socket directory (starting with `/`, as libpq reads it).
    pub(crate) host: String,
    /// Port.
    pub(crate) port: u16,
    /// How long opening the socket may take.
    pub(crate) connect_timeout: Duration,
    /// The source's TLS mode.
    pub(crate) ssl_mode: SslMode,
    /// The connector for `ssl_mode` (`None` for `disable`).
    pub(crate) tls: Option<MakeRustlsConnect>,
}

impl Target {
    /// Opens the stream: connects within the timeout, then negotiates TLS.
    ///
    /// # Errors
    ///
    /// `Io` when the server cannot be reached, `Tls` when TLS is required and refused or fails.
    pub(crate) async fn open(&self) -> Result<Box<dyn Io>, WireError> {
        if self.host.starts_with('/') {
            return self.open_unix().await;
        }
        let connecting = TcpStream::connect((self.host.as_str(), self.port));
        let tcp = tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no connection within {:?}", self.connect_timeout),
                )
            })??;
        // Status updates are small and must leave at once.
        tcp.set_nodelay(true)?;
        match (&self.tls, self.ssl_mode) {
            (None, _) | (_, SslMode::Disable) => Ok(Box::new(tcp)),
            (Some(tls), mode) => negotiate(tcp, tls.clone(), &self.host, mode).await,
        }
    }

    /// A Unix socket carries no TLS: the server refuses it there, and libpq never asks.
    #[cfg(unix)]
    async fn open_unix(&self) -> Result<Box<dyn Io>, WireError> {
        let path = format!("{}/.s.PGSQL.{}", self.host, self.port);
        let socket = tokio::time::timeout(self.connect_timeout, UnixStream::connect(path))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no connection within {:?}", self.connect_timeout),
                )
            })??;
        Ok(Box::new(socket))
    }

    #[cfg(not(unix))]
    async fn open_unix(&self) -> Result<Box<dyn Io>, WireError> {
        Err(WireError::Io(io::Error::new(
            io::ErrorKind::Unsupported,
            "Unix sockets are not available on this platform",
        )))
    }
}

/// Sends `SSLRequest` and upgrades to TLS when the server answers `S`; on `N`, goes on in
/// plain text only for `prefer`.
async fn negotiate(
    mut tcp: TcpStream,
    mut tls: MakeRustlsConnect,
    host: &str,
    mode: SslMode,
) -> Result<Box<dyn Io>, WireError> {
    let mut request = BytesMut::new();
    frontend::ssl_request(&mut request);
    tcp.write_all(&request).await?;
    // Exactly one byte: anything the server sent after it before the handshake would be
    // unauthenticated (CVE-2021-23222), so nothing more is read here.
    match tcp.read_u8().await? {
        b'S' => {
            let connect =
                <MakeRustlsConnect as MakeTlsConnect<TcpStream>>::make_tls_connect(&mut tls, host)
                    .map_err(|e| WireError::Tls(format!("cannot set up TLS for {host}: {e}")))?;
            let stream = connect.connect(tcp).await.map_err(|e| {
                let e: Box<dyn std::error::Error + Send + Sync> = e.into();
                WireError::Tls(format!("TLS handshake failed: {e}"))
            })?;
            Ok(Box::new(stream))
        }
        b'N' if mode == SslMode::Prefer => Ok(Box::new(tcp)),
        b'N' => Err(WireError::Tls(format!(
            "the server does not accept TLS connections, and ssl_mode is {mode}"
        ))),
        other => Err(WireError::Protocol(format!(
            "answer '{}' to SSLRequest",
            char::from(other)
        ))),
    }
}
