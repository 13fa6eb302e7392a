//! One open probe connection: its client, the task driving its I/O, and the server's version.

use std::future::Future;
use std::time::Duration;

use rosetta_domain::ports::WalProbeError;
use tokio::task::JoinHandle;
use tokio_postgres::{
    tls::{MakeTlsConnect, TlsConnect},
    Client, Config,
};

use crate::error;
use crate::socket::{ClosingStream, ServerSocket};

/// The stream a probe's connection runs on, below TLS when there is TLS.
pub(crate) type ProbeStream = ClosingStream<ServerSocket>;

/// Where to connect: the server's host name (or socket directory) and port, and how long the
/// connection may take to open.
pub(crate) struct Target<'a> {
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    pub(crate) connect_timeout: Duration,
}

/// A logged-in connection to a source.
pub(crate) struct Session {
    /// Sends the probe's statements.
    pub(crate) client: Client,
    /// The server's major version (`15`), from the parameters it reports at login, so that the
    /// SQL can be chosen without a round trip of its own.
    pub(crate) major_version: Option<i32>,
    task: ConnectionTask,
}

impl Session {
    /// Connects to `target` and logs in with `config`, over `tls`, and spawns the connection's
    /// I/O. `host` is the `host:port` label errors use.
    pub(crate) async fn open<T>(
        config: &Config,
        target: Target<'_>,
        mut tls: T,
        host: &str,
    ) -> Result<Self, WalProbeError>
    where
        T: MakeTlsConnect<ProbeStream> + Send,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<ProbeStream>>::Future: Send,
    {
        // The socket is opened here rather than by the driver so that closing it waits for the
        // server to end its backend (see `ClosingStream`).
        let socket = ServerSocket::connect(target.host, target.port, target.connect_timeout)
            .await
            .map_err(|e| WalProbeError::Connect {
                host: host.to_owned(),
                reason: format!("error connecting to server: {e}"),
            })?;
        let tls = tls
            .make_tls_connect(target.host)
            .map_err(|e| WalProbeError::Connect {
                host: host.to_owned(),
                reason: format!("cannot set up TLS: {}", e.into()),
            })?;
        let (client, connection) = config
            .connect_raw(ClosingStream::new(socket), tls)
            .await
            .map_err(|e| error::connect(host, &e))?;
        // The parameters live in the connection, which the spawned task then owns.
        let major_version = major_version(
            connection.parameter("server_version_num"),
            connection.parameter("server_version"),
        );
        let task = ConnectionTask::spawn(connection, host);
        Ok(Self {
            client,
            major_version,
            task,
        })
    }

    /// Closes the connection: dropping the client tells it to say goodbye to the server.
    pub(crate) async fn close(self) {
        let Self { client, task, .. } = self;
        drop(client);
        task.finish().await;
    }
}

/// The major version from the login parameters: `server_version_num` where the server reports
/// it, else the leading number of `server_version` (`15.4 (Debian 15.4-1)`, `17beta1`).
pub(crate) fn major_version(
    server_version_num: Option<&str>,
    server_version: Option<&str>,
) -> Option<i32> {
    if let Some(num) = server_version_num.and_then(|num| num.trim().parse::<i32>().ok()) {
        return Some(num / 10_000);
    }
    let version = server_version?.trim_start();
    let digits = version
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(version.len());
    version[..digits].parse().ok()
}

/// The spawned task that drives a connection's I/O. It is aborted when dropped — on every path,
/// a timeout or a cancelled caller included — so no connection outlives its probe.
struct ConnectionTask(JoinHandle<()>);

impl ConnectionTask {
    /// Spawns `connection` (over TCP or TLS), logging how it failed, if it does.
    fn spawn<C>(connection: C, host: &str) -> Self
    where
        C: Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
    {
        let host = host.to_owned();
        Self(tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(%host, error = %error::reason(&e), "probe connection failed");
            }
        }))
    }

    /// Waits for the connection to close after its client was dropped; the probe's deadline
    /// bounds the wait.
    async fn finish(mut self) {
        // The task logs its own failure, and it is neither aborted nor panicking here.
        let _ = (&mut self.0).await;
    }
}

impl Drop for ConnectionTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_major_version_comes_from_the_login_parameters() {
        assert_eq!(major_version(Some("180001"), Some("18.1")), Some(18));
        assert_eq!(
            major_version(None, Some("15.20 (Debian 15.20-0+deb12u1)")),
            Some(15)
        );
        assert_eq!(major_version(None, Some("12.22")), Some(12));
        assert_eq!(major_version(None, Some("17beta1")), Some(17));
        assert_eq!(major_version(None, Some("9.6.24")), Some(9));
        assert_eq!(major_version(Some("junk"), Some("13.2")), Some(13));
        assert_eq!(major_version(None, Some("devel")), None);
        assert_eq!(major_version(None, None), None);
    }
}
