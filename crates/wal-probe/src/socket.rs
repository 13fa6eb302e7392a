//! The probe's own socket. When the driver closes it, it waits for the server to close its end
//! too, so that a probe ends only once its server process has gone: the monitor's concurrency
//! cap then bounds the connections the source really has open, not only those Rosetta still
//! holds.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// A connection to a server: TCP, or a Unix socket when the host is a directory (`/run/…`), as
/// libpq reads a host starting with a slash.
#[derive(Debug)]
pub(crate) enum ServerSocket {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix-domain socket `<dir>/.s.PGSQL.<port>`.
    Unix(UnixStream),
}

impl ServerSocket {
    /// Connects to `host:port` (every address the name resolves to, in turn) within `timeout`.
    ///
    /// # Errors
    ///
    /// The connection's error, or `TimedOut` after `timeout`.
    pub(crate) async fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<Self> {
        let connecting = async {
            if host.starts_with('/') {
                let path = format!("{host}/.s.PGSQL.{port}");
                return UnixStream::connect(path).await.map(Self::Unix);
            }
            let stream = TcpStream::connect((host, port)).await?;
            // The protocol's small messages go out at once, as libpq sends them.
            stream.set_nodelay(true)?;
            Ok(Self::Tcp(stream))
        };
        tokio::time::timeout(timeout, connecting)
            .await
            .unwrap_or_else(|_| {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no connection within {timeout:?}"),
                ))
            })
    }
}

/// Where a [`ClosingStream`] is in its close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// Not asked to close.
    Open,
    /// Our side is shut; waiting for the server's.
    Draining,
    /// Both sides are closed.
    Closed,
}

/// A stream whose shutdown ends only when the peer has closed its side as well.
///
/// tokio-postgres shuts its stream down right after sending `Terminate`. The server then still
/// has to read it and end its backend, which shows in `pg_stat_activity` (and counts against
/// `max_connections`) until it closes the socket, after it has left both; reading to the end of
/// the stream waits for exactly that.
#[derive(Debug)]
pub(crate) struct ClosingStream<S> {
    inner: S,
    close: Close,
}

impl<S> ClosingStream<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            close: Close::Open,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for ClosingStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for ClosingStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match self.close {
                Close::Open => {
                    ready!(Pin::new(&mut self.inner).poll_shutdown(cx))?;
                    self.close = Close::Draining;
                }
                Close::Draining => {
                    // Whatever the server still sends is of no interest; its end is.
                    let mut scratch = [0_u8; 256];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match ready!(Pin::new(&mut self.inner).poll_read(cx, &mut buf)) {
                        Ok(()) if buf.filled().is_empty() => self.close = Close::Closed,
                        Ok(()) => {}
                        // A reset closes the connection as surely as an orderly end.
                        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                            self.close = Close::Closed;
                        }
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                }
                Close::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

macro_rules! delegate {
    ($self:ident, $stream:ident => $call:expr) => {
        match $self.get_mut() {
            ServerSocket::Tcp($stream) => $call,
            ServerSocket::Unix($stream) => $call,
        }
    };
}

impl AsyncRead for ServerSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for ServerSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[tokio::test]
    async fn a_shutdown_ends_only_when_the_peer_has_closed() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shut = Arc::new(AtomicBool::new(false));
        let peer = tokio::spawn({
            let shut = Arc::clone(&shut);
            async move {
                let (mut conn, _) = listener.accept().await.unwrap();
                let mut received = Vec::new();
                conn.read_to_end(&mut received).await.unwrap();
                // Our side has shut its half; its shutdown must still be waiting for ours.
                tokio::task::yield_now().await;
                let returned_early = shut.load(Ordering::SeqCst);
                conn.write_all(b"bye").await.unwrap();
                drop(conn);
                (received, returned_early)
            }
        });
        let socket = ServerSocket::connect("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap();
        let mut stream = ClosingStream::new(socket);
        stream.write_all(b"X").await.unwrap();
        stream.shutdown().await.unwrap();
        shut.store(true, Ordering::SeqCst);
        let (received, returned_early) = peer.await.unwrap();
        assert_eq!(received, b"X");
        assert!(!returned_early, "shutdown returned before the peer closed");
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let error = ServerSocket::connect("127.0.0.1", port, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    }
}
