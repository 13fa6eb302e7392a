//! One open probe connection: its client, the task driving its I/O, and the server's version.

use std::future::Future;

use rosetta_domain::ports::WalProbeError;
use tokio::task::JoinHandle;
use tokio_postgres::{
    tls::{MakeTlsConnect, TlsConnect},
    Client, Config, Socket,
};

use crate::error;

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
    /// Connects and logs in with `config`, over `tls`, and spawns the connection's I/O.
    pub(crate) async fn open<T>(config: &Config, tls: T, host: &str) -> Result<Self, WalProbeError>
    where
        T: MakeTlsConnect<Socket> + Send,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let (client, connection) = config
            .connect(tls)
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
