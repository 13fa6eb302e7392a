//! Opening connections to the metadata database with tokio-postgres, so that a failure keeps
//! its whole cause ("connection refused", "role … does not exist") and every connection is
//! named and bounded in time.

use std::error::Error;
use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;

/// How long opening a connection may take unless the URL says otherwise (`connect_timeout`).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An error and its causes on one line, without repeating a cause that its parent already says.
pub(crate) fn describe(error: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        cause = e.source();
    }
    parts.join(": ")
}

/// Opens a connection to the database `url` names.
///
/// # Errors
///
/// The driver's reason with its causes, never the URL itself.
pub(crate) async fn establish(url: &str) -> Result<AsyncPgConnection, String> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| describe(&e))?;
    if config.get_application_name().is_none() {
        config.application_name("rosetta");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| describe(&e))?;
    AsyncPgConnection::try_from_client_and_connection(client, connection)
        .await
        .map_err(|e| describe(&e))
}

/// [`establish`] in the shape the pool's manager wants.
pub(crate) async fn establish_for_pool(url: String) -> diesel::ConnectionResult<AsyncPgConnection> {
    establish(&url)
        .await
        .map_err(ConnectionError::BadConnection)
}
