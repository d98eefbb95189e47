//! How the nodes of a hub on PostgreSQL learn of each other's events. A writer that commits
//! events notifies [`CHANNEL`] with the seq of the last one, in its transaction (so at the
//! commit, in commit order). Every node listens on a session of its own; a seq beyond what
//! its writer has published queues one empty change, and the writer's batch publishes the
//! events from the log: in seq order, none twice, whatever notifications were folded
//! together or lost. After (re)connecting, and every [`HEARTBEAT_SECS`] without a
//! notification, the listener wakes the writer anyway, which fills any gap the session
//! missed.
//!
//! The same session beats the node's heartbeat ([`store::nodes`]): the other nodes count a
//! node gone, with its agents' streams, when it stops. A node the database had already
//! forgotten (it was silent too long but lives) records its streams again. It also
//! listens for the nodes' signals ([`store::signal`]) and hands them to this node's
//! receivers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Weak};
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use ringside_clock::Clock;

use super::commit::{Change, Writer, CHANNEL};
use crate::online::Online;
use crate::store::nodes::HEARTBEAT_SECS;
use crate::store::signal::{self, Receivers};
use crate::store::{self, Db, PgServer, PgSession};

/// How long the listener waits before connecting again after its session failed.
const RECONNECT: Duration = Duration::from_secs(1);

/// Starts the listener thread of `writer`, which beats the heartbeat of the node whose
/// streams `online` counts; it ends when the writer is gone.
pub(super) fn spawn(
    server: PgServer,
    writer: &Writer,
    online: Arc<Online>,
    signals: Arc<Receivers>,
    clock: Arc<dyn Clock>,
) {
    let waker = Waker {
        queue: writer.queue(),
        published: writer.published(),
        pending: Arc::new(AtomicBool::new(false)),
        online,
        clock,
    };
    std::thread::Builder::new()
        .name("ringside-listener".into())
        .spawn(move || listen(&server, &waker, &signals))
        .expect("the listener thread starts");
}

/// The mark of a queued wake-up, lifted when its change runs or is dropped unrun (a batch
/// that failed before it, a full queue), so that wake-ups never stop.
struct Pending(Arc<AtomicBool>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Queues at most one empty change at a time on the writer.
struct Waker {
    queue: Weak<mpsc::SyncSender<Change>>,
    published: Arc<AtomicU64>,
    pending: Arc<AtomicBool>,
    online: Arc<Online>,
    clock: Arc<dyn Clock>,
}

impl Waker {
    /// Queues an empty change unless one is waiting; false when the writer is gone.
    fn wake(&self) -> bool {
        let Some(queue) = self.queue.upgrade() else {
            return false;
        };
        if self.pending.swap(true, Ordering::AcqRel) {
            return true;
        }
        let pending = Pending(self.pending.clone());
        let change: Change = Box::new(move |_, _| {
            drop(pending);
            (true, Box::new(|_| {}))
        });
        // A full queue drops the change, and its guard lets the next wake-up through: the
        // batches of that queue publish the log anyway.
        let _ = queue.try_send(change);
        true
    }

    /// Beats the node's heartbeat on `session`; when the database had forgotten the node,
    /// queues the write that records its streams again.
    fn beat(&self, session: &mut PgSession) -> Result<(), store::StoreError> {
        let known = store::nodes::heartbeat(&mut Db::Postgres(session), self.online.node())?;
        if !known {
            self.online.forgotten();
            if self.online.claim_settle() {
                if let Some(queue) = self.queue.upgrade() {
                    // Refused (queue full): the ticket hands the claim to the next write.
                    let _ = queue.try_send(super::presence::settle_change(
                        self.online.clone(),
                        self.clock.clone(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether a notified seq is beyond what the writer has published.
    fn is_news(&self, payload: &str) -> bool {
        payload
            .parse::<u64>()
            .map_or(true, |seq| seq > self.published.load(Ordering::Relaxed))
    }
}

fn listen(server: &PgServer, waker: &Waker, signals: &Receivers) {
    let heartbeat = Duration::from_secs(HEARTBEAT_SECS);
    let mut failing = false;
    loop {
        let listening = PgSession::connect(server).and_then(|mut session| {
            session.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {}", signal::CHANNEL))?;
            Ok(session)
        });
        let mut session = match listening {
            Ok(session) => session,
            Err(e) => {
                failing = lost(failing, &e.to_string());
                if !waker.wake() {
                    return;
                }
                std::thread::sleep(RECONNECT);
                continue;
            }
        };
        if failing {
            tracing::info!("listening for the other nodes' events again");
        }
        if !waker.wake() {
            return;
        }
        let mut beaten: Option<Instant> = None;
        loop {
            if beaten.is_none_or(|at| at.elapsed() >= heartbeat) {
                if let Err(e) = waker.beat(&mut session) {
                    failing = lost(false, &e.to_string());
                    break;
                }
                beaten = Some(Instant::now());
            }
            let next = session.notifications().timeout_iter(heartbeat).next();
            let woke = match next {
                Ok(Some(notification)) if notification.channel() == signal::CHANNEL => {
                    signals.receive(notification.payload());
                    true
                }
                Ok(Some(notification)) => !waker.is_news(notification.payload()) || waker.wake(),
                Ok(None) => waker.wake(),
                Err(e) => {
                    failing = lost(false, &e.to_string());
                    break;
                }
            };
            if !woke {
                return;
            }
        }
    }
}

/// Logs that the listener's session failed, once while it keeps failing; returns that it
/// is failing.
fn lost(failing: bool, error: &str) -> bool {
    if !failing {
        tracing::error!("cannot listen for the other nodes' events: {error}");
    }
    true
}
