//! The connection pool: deadpool over diesel-async, sized and timed like the first
//! implementation's SQLAlchemy pool (`DB_POOL_*`).

use std::time::Duration;

use diesel_async::pooled_connection::deadpool::{Hook, HookError, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

use crate::connect::establish_for_pool;

/// How long a connection may sit idle before a pre-ping verifies it.
pub const PRE_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool every repository shares.
pub type DbPool = Pool<AsyncPgConnection>;

/// How the pool behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections the pool is sized for (`DB_POOL_SIZE`, 20).
    pub size: usize,
    /// Extra connections it may open under load (`DB_MAX_OVERFLOW`, 10): at most
    /// `size + max_overflow` are open at once.
    pub max_overflow: usize,
    /// How long a caller waits for a connection, and how long opening one may take
    /// (`DB_POOL_TIMEOUT`, 30 s). Past it the caller gets an "unavailable" error.
    pub timeout: Duration,
    /// Verify a connection with a query before handing it out (`DB_POOL_PRE_PING`, true).
    /// A connection used within the last [`PRE_PING_AFTER_IDLE`] is known to work and is
    /// handed out without the extra round trip.
    pub pre_ping: bool,
    /// Retire connections older than this (`DB_POOL_RECYCLE`, 3600 s).
    pub recycle: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            size: 20,
            max_overflow: 10,
            timeout: Duration::from_secs(30),
            pre_ping: true,
            recycle: Duration::from_secs(3600),
        }
    }
}

impl PoolSettings {
    /// The most connections open at once.
    pub fn max_connections(&self) -> usize {
        self.size + self.max_overflow
    }
}

/// Builds the pool. No connection is opened until one is needed.
///
/// # Errors
///
/// When the settings cannot make a pool (a zero-sized pool).
pub fn build_pool(database_url: &str, settings: &PoolSettings) -> anyhow::Result<DbPool> {
    anyhow::ensure!(
        settings.max_connections() > 0,
        "the pool needs room for at least one connection"
    );
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(|url| Box::pin(establish_for_pool(url.to_owned())));
    // Broken connections and open transactions are always caught; the query is the hook's.
    config.recycling_method = RecyclingMethod::Fast;
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    let max_age = settings.recycle;
    let mut builder = Pool::builder(manager)
        .max_size(settings.max_connections())
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(settings.timeout))
        .create_timeout(Some(settings.timeout))
        .recycle_timeout(Some(settings.timeout))
        .pre_recycle(Hook::sync_fn(move |_, metrics| {
            if metrics.age() > max_age {
                Err(HookError::message("connection reached DB_POOL_RECYCLE"))
            } else {
                Ok(())
            }
        }));
    if settings.pre_ping {
        builder = builder.post_recycle(Hook::async_fn(|conn: &mut AsyncPgConnection, metrics| {
            Box::pin(async move {
                if metrics.last_used() > PRE_PING_AFTER_IDLE {
                    conn.batch_execute("SELECT 1")
                        .await
                        .map_err(|e| HookError::message(format!("pre-ping failed: {e}")))?;
                }
                Ok(())
            })
        }));
    }
    let pool = builder.build()?;
    Ok(pool)
}

/// Checks that the pool can hand out a connection that answers a trivial query.
///
/// # Errors
///
/// When no connection can be had or the query fails.
pub async fn ping(pool: &DbPool) -> anyhow::Result<()> {
    let mut conn = pool.get().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    conn.batch_execute("SELECT 1").await?;
    Ok(())
}
