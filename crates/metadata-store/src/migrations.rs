//! Creating the metadata database and applying the embedded migrations, with diesel-async's
//! `AsyncConnectionWrapper` so that no libpq is needed.

use std::fmt;

use anyhow::{anyhow, Context as _};
use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use url::Url;

use crate::connect::{establish, CONNECT_TIMEOUT};

/// The migrations in the repository's `migrations/` folder, built into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Held while migrating, so that replicas starting together migrate one after the other.
const MIGRATION_LOCK: i64 = 0x0072_6f73_6574_7461; // "rosetta"

/// Where a database URL points, for messages: host, port and database, never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseTarget {
    host: String,
    port: u16,
    database: String,
}

impl DatabaseTarget {
    /// Reads the target of a `postgres://` URL.
    ///
    /// # Errors
    ///
    /// When the URL does not parse or names no database. The message never repeats the URL.
    pub fn parse(database_url: &str) -> anyhow::Result<Self> {
        let url = parse_url(database_url)?;
        let database = url.path().trim_start_matches('/').to_owned();
        anyhow::ensure!(!database.is_empty(), "the database URL names no database");
        Ok(Self {
            host: url.host_str().unwrap_or("localhost").to_owned(),
            port: url.port().unwrap_or(5432),
            database,
        })
    }

    /// `host:port` of the server.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        &self.database
    }
}

impl fmt::Display for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.host, self.port, self.database)
    }
}

fn parse_url(database_url: &str) -> anyhow::Result<Url> {
    let url = Url::parse(database_url).map_err(|e| anyhow!("invalid database URL: {e}"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "postgres" | "postgresql"),
        "invalid database URL: the scheme must be postgres:// or postgresql://"
    );
    Ok(url)
}

async fn connect(database_url: &str, target: &DatabaseTarget) -> anyhow::Result<AsyncPgConnection> {
    match tokio::time::timeout(CONNECT_TIMEOUT, establish(database_url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(reason)) => Err(anyhow!(
            "cannot connect to PostgreSQL at {}: {reason}",
            target.server()
        )),
        Err(_) => Err(anyhow!(
            "cannot connect to PostgreSQL at {}: no answer within {CONNECT_TIMEOUT:?}",
            target.server()
        )),
    }
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    datname: String,
}

/// Creates the database the URL names if the server does not have it yet, connecting to the
/// server's `postgres` database to do so. Returns whether it was created.
///
/// # Errors
///
/// When the server cannot be reached, refuses the login, or refuses to create the database; the
/// message names the host and the cause.
pub async fn create_database_if_missing(database_url: &str) -> anyhow::Result<bool> {
    let target = DatabaseTarget::parse(database_url)?;
    let mut admin_url = parse_url(database_url)?;
    admin_url.set_path("/postgres");
    let admin_target = DatabaseTarget::parse(admin_url.as_str())?;
    let mut conn = connect(admin_url.as_str(), &admin_target).await?;
    let exists = database_exists(&mut conn, target.database())
        .await
        .with_context(|| format!("cannot list the databases of {admin_target}"))?;
    if exists {
        return Ok(false);
    }
    let create = format!("CREATE DATABASE {}", quote_identifier(target.database()));
    match diesel::sql_query(create).execute(&mut conn).await {
        Ok(_) => Ok(true),
        // Another process created it in the meantime.
        Err(_)
            if database_exists(&mut conn, target.database())
                .await
                .unwrap_or(false) =>
        {
            Ok(false)
        }
        Err(e) => Err(anyhow!("cannot create the database {target}: {e}")),
    }
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> diesel::QueryResult<bool> {
    let found: Vec<DatabaseName> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name)
            .get_results(conn)
            .await?;
    Ok(!found.is_empty())
}

/// Quotes a PostgreSQL identifier.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Applies the migrations the database does not have yet and returns their versions (none when
/// it is up to date).
///
/// # Errors
///
/// When the database cannot be reached or a migration fails (it is rolled back).
pub async fn run_migrations(database_url: &str) -> anyhow::Result<Vec<String>> {
    with_migration_connection(database_url, |conn| {
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow!("a migration failed: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Reverts every applied migration, newest first, and returns their versions. For tests of the
/// `down.sql` scripts and for tearing a database down.
///
/// # Errors
///
/// When the database cannot be reached or a down migration fails.
pub async fn revert_all_migrations(database_url: &str) -> anyhow::Result<Vec<String>> {
    with_migration_connection(database_url, |conn| {
        let reverted = conn
            .revert_all_migrations(MIGRATIONS)
            .map_err(|e| anyhow!("reverting a migration failed: {e}"))?;
        Ok(reverted.iter().map(ToString::to_string).collect())
    })
    .await
}

type WrappedConnection = AsyncConnectionWrapper<AsyncPgConnection>;

/// Runs `work` on a blocking thread with a synchronous wrapper around an async connection, under
/// the migration lock.
async fn with_migration_connection<T: Send + 'static>(
    database_url: &str,
    work: impl FnOnce(&mut WrappedConnection) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let target = DatabaseTarget::parse(database_url)?;
    // Connect asynchronously first, so that an unreachable server fails within the timeout.
    let conn = connect(database_url, &target).await?;
    tokio::task::spawn_blocking(move || {
        let mut conn = WrappedConnection::from(conn);
        let lock = diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"));
        diesel::RunQueryDsl::execute(lock, &mut conn)
            .with_context(|| format!("cannot take the migration lock on {target}"))?;
        let result = work(&mut conn);
        // Closing the connection releases the lock in any case; this only releases it sooner.
        let unlock = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
        let _ = diesel::RunQueryDsl::execute(unlock, &mut conn);
        result.with_context(|| format!("migrating {target}"))
    })
    .await
    .context("the migration task panicked")?
}

/// Opens one connection to check that the database answers.
///
/// # Errors
///
/// When it cannot be reached; the message names the host and the cause.
pub async fn check_connection(database_url: &str) -> anyhow::Result<()> {
    let target = DatabaseTarget::parse(database_url)?;
    let mut conn = connect(database_url, &target).await?;
    diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, "SELECT 1")
        .await
        .with_context(|| format!("{target} does not answer"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_host_port_and_database_but_never_the_password() {
        let target = DatabaseTarget::parse("postgres://app:s3cret@db.internal:6543/rosetta");
        let shown = target.map(|t| t.to_string()).map_err(|e| e.to_string());
        assert_eq!(shown, Ok("db.internal:6543/rosetta".to_owned()));
    }

    #[test]
    fn bad_urls_are_refused_without_being_repeated() {
        for url in [
            "not a url s3cret",
            "mysql://u:s3cret@h/db",
            "postgres://u:s3cret@h",
        ] {
            let error = DatabaseTarget::parse(url)
                .map(|_| ())
                .map_err(|e| format!("{e:#}"));
            let message = error.err().unwrap_or_default();
            assert!(!message.is_empty(), "{url} was accepted");
            assert!(!message.contains("s3cret"), "{message}");
        }
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("we\"ird"), "\"we\"\"ird\"");
    }
}
