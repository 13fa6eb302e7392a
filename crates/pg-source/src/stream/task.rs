//! The task that owns a replication session while it streams: it reads and decodes the
//! server's messages, hands them to the consumer in batches through a bounded channel, and
//! keeps the server informed of the confirmed position, whatever the consumer is doing.
//!
//! Status updates do not wait for the consumer: while it is busy (applying a large batch) and
//! the channel is full, the task stops reading but still reports on time, so the server's
//! `wal_sender_timeout` never ends a stream only because the destination is slow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rosetta_domain::ports::ReplicationError;
use rosetta_domain::replication::{Lsn, StreamEvent};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot, Semaphore, TryAcquireError};
use tokio::time::{Instant, MissedTickBehavior};

use super::decode::decode;
use super::messages::{self, ServerCopy};
use crate::error;
use crate::wire::{Frame, ServerError, WireConnection, WireError};

/// The most events handed over at once: what one read of the socket typically holds, so that
/// the channel's cost is paid per read rather than per row.
pub(super) const BATCH: usize = 256;

/// How long a closing stream waits for the server to end its side before hanging up.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The consumer's end of the hand-over: the channel, and the budget of events it may hold
/// (read ahead and not yet taken). The budget counts events, not deliveries: how many events a
/// delivery holds depends on how much one read of the socket brought.
pub(super) struct Handoff {
    pub(super) deliveries: mpsc::Sender<Delivery>,
    pub(super) budget: Arc<Semaphore>,
}

/// What the task hands to the consumer.
pub(super) enum Delivery {
    /// Events, in order.
    Events(Vec<StreamEvent>),
    /// The stream failed; nothing follows.
    Failed(ReplicationError),
}

/// How often the confirmed position is reported.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pacing {
    /// How soon a moved position is reported (and the most often it is).
    pub(super) status_interval: Duration,
    /// The longest time between two reports.
    pub(super) idle_status_interval: Duration,
}

/// Why the task stops reading.
enum Ending {
    /// The consumer asked to close.
    Close,
    /// The consumer is gone.
    Gone,
}

/// The streaming session and what the task knows about it.
pub(super) struct Streamer {
    conn: WireConnection,
    deliveries: mpsc::Sender<Delivery>,
    budget: Arc<Semaphore>,
    /// The consumer's confirmed position, raised by `confirm`.
    confirmed: Arc<AtomicU64>,
    /// The end of the server's log as its messages last said.
    server_end: Arc<AtomicU64>,
    /// The position last reported to the server.
    reported: Lsn,
    last_report: Instant,
    /// Between a Begin and its Commit: keepalives are not passed on there, since their
    /// position may be past the commit of the transaction being received.
    in_transaction: bool,
    pacing: Pacing,
    host: String,
    slot: String,
}

impl Streamer {
    pub(super) fn new(
        conn: WireConnection,
        handoff: Handoff,
        confirmed: Arc<AtomicU64>,
        server_end: Arc<AtomicU64>,
        pacing: Pacing,
        host: String,
        slot: String,
    ) -> Self {
        Self {
            conn,
            deliveries: handoff.deliveries,
            budget: handoff.budget,
            confirmed,
            server_end,
            reported: Lsn::ZERO,
            last_report: Instant::now(),
            in_transaction: false,
            pacing,
            host,
            slot,
        }
    }

    /// Streams until the consumer closes or goes, or the stream fails.
    pub(super) async fn run(mut self, stop: oneshot::Receiver<()>) {
        match self.pump(stop).await {
            Ok(Ending::Close) => self.finish().await,
            Ok(Ending::Gone) => self.conn.terminate().await,
            Err(e) => {
                tracing::info!(host = %self.host, slot = %self.slot, error = %e, "replication stream failed");
                let _ = self.deliveries.send(Delivery::Failed(e)).await;
            }
        }
    }

    async fn pump(&mut self, mut stop: oneshot::Receiver<()>) -> Result<Ending, ReplicationError> {
        // The first tick a whole interval from now: the starting position is reported below
        // anyway, and an immediate tick would report whatever the consumer confirmed by the
        // time it ran, racing with the answers the server asks for.
        let mut ticks = tokio::time::interval_at(
            Instant::now() + self.pacing.status_interval,
            self.pacing.status_interval,
        );
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // A batch the consumer has no room for yet; nothing more is read meanwhile.
        let mut waiting: Option<Vec<StreamEvent>> = None;
        let mut batch = Vec::new();
        // Handles of their own, so that waiting for room borrows neither `self` nor its fields.
        let deliveries = self.deliveries.clone();
        let budget = Arc::clone(&self.budget);
        // The starting position is the caller's durable one: say so at once.
        self.report();
        loop {
            let mut full = false;
            if waiting.is_none() {
                while let Some(frame) = self.conn.try_frame().map_err(|e| self.lost(e))? {
                    self.handle(frame, &mut batch)?;
                    if batch.len() >= BATCH {
                        full = true;
                        break;
                    }
                }
                if !batch.is_empty() {
                    let events = std::mem::take(&mut batch);
                    match budget.try_acquire_many(count(&events)) {
                        Ok(permit) => {
                            permit.forget();
                            if !hand_over(&deliveries, events).await {
                                return Ok(Ending::Gone);
                            }
                        }
                        Err(TryAcquireError::NoPermits) => waiting = Some(events),
                        Err(TryAcquireError::Closed) => return Ok(Ending::Gone),
                    }
                }
            }
            if self.conn.has_output() {
                self.conn.flush().await.map_err(|e| self.lost(e))?;
            }
            if full && waiting.is_none() {
                continue;
            }
            let wanted = waiting.as_ref().map_or(0, |events| count(events));
            tokio::select! {
                biased;
                asked = &mut stop => {
                    return Ok(if asked.is_ok() { Ending::Close } else { Ending::Gone });
                }
                _ = ticks.tick() => self.report_if_due(),
                permit = budget.acquire_many(wanted), if waiting.is_some() => {
                    let Ok(permit) = permit else { return Ok(Ending::Gone) };
                    permit.forget();
                    if let Some(events) = waiting.take() {
                        if !hand_over(&deliveries, events).await {
                            return Ok(Ending::Gone);
                        }
                    }
                }
                filled = self.conn.fill(), if waiting.is_none() => {
                    filled.map_err(|e| self.lost(e))?;
                }
            }
        }
    }

    /// Turns one server message into events (or a status update, or an error).
    fn handle(
        &mut self,
        frame: Frame,
        batch: &mut Vec<StreamEvent>,
    ) -> Result<(), ReplicationError> {
        match frame.tag {
            b'd' => match messages::parse(frame.body).map_err(|r| self.protocol(r))? {
                ServerCopy::XLogData { wal_end, data } => {
                    self.server_end.fetch_max(wal_end.get(), Ordering::AcqRel);
                    let Some(event) = decode(data).map_err(|r| self.protocol(r))? else {
                        return Ok(());
                    };
                    match event {
                        StreamEvent::Begin { .. } => self.in_transaction = true,
                        StreamEvent::Commit { .. } => self.in_transaction = false,
                        _ => {}
                    }
                    batch.push(event);
                }
                ServerCopy::Keepalive {
                    wal_end,
                    reply_requested,
                } => {
                    self.server_end.fetch_max(wal_end.get(), Ordering::AcqRel);
                    if reply_requested {
                        self.report();
                    }
                    if !self.in_transaction {
                        // Only the newest of keepalives in a row says anything.
                        if let Some(StreamEvent::Keepalive { .. }) = batch.last() {
                            batch.pop();
                        }
                        batch.push(StreamEvent::Keepalive { wal_end });
                    }
                }
            },
            b'E' => {
                let what = format!("streaming from slot {}", self.slot);
                let server = WireError::Server(ServerError::parse(&frame.body));
                return Err(error::wire(&self.host, &what, server));
            }
            b'c' => {
                return Err(ReplicationError::Lost {
                    host: self.host.clone(),
                    reason: format!("the server ended the stream from slot {}", self.slot),
                })
            }
            b'N' => {
                let notice = ServerError::parse(&frame.body);
                tracing::info!(host = %self.host, slot = %self.slot, %notice, "notice from the source");
            }
            b'S' => {}
            other => {
                return Err(
                    self.protocol(format!("message '{}' while streaming", char::from(other)))
                )
            }
        }
        Ok(())
    }

    /// Queues a status update with the confirmed position.
    fn report(&mut self) {
        let confirmed = Lsn::new(self.confirmed.load(Ordering::Acquire));
        messages::status_update(confirmed, self.conn.output());
        self.reported = confirmed;
        self.last_report = Instant::now();
    }

    /// Queues a status update if the position moved, or if the last one is getting old.
    fn report_if_due(&mut self) {
        let confirmed = Lsn::new(self.confirmed.load(Ordering::Acquire));
        if confirmed > self.reported
            || self.last_report.elapsed() >= self.pacing.idle_status_interval
        {
            self.report();
        }
    }

    /// Ends the stream as the protocol asks: the last position, CopyDone, the server's end of
    /// the stream (bounded), Terminate.
    async fn finish(mut self) {
        self.report();
        messages::copy_done(self.conn.output());
        let conn = &mut self.conn;
        let ended = tokio::time::timeout(CLOSE_TIMEOUT, async {
            conn.flush().await?;
            loop {
                // What the server still sends before its own CopyDone is dropped: the
                // consumer has closed.
                let frame = conn.read_frame().await?;
                if matches!(frame.tag, b'Z' | b'E') {
                    return Ok::<_, WireError>(());
                }
            }
        })
        .await;
        if !matches!(ended, Ok(Ok(()))) {
            tracing::debug!(host = %self.host, slot = %self.slot, "the server did not end the stream cleanly");
        }
        self.conn.terminate().await;
    }

    fn lost(&self, error: WireError) -> ReplicationError {
        error::wire(
            &self.host,
            &format!("streaming from slot {}", self.slot),
            error,
        )
    }

    fn protocol(&self, reason: String) -> ReplicationError {
        ReplicationError::Protocol {
            host: self.host.clone(),
            reason: format!("slot {}: {reason}", self.slot),
        }
    }
}

/// How many of the budget's permits `events` take.
fn count(events: &[StreamEvent]) -> u32 {
    u32::try_from(events.len()).unwrap_or(u32::MAX)
}

/// Hands `events` (paid for from the budget) to the consumer; `false` when it is gone. The
/// channel has room for as many deliveries as the budget has events, so this never waits.
async fn hand_over(deliveries: &mpsc::Sender<Delivery>, events: Vec<StreamEvent>) -> bool {
    match deliveries.try_send(Delivery::Events(events)) {
        Ok(()) => true,
        Err(TrySendError::Full(delivery)) => deliveries.send(delivery).await.is_ok(),
        Err(TrySendError::Closed(_)) => false,
    }
}
