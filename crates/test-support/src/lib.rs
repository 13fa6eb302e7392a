//! A real PostgreSQL database per test, so that tests run in parallel and share nothing.
//!
//! Once per test process, a template database holding the migrated schema is made (or found,
//! when an earlier run made it from the same migrations); each [`TestDb`] is then a
//! `CREATE DATABASE … TEMPLATE` copy of it, dropped when the `TestDb` is dropped, even when the
//! test panics. The server is the one `DATABASE_URL` names (`scripts/test.sh` sets
//! `postgres://postgres@127.0.0.1:5432`); only its host, port and credentials are used. Without
//! `DATABASE_URL` every test fails at once, saying how to set it, rather than guessing a server.
//!
//! The template, `rosetta_tpl_<fingerprint of migrations/>`, is kept between runs like a build
//! cache and replaced when the migrations change; the template of other migrations (another
//! checkout, testing another branch on the same server) is dropped once it has gone an hour
//! unused. Test databases left by a run that was killed (and so never dropped its databases)
//! are dropped by the next run once they are an hour old.

pub mod snowflake;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context as _};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use rosetta_metadata_store::migrations::{quote_identifier, run_migrations};
use rosetta_metadata_store::{build_pool, DbPool, PoolSettings};
use tokio::sync::OnceCell;
use url::Url;

/// What to do when `DATABASE_URL` is missing, said in the error.
const MISSING_URL: &str = "DATABASE_URL is not set: the tests need a PostgreSQL server to make \
their databases on. Run scripts/test.sh (it starts the local PostgreSQL and sets DATABASE_URL), \
or export DATABASE_URL=postgres://postgres@127.0.0.1:5432 (a role that may create databases)";

const TEMPLATE_PREFIX: &str = "rosetta_tpl_";
const TEST_DB_PREFIX: &str = "rosetta_test_";
/// Serializes template creation between test processes.
const TEMPLATE_LOCK: i64 = 0x0072_6f73_6574_7462;
/// How a template's comment records when a test process last used it.
const LAST_USED_PREFIX: &str = "rosetta test template, last used at ";
/// Test databases older than this are leftovers of a killed run; templates of other
/// migrations unused for this long are left over from another checkout.
const STALE_AFTER: Duration = Duration::from_secs(3600);

static TEMPLATE: OnceCell<String> = OnceCell::const_new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The URL of `database` on the test server.
///
/// # Errors
///
/// When `DATABASE_URL` is not set or not a valid URL.
pub fn database_url(database: &str) -> anyhow::Result<String> {
    let server = std::env::var("DATABASE_URL").map_err(|_| anyhow!(MISSING_URL))?;
    let mut url = Url::parse(&server).map_err(|e| anyhow!("DATABASE_URL is not a URL: {e}"))?;
    url.set_path(&format!("/{database}"));
    Ok(url.into())
}

async fn admin_connection() -> anyhow::Result<AsyncPgConnection> {
    let url = database_url("postgres")?;
    AsyncPgConnection::establish(&url)
        .await
        .map_err(|e| anyhow!("cannot reach the test PostgreSQL server (set DATABASE_URL): {e}"))
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

async fn names_like(conn: &mut AsyncPgConnection, prefix: &str) -> anyhow::Result<Vec<String>> {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let rows: Vec<Row> = diesel_async::RunQueryDsl::load(
        diesel::sql_query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind::<Text, _>(prefix),
        conn,
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.datname).collect())
}

async fn drop_database(conn: &mut AsyncPgConnection, name: &str) -> anyhow::Result<()> {
    let name = quote_identifier(name);
    // Two statements sent apart: DROP DATABASE refuses to run in the implicit transaction of a
    // multi-statement query, and refuses to drop a template.
    conn.batch_execute(&format!("ALTER DATABASE {name} IS_TEMPLATE false"))
        .await
        .with_context(|| format!("unmarking {name} as a template"))?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .with_context(|| format!("dropping {name}"))
}

/// Finds or builds the migrated template and clears what killed runs left behind.
async fn prepare_template() -> anyhow::Result<String> {
    let template = format!(
        "{TEMPLATE_PREFIX}{}",
        env!("ROSETTA_MIGRATIONS_FINGERPRINT")
    );
    let mut conn = admin_connection().await?;
    conn.batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .await?;
    let result = async {
        let cutoff = unix_seconds().saturating_sub(STALE_AFTER.as_secs());
        // Another checkout (a worktree on another branch) may be testing with its own
        // migrations right now: its template goes only once it has been unused for a while.
        for stale in names_like(&mut conn, TEMPLATE_PREFIX).await? {
            let last_used = template_last_used(&mut conn, &stale).await?;
            if stale != template && last_used.is_none_or(|t| t < cutoff) {
                drop_database(&mut conn, &stale).await?;
            }
        }
        for leftover in names_like(&mut conn, TEST_DB_PREFIX).await? {
            let created = leftover
                .trim_start_matches(TEST_DB_PREFIX)
                .split('_')
                .next()
                .and_then(|s| s.parse::<u64>().ok());
            if created.is_some_and(|t| t < cutoff) {
                drop_database(&mut conn, &leftover).await?;
            }
        }
        let complete: Vec<String> = names_like(&mut conn, &template).await?;
        if complete.is_empty() || !is_template(&mut conn, &template).await? {
            // Absent, or half-built by a run that died while migrating it.
            if !complete.is_empty() {
                drop_database(&mut conn, &template).await?;
            }
            conn.batch_execute(&format!("CREATE DATABASE {}", quote_identifier(&template)))
                .await?;
            run_migrations(&database_url(&template)?).await?;
            conn.batch_execute(&format!(
                "ALTER DATABASE {} IS_TEMPLATE true",
                quote_identifier(&template)
            ))
            .await?;
        }
        conn.batch_execute(&format!(
            "COMMENT ON DATABASE {} IS '{LAST_USED_PREFIX}{}'",
            quote_identifier(&template),
            unix_seconds()
        ))
        .await?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .await?;
    result.context("preparing the template database")?;
    Ok(template)
}

/// When a test process last used the template `name` (Unix seconds), from the comment
/// [`prepare_template`] stamps it with; `None` for a template without one.
async fn template_last_used(
    conn: &mut AsyncPgConnection,
    name: &str,
) -> anyhow::Result<Option<u64>> {
    use diesel::sql_types::{Nullable, Text};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<Text>)]
        comment: Option<String>,
    }
    let rows: Vec<Row> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database \
             WHERE datname = $1",
        )
        .bind::<Text, _>(name),
        conn,
    )
    .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|row| row.comment)
        .and_then(|c| c.strip_prefix(LAST_USED_PREFIX)?.parse().ok()))
}

async fn is_template(conn: &mut AsyncPgConnection, name: &str) -> anyhow::Result<bool> {
    use diesel::sql_types::{Bool, Text};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Bool)]
        datistemplate: bool,
    }
    let rows: Vec<Row> = diesel_async::RunQueryDsl::load(
        diesel::sql_query("SELECT datistemplate FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name),
        conn,
    )
    .await?;
    Ok(rows.first().is_some_and(|r| r.datistemplate))
}

/// A migrated database of its own for one test, dropped when this value is dropped.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    /// Creates a fresh database from the migrated template.
    ///
    /// # Panics
    ///
    /// When the test server cannot be reached or the database cannot be made: a test cannot go
    /// on without it, and the message says why.
    pub async fn new() -> Self {
        match Self::try_new().await {
            Ok(db) => db,
            Err(e) => panic!("cannot create a test database: {e:#}"),
        }
    }

    async fn try_new() -> anyhow::Result<Self> {
        let template = TEMPLATE.get_or_try_init(prepare_template).await?;
        let name = format!(
            "{TEST_DB_PREFIX}{}_{}_{}_{:x}",
            unix_seconds(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            RandomState::new().build_hasher().finish() & 0xffff_ffff
        );
        let mut conn = admin_connection().await?;
        let create = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_identifier(&name),
            quote_identifier(template)
        );
        // The template may still be held for a moment by the connection that migrated it.
        let mut attempt = 0;
        while let Err(e) = conn.batch_execute(&create).await {
            attempt += 1;
            if attempt >= 20 || !e.to_string().contains("being accessed by other users") {
                return Err(anyhow!("creating {name}: {e}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = database_url(&name)?;
        Ok(Self { name, url })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A small pool on the database, with the service's pool code.
    ///
    /// # Panics
    ///
    /// When the pool cannot be built.
    pub fn pool(&self) -> DbPool {
        let settings = PoolSettings {
            size: 4,
            max_overflow: 0,
            timeout: Duration::from_secs(10),
            ..PoolSettings::default()
        };
        match build_pool(&self.url, &settings) {
            Ok(pool) => pool,
            Err(e) => panic!("cannot build a pool on {}: {e:#}", self.name),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with a
        // runtime of its own does the work, and waiting for it keeps the drop synchronous.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = admin_connection().await?;
                drop_database(&mut conn, &name).await
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop a test database: {e:#}"),
            Err(_) => eprintln!("warning: the thread dropping a test database panicked"),
        }
    }
}
