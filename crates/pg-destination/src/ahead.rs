//! Statements sent ahead of their replies (pipelined), so that Rosetta gathers and prepares the
//! next batch while the destination is still executing and committing this one.
//!
//! Every statement sent this way is a prepared statement or a simple query: tokio-postgres puts
//! those on the wire when their future is first polled (its "Pipelining" documentation), so
//! the server receives and executes them in the order they were sent, and anything sent later
//! on the connection runs after them. Their replies are checked later, in order; the first
//! error wins (the statements after a failed one fail only because its transaction aborted).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::Poll;

use anyhow::anyhow;
use rosetta_domain::ports::DestinationError;

/// The reply of a statement sent ahead.
type Reply = Pin<Box<dyn Future<Output = Result<(), DestinationError>> + Send>>;

/// The replies not checked yet, oldest first.
#[derive(Default)]
pub(crate) struct Ahead {
    /// Behind a mutex only to be `Sync` as the session must be; reached through `get_mut`,
    /// never locked.
    replies: Mutex<VecDeque<Reply>>,
    /// The first error among the replies already checked, until it is reported.
    failed: Option<DestinationError>,
}

impl Ahead {
    /// Sends `statement` (a future that sends it when first polled and then reads its reply)
    /// and keeps its reply for [`Ahead::settle`].
    ///
    /// # Errors
    ///
    /// What the statement failed with on its first poll: then it may not have been sent at
    /// all, and nothing that depends on it (a `COMMIT`) may be sent after it.
    pub(crate) async fn send<F>(&mut self, statement: F) -> Result<(), DestinationError>
    where
        F: Future<Output = Result<(), DestinationError>> + Send + 'static,
    {
        let mut reply: Reply = Box::pin(statement);
        // One poll puts it on the wire; it is almost never answered yet.
        match std::future::poll_fn(|cx| Poll::Ready(reply.as_mut().poll(cx))).await {
            Poll::Ready(result) => result,
            Poll::Pending => {
                self.replies().push_back(reply);
                Ok(())
            }
        }
    }

    /// Sends `work` as [`Ahead::send`] does, and lets it go on by itself afterwards, as a
    /// task of its own: for a `COPY`, whose rows must flow to the server while Rosetta goes
    /// on with the next batch (the connection sends nothing after it before its rows are
    /// all sent, so the order on the wire stays the order of the calls).
    ///
    /// # Errors
    ///
    /// As [`Ahead::send`].
    pub(crate) async fn send_in_background<F>(&mut self, work: F) -> Result<(), DestinationError>
    where
        F: Future<Output = Result<(), DestinationError>> + Send + 'static,
    {
        self.send(async move {
            let mut work = Box::pin(work);
            // The first poll puts it on the wire, here, before anything sent after it.
            if let Poll::Ready(result) =
                std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await
            {
                return result;
            }
            tokio::spawn(work).await.unwrap_or_else(|e| {
                Err(DestinationError::Unknown(anyhow!(
                    "a statement sent in the background stopped: {e}"
                )))
            })
        })
        .await
    }

    /// Whether every reply has been checked and reported.
    #[cfg(test)]
    fn is_empty(&mut self) -> bool {
        self.replies().is_empty() && self.failed.is_none()
    }

    /// Waits for every reply, in order, and returns the first error. Cancel-safe: a reply
    /// checked before the future is dropped is remembered, one not checked stays.
    pub(crate) async fn settle(&mut self) -> Result<(), DestinationError> {
        while let Some(reply) = self.replies().front_mut() {
            let result = reply.await;
            self.replies().pop_front();
            self.note(result);
        }
        self.failed.take().map_or(Ok(()), Err)
    }

    fn replies(&mut self) -> &mut VecDeque<Reply> {
        self.replies
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn note(&mut self, result: Result<(), DestinationError>) {
        if let Err(error) = result {
            self.failed.get_or_insert(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_error_is_reported_once_every_reply_is_in() {
        let mut ahead = Ahead::default();
        ahead.send(async { Ok(()) }).await.unwrap();
        ahead
            .send(async {
                tokio::task::yield_now().await;
                Err(DestinationError::Unknown(anyhow::anyhow!("first")))
            })
            .await
            .unwrap();
        ahead
            .send(async {
                tokio::task::yield_now().await;
                Err(DestinationError::Unknown(anyhow::anyhow!("second")))
            })
            .await
            .unwrap();
        assert!(!ahead.is_empty());
        let error = ahead.settle().await.unwrap_err();
        assert_eq!(error.to_string(), "first");
        assert!(ahead.is_empty());
        ahead.settle().await.unwrap();
    }

    #[tokio::test]
    async fn a_settle_dropped_midway_loses_no_reply() {
        let (tell, told) = tokio::sync::oneshot::channel::<()>();
        let mut ahead = Ahead::default();
        ahead
            .send(async {
                told.await.ok();
                Err(DestinationError::Unknown(anyhow::anyhow!("late")))
            })
            .await
            .unwrap();
        // Gives up before the reply comes.
        let early = tokio::time::timeout(std::time::Duration::from_millis(10), ahead.settle());
        assert!(early.await.is_err());
        assert!(!ahead.is_empty());
        tell.send(()).unwrap();
        assert_eq!(ahead.settle().await.unwrap_err().to_string(), "late");
    }

    #[tokio::test]
    async fn work_sent_in_background_goes_on_without_a_settle() {
        let (tell, told) = tokio::sync::oneshot::channel::<()>();
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let mut ahead = Ahead::default();
        ahead
            .send_in_background(async move {
                told.await.ok();
                done.send(()).ok();
                Err(DestinationError::Unknown(anyhow::anyhow!("copied badly")))
            })
            .await
            .unwrap();
        tell.send(()).unwrap();
        // It finishes although nothing waits for its reply yet.
        tokio::time::timeout(std::time::Duration::from_secs(5), finished)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            ahead.settle().await.unwrap_err().to_string(),
            "copied badly"
        );
        assert!(ahead.is_empty());
    }

    #[tokio::test]
    async fn a_statement_that_fails_before_it_is_sent_fails_at_once() {
        let mut ahead = Ahead::default();
        let refused = ahead
            .send(async { Err(DestinationError::Unknown(anyhow::anyhow!("unsendable"))) })
            .await;
        assert_eq!(refused.unwrap_err().to_string(), "unsendable");
        assert!(ahead.is_empty());
    }
}
