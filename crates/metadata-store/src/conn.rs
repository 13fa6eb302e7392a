//! Running a repository call on a connection drawn from the pool: the one place that takes a
//! connection, runs the call's statements and says what was being done when it fails.

use std::future::Future;

use diesel_async::AsyncPgConnection;

use crate::errors::{Context, DbError, Doing, Failed};
use crate::DbPool;

/// An async closure whose future is `Send`, as `async_trait` methods need. `AsyncFnOnce` alone
/// cannot say so on stable Rust; diesel-async's `transaction` bounds its callback the same way.
pub(crate) trait SendAsyncFnOnce<T, R>:
    AsyncFnOnce(T) -> R + FnOnce(T) -> <Self as SendAsyncFnOnce<T, R>>::Fut
{
    /// The closure's future.
    type Fut: Future<Output = R> + Send;
}

impl<F, T, Fut, R> SendAsyncFnOnce<T, R> for F
where
    F: AsyncFnOnce(T) -> R + FnOnce(T) -> Fut,
    Fut: Future<Output = R> + Send,
{
    type Fut = Fut;
}

/// Runs `work` on a connection from `pool`, which goes back to the pool afterwards. A failure,
/// the pool's included, becomes a [`Failed`] saying what the call was `doing`, which `?`
/// turns into the port's error:
///
/// ```ignore
/// let doing = Doing::new("reading a source").source(id);
/// let row = with_conn(&self.pool, doing, async |conn| {
///     Ok(sources::table.find(id.get()).first(conn).await.optional()?)
/// })
/// .await?;
/// ```
///
/// A transaction stays inside `work` (`conn.transaction(async move |conn| …)`).
pub(crate) async fn with_conn<'a, T, F>(
    pool: &DbPool,
    doing: Doing<'a>,
    work: F,
) -> Result<T, Failed<'a>>
where
    for<'c> F: SendAsyncFnOnce<&'c mut AsyncPgConnection, Result<T, DbError>> + Send,
    T: Send,
{
    let outcome = async {
        let mut conn = pool.get().await?;
        work(&mut conn).await
    }
    .await;
    outcome.while_doing(doing)
}
