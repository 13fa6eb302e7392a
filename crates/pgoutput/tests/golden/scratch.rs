//! A database, a publication, a slot and a replication origin of the golden test's own on the
//! logical cluster, all dropped when the test ends, even when it panics.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use tokio_postgres::{Client, Config, NoTls};

/// What to do when `LOGICAL_DATABASE_URL` is missing, said in the failure.
const MISSING_URL: &str = "LOGICAL_DATABASE_URL is not set: the golden test needs a PostgreSQL \
server with wal_level = logical. Run scripts/ensure-logical-postgres.sh and export \
LOGICAL_DATABASE_URL=postgres://postgres@127.0.0.1:5433 (a superuser: it creates a database, a \
slot and a replication origin)";

/// The logical cluster, connected to `database`.
fn config(database: &str) -> Config {
    let url = std::env::var("LOGICAL_DATABASE_URL").unwrap_or_else(|_| panic!("{MISSING_URL}"));
    let mut config: Config = url
        .parse()
        .unwrap_or_else(|e| panic!("LOGICAL_DATABASE_URL is not a PostgreSQL URL: {e}"));
    config.dbname(database);
    config
}

/// Connects to `database` on the logical cluster, the connection driven by a task of the
/// current runtime.
pub async fn connect(database: &str) -> Client {
    let config = config(database);
    let (client, connection) = config.connect(NoTls).await.unwrap_or_else(|e| {
        panic!(
            "cannot reach the logical cluster at {:?}:{:?} (run scripts/ensure-logical-postgres.sh): {e}",
            config.get_hosts(),
            config.get_ports()
        )
    });
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("the connection to the logical cluster failed: {e}");
        }
    });
    client
}

/// The objects of one test run, named alike and uniquely, so that runs may overlap.
pub struct Scratch {
    /// The database, the publication, the slot and the origin all have this name.
    pub name: String,
}

impl Scratch {
    /// Creates the database (UTF-8, so that the test's non-ASCII text means one thing).
    pub async fn create() -> Self {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        let scratch = Self {
            name: format!("rosetta_pgo_{:016x}", hasher.finish()),
        };
        connect("postgres")
            .await
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
                scratch.name
            ))
            .await
            .unwrap_or_else(|e| panic!("cannot create the database {}: {e}", scratch.name));
        scratch
    }
}

/// Drops everything a run made: the database first (WITH (FORCE) ends the run's sessions,
/// which frees the origin, and takes the publication and any inactive slot in it along), then
/// the slot and the origin if they are still there.
async fn drop_all(name: &str) -> Result<(), tokio_postgres::Error> {
    let (admin, connection) = config("postgres").connect(NoTls).await?;
    tokio::spawn(connection);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin
        .execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
             WHERE slot_name = $1",
            &[&name],
        )
        .await?;
    admin
        .execute(
            "SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin \
             WHERE roname = $1",
            &[&name],
        )
        .await?;
    Ok(())
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Without a server there is nothing to drop (and the test already says why it failed).
        if std::env::var_os("LOGICAL_DATABASE_URL").is_none() {
            return;
        }
        let name = std::mem::take(&mut self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with a
        // runtime of its own does the work, and waiting for it keeps the drop synchronous.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(drop_all(&name))
                .map_err(|e| format!("{name}: {e}"))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop the golden test's objects {e}"),
            Err(_) => eprintln!("warning: the thread dropping the golden test's objects panicked"),
        }
    }
}
