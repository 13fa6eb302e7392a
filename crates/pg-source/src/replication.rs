//! Opening a replication session (`replication=database`) to a source, as the source's login,
//! TLS mode and the adapter's timeouts say.

use rosetta_domain::ports::ReplicationError;
use rosetta_domain::Source;

use crate::sql::{Tls, PINNED_OPTIONS};
use crate::wire::{Login, Target, WireConnection, WireError};
use crate::{error, PgSourceSettings};

/// A logged-in replication session to `source`, named `rosetta:<purpose>` in
/// `pg_stat_activity`.
///
/// # Errors
///
/// `Connect` when the server cannot be reached, refuses TLS or the login (a role without
/// `REPLICATION`, no `pg_hba.conf` line for replication), or after the connect timeout.
pub(crate) async fn open(
    source: &Source,
    purpose: &str,
    tls: &Tls,
    settings: &PgSourceSettings,
) -> Result<WireConnection, ReplicationError> {
    let host = source.address();
    let target = Target {
        host: source.pg_host.as_str().to_owned(),
        port: source.pg_port.get(),
        connect_timeout: settings.connect_timeout,
        ssl_mode: source.ssl_mode,
        tls: tls.connector(source)?,
    };
    let application_name = format!("rosetta:{purpose}");
    let login = Login {
        user: source.pg_username.as_str(),
        password: source.pg_password.as_ref(),
        database: source.pg_database.as_str(),
        application_name: &application_name,
        options: PINNED_OPTIONS,
    };
    let connecting = WireConnection::connect(&target, &login, settings.max_message_bytes);
    tokio::time::timeout(settings.connect_timeout, connecting)
        .await
        .unwrap_or(Err(WireError::TimedOut(settings.connect_timeout)))
        .map_err(|e| error::login(&host, e))
}
