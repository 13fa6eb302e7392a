//! The connection pool: deadpool over diesel-async, sized and timed like the first
//! implementation's SQLAlchemy pool (`DB_POOL_*`).

use std::time::Duration;

use diesel_async::pooled_connection::deadpool::{Hook, HookError, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use rosetta_settings::{Boolean, Seconds, Whole};

use crate::connect::establish_for_pool;

/// How long a connection may sit idle before a pre-ping verifies it.
pub const PRE_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool every repository shares.
pub type DbPool = Pool<AsyncPgConnection>;

rosetta_settings::settings! {
    /// How the pool behaves.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PoolSettings {
        /// Connections the metadata pool is sized for.
        pub size: usize = 20, env "DB_POOL_SIZE", rule Whole::within(1, 10_000);
        /// Extra connections the metadata pool may open under load: at most DB_POOL_SIZE +
        /// DB_MAX_OVERFLOW are open at once.
        pub max_overflow: usize = 10, env "DB_MAX_OVERFLOW", rule Whole::within(0, 10_000);
        /// Seconds a caller waits for a pooled connection, and opening one may take; past it
        /// the caller gets an "unavailable" error.
        pub timeout: Duration = Duration::from_secs(30),
            env "DB_POOL_TIMEOUT", rule Seconds::within(1, Seconds::YEAR);
        /// Verify a pooled connection with a query before handing it out; one used within the
        /// last second is known to work and is handed out without the extra round trip.
        pub pre_ping: bool = true, env "DB_POOL_PRE_PING", rule Boolean;
        /// Seconds after which a pooled connection is retired instead of reused.
        pub recycle: Duration = Duration::from_secs(3600),
            env "DB_POOL_RECYCLE", rule Seconds::within(1, Seconds::YEAR);
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
