//! `PgChangeStream`: the changes of a slot, from `START_REPLICATION` to close.
//!
//! A task of its own owns the session (see `task`); the stream the consumer holds is the far
//! end of a bounded channel, which makes [`ChangeStream::next`] cancel-safe by construction:
//! whatever was read stays in the task or in the channel, never in an abandoned future.

mod decode;
mod messages;
mod task;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use rosetta_domain::ports::{ChangeStream, ReplicationError};
use rosetta_domain::replication::{Lsn, StreamEvent};
use rosetta_domain::Source;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinHandle;

use crate::error::{OBJECT_IN_USE, UNDEFINED_OBJECT};
use crate::names::{check_slot, identifier, literal};
use crate::sql::Tls;
use crate::wire::WireError;
use crate::{error, replication, PgSourceSettings};
use task::{Delivery, Handoff, Pacing, Streamer, BATCH};

/// The changes streamed from one slot of a PostgreSQL source.
pub struct PgChangeStream {
    deliveries: mpsc::Receiver<Delivery>,
    /// The events the task may read ahead: given back as deliveries are taken.
    budget: Arc<Semaphore>,
    /// The rest of the batch being handed out.
    ready: std::vec::IntoIter<StreamEvent>,
    confirmed: Arc<AtomicU64>,
    server_end: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    host: String,
    slot: String,
}

impl PgChangeStream {
    /// Starts streaming slot `slot` of `source` from `start`.
    ///
    /// # Errors
    ///
    /// `SlotInUse`, `SlotMissing`, `Connect`, `Refused`, `Lost`, `Protocol`.
    pub(crate) async fn start(
        source: &Source,
        slot: &str,
        start: Lsn,
        tls: &Tls,
        settings: &PgSourceSettings,
    ) -> Result<Self, ReplicationError> {
        let host = source.address();
        check_slot(&host, slot)?;
        let mut conn = replication::open(source, slot, tls, settings).await?;
        let command = start_command(slot, start, source.publication_name.as_str());
        let started =
            tokio::time::timeout(settings.statement_timeout, conn.start_copy_both(&command))
                .await
                .unwrap_or(Err(WireError::TimedOut(settings.statement_timeout)));
        if let Err(e) = started {
            // A refused START leaves the session usable: end it as the protocol asks.
            conn.terminate().await;
            return Err(match e {
                WireError::Server(server) if server.code == OBJECT_IN_USE => {
                    ReplicationError::SlotInUse {
                        slot: slot.to_owned(),
                    }
                }
                WireError::Server(server) if server.code == UNDEFINED_OBJECT => {
                    ReplicationError::SlotMissing {
                        host: host.clone(),
                        slot: slot.to_owned(),
                    }
                }
                e => error::wire(&host, &format!("START_REPLICATION of slot {slot}"), e),
            });
        }
        tracing::info!(%host, slot, %start, "replication stream started");
        // Room for a whole delivery at least, whatever the setting says.
        let read_ahead = settings.read_ahead.max(BATCH);
        let budget = Arc::new(Semaphore::new(read_ahead));
        let (sender, deliveries) = mpsc::channel(read_ahead);
        let confirmed = Arc::new(AtomicU64::new(start.get()));
        let server_end = Arc::new(AtomicU64::new(start.get()));
        let (stop, stopped) = oneshot::channel();
        let pacing = Pacing {
            status_interval: settings.status_interval,
            idle_status_interval: settings.idle_status_interval,
        };
        let streamer = Streamer::new(
            conn,
            Handoff {
                deliveries: sender,
                budget: Arc::clone(&budget),
            },
            Arc::clone(&confirmed),
            Arc::clone(&server_end),
            pacing,
            host.clone(),
            slot.to_owned(),
        );
        let task = tokio::spawn(streamer.run(stopped));
        Ok(Self {
            deliveries,
            budget,
            ready: Vec::new().into_iter(),
            confirmed,
            server_end,
            stop: Some(stop),
            task,
            host,
            slot: slot.to_owned(),
        })
    }
}

/// `START_REPLICATION` of `slot` from `start`, for `publication`. The publication's name is
/// quoted as an identifier inside the option's string, so the server reads it exactly as the
/// catalogue query matched it (unquoted, it would fold it to lower case).
fn start_command(slot: &str, start: Lsn, publication: &str) -> String {
    format!(
        "START_REPLICATION SLOT {slot} LOGICAL {start} (proto_version '1', publication_names {})",
        literal(&identifier(publication))
    )
}

impl fmt::Debug for PgChangeStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgChangeStream")
            .field("host", &self.host)
            .field("slot", &self.slot)
            .field(
                "confirmed",
                &Lsn::new(self.confirmed.load(Ordering::Relaxed)),
            )
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl ChangeStream for PgChangeStream {
    async fn next(&mut self) -> Result<StreamEvent, ReplicationError> {
        loop {
            if let Some(event) = self.ready.next() {
                return Ok(event);
            }
            // `recv` is cancel-safe: an abandoned wait takes nothing off the channel.
            match self.deliveries.recv().await {
                Some(Delivery::Events(events)) => {
                    self.budget.add_permits(events.len());
                    self.ready = events.into_iter();
                }
                Some(Delivery::Failed(e)) => return Err(e),
                None => {
                    return Err(ReplicationError::Lost {
                        host: self.host.clone(),
                        reason: format!("the stream from slot {} has ended", self.slot),
                    })
                }
            }
        }
    }

    fn confirm(&mut self, flushed: Lsn) {
        self.confirmed.fetch_max(flushed.get(), Ordering::AcqRel);
    }

    fn server_wal_end(&self) -> Lsn {
        Lsn::new(self.server_end.load(Ordering::Acquire))
    }

    async fn close(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // The task bounds its goodbye to the server itself.
        let _ = (&mut self.task).await;
    }
}

impl Drop for PgChangeStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_publication_is_named_exactly_and_the_start_as_postgresql_writes_it() {
        assert_eq!(
            start_command("rosetta_1_2", Lsn::new(0x1_0000_00A0), "Orders_pub"),
            "START_REPLICATION SLOT rosetta_1_2 LOGICAL 1/A0 (proto_version '1', publication_names '\"Orders_pub\"')"
        );
    }
}
