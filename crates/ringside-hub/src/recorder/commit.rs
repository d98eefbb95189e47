//! The commit engine: a dedicated thread owns the writer connection. Changes queue up for
//! it; it takes every change waiting and applies them in one transaction (group commit: one
//! `fsync` for all of them), each inside its own savepoint so that a change that fails leaves
//! the others alone. A change appends its events to the event log; only after the commit are
//! the events published to live stream clients and the callers answered. One thread, so seq
//! order, commit order and publish order are the same.
//!
//! The queue is bounded: when the writer falls that far behind, a change is refused at once
//! with [`StoreError::Busy`] (answered 503) instead of piling up memory and latency. A change
//! that panics is rolled back alone; its answer is dropped unsent, and the thread and the rest
//! of the batch carry on.

use crate::store::{Db, DbConnection};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, TrySendError};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use prometheus_client::metrics::histogram::Histogram;
use ringside_core::call::Call;
use ringside_core::stream::{EventBody, StreamEvent, StreamFrame};
use time::OffsetDateTime;
use tokio::sync::broadcast;

use crate::store::{self, StoreError};

/// How many published events a slow stream client may fall behind before it is dropped (it
/// resumes from the log when it connects again).
const LIVE_CAPACITY: usize = 4096;

/// The channel a batch with events notifies at its commit, for the other nodes of a hub on
/// PostgreSQL (see `listen`); the payload is the newest seq committed.
pub(super) const CHANNEL: &str = "ringside_events";

/// The most changes committed together.
const MAX_BATCH: usize = 512;

/// An event as live stream clients receive it: serialized once for all of them.
#[derive(Debug)]
pub struct Published {
    /// The event's epoch; a stream that sent another one needs a snapshot instead.
    pub epoch: String,
    /// The event's seq.
    pub seq: u64,
    /// The JSON text of the [`StreamFrame::Event`], serialized once and shared by every
    /// stream that sends it (a clone is a reference count, not a copy).
    pub json: Utf8Bytes,
}

/// An event a batch appended to the log, with the JSON text of its stream frame, built from
/// the body's JSON written for the log (the body is serialized once).
pub(super) struct Logged {
    event: StreamEvent,
    frame: String,
}

impl Logged {
    /// An event read back from the log (written by another process), its frame serialized.
    fn read_back(event: StreamEvent) -> Self {
        let frame =
            serde_json::to_string(&StreamFrame::Event(event.clone())).expect("events serialize");
        Logged { event, frame }
    }
}

/// Where a change appends its events; the writer publishes them after the commit.
pub struct EventSink<'a> {
    events: &'a mut Vec<Logged>,
}

impl EventSink<'_> {
    /// Appends an event to the log, to be published once the batch commits.
    pub fn append(
        &mut self,
        db: &mut Db<'_>,
        at: OffsetDateTime,
        body: EventBody,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(&body)?;
        self.append_json(db, at, body, &json)
    }

    /// Appends a call's event, given the call's JSON as its journal row keeps it.
    pub fn append_call(
        &mut self,
        db: &mut Db<'_>,
        at: OffsetDateTime,
        call: Call,
        call_json: &str,
    ) -> Result<(), StoreError> {
        let json = EventBody::call_json(call_json);
        let body = EventBody::Call {
            call: Box::new(call),
        };
        self.append_json(db, at, body, &json)
    }

    fn append_json(
        &mut self,
        db: &mut Db<'_>,
        at: OffsetDateTime,
        body: EventBody,
        body_json: &str,
    ) -> Result<(), StoreError> {
        let event = store::events::append(db, at, body, body_json)?;
        let frame = event.frame_json(body_json)?;
        self.events.push(Logged { event, frame });
        Ok(())
    }

    /// How many events the batch has appended so far.
    pub(super) fn len(&self) -> usize {
        self.events.len()
    }

    /// The events appended since the batch had `from`.
    pub(super) fn since(&self, from: usize) -> impl Iterator<Item = &StreamEvent> {
        self.events[from..].iter().map(|logged| &logged.event)
    }
}

/// Answers the caller of a change once the batch's commit is known.
pub(super) type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A change: applied on the writer thread; says whether it succeeded and how to answer.
pub(super) type Change = Box<dyn FnOnce(&mut Db<'_>, &mut EventSink) -> (bool, Deliver) + Send>;

/// The queue to the writer thread and the channel it publishes on.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    changes: Arc<mpsc::SyncSender<Change>>,
    queue_capacity: usize,
    live: broadcast::Sender<Arc<Published>>,
    /// The newest seq published to the live streams.
    published: Arc<AtomicU64>,
    /// How long each batch's transaction took: until durable, or until it failed.
    commit_times: Histogram,
}

impl Writer {
    /// Starts the writer thread on `conn` with room for `queue_capacity` waiting changes (at
    /// least 1).
    pub(super) fn start(mut conn: DbConnection, queue_capacity: usize) -> Self {
        let queue_capacity = queue_capacity.max(1);
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let (changes, queue) = mpsc::sync_channel::<Change>(queue_capacity);
        let published = Arc::new(AtomicU64::new(
            store::on_own_thread(|| store::events::last_seq(&mut conn.db())).unwrap_or(0),
        ));
        let commit_times = crate::metrics::latency_buckets();
        let outlet = Outlet {
            live: live.clone(),
            seq: published.clone(),
            commit_times: commit_times.clone(),
        };
        std::thread::Builder::new()
            .name("ringside-writer".into())
            .spawn(move || write_batches(conn, queue, &outlet))
            .expect("the writer thread starts");
        Writer {
            changes: Arc::new(changes),
            queue_capacity,
            live,
            published,
            commit_times,
        }
    }

    /// The newest seq published to the live streams, shared.
    pub(super) fn published(&self) -> Arc<AtomicU64> {
        self.published.clone()
    }

    /// The newest seq published to the live streams.
    pub(super) fn published_seq(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// How long each batch's transaction took: until durable, or until it failed.
    pub(super) fn commit_times(&self) -> Histogram {
        self.commit_times.clone()
    }

    /// Live events from now on.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.live.subscribe()
    }

    /// The writer's queue without keeping the writer alive: for a thread that wakes it (see
    /// `listen`) and must end with it.
    pub(super) fn queue(&self) -> std::sync::Weak<mpsc::SyncSender<Change>> {
        Arc::downgrade(&self.changes)
    }

    /// Queues a change, or refuses it at once when the queue is full or the writer is gone.
    pub(super) fn submit(&self, change: Change) -> Result<(), StoreError> {
        self.changes.try_send(change).map_err(|e| match e {
            TrySendError::Full(_) => StoreError::Busy(self.queue_capacity),
            TrySendError::Disconnected(_) => StoreError::Closed,
        })
    }
}

/// Where the writer thread tells what it committed: the live channel, the newest seq
/// published, the time of each commit.
struct Outlet {
    live: broadcast::Sender<Arc<Published>>,
    seq: Arc<AtomicU64>,
    commit_times: Histogram,
}

/// The writer thread: takes every waiting change, commits them together, then publishes
/// their events and answers their callers. Ends when the recorder is dropped.
fn write_batches(mut conn: DbConnection, queue: mpsc::Receiver<Change>, outlet: &Outlet) {
    let db = &mut conn.db();
    let live = &outlet.live;
    // Changes written by another process (the command line) take seqs the live stream has
    // not seen; each batch publishes them from the log first, a batch without events too.
    let mut published = outlet.seq.load(Ordering::Relaxed);
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(change) => batch.push(change),
                Err(_) => break,
            }
        }
        let mut events = Vec::new();
        let mut answers = Vec::with_capacity(batch.len());
        let started = Instant::now();
        let committed = apply_batch(db, batch, &mut events, &mut answers);
        outlet.commit_times.observe(started.elapsed().as_secs_f64());
        match committed {
            Ok(()) => {
                // The log before this batch's first event, or (a batch without events) up
                // to its end, holds no event of this batch.
                let logged = match events.first() {
                    Some(first) => Ok(first.event.seq.saturating_sub(1)),
                    None => store::events::last_seq(db),
                };
                match logged {
                    Ok(logged) => {
                        published = publish_written_elsewhere(db, live, published, logged)
                    }
                    Err(e) => tracing::error!("the event log's end not read: {e}"),
                }
                published = events.last().map_or(published, |e| e.event.seq);
                publish(live, events);
                outlet.seq.store(published, Ordering::Relaxed);
                for answer in answers {
                    answer(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!("writer transaction failed: {e}");
                let message = e.to_string();
                for answer in answers {
                    answer(Err(StoreError::Batch(message.clone())));
                }
            }
        }
    }
}

/// Publishes the events other writers (the command line) put in the log after `published`
/// up to `logged`; returns the newest seq published now. Events pruned or unreadable are
/// passed over (the latter with an error in the log), so that the streams never stay behind
/// the log for good: a client that needed them gets a snapshot when it resumes.
fn publish_written_elsewhere(
    db: &mut Db<'_>,
    live: &broadcast::Sender<Arc<Published>>,
    published: u64,
    logged: u64,
) -> u64 {
    if logged <= published {
        return published;
    }
    let missed = i64::try_from(logged - published).unwrap_or(i64::MAX);
    match store::events::events_after(db, published, missed) {
        Ok(Some(written_elsewhere)) => publish(
            live,
            written_elsewhere
                .into_iter()
                .filter(|event| event.seq <= logged)
                .map(Logged::read_back)
                .collect(),
        ),
        Ok(None) => {}
        Err(e) => tracing::error!(
            "events {} to {logged}, written by another process, not sent to the streams: {e}",
            published + 1
        ),
    }
    logged
}

fn apply_batch(
    db: &mut Db<'_>,
    batch: Vec<Change>,
    events: &mut Vec<Logged>,
    answers: &mut Vec<Deliver>,
) -> Result<(), StoreError> {
    db.in_write(|db| {
        apply_changes(db, batch, events, answers)?;
        // The other nodes learn of the events at the commit (see `listen`).
        let notify = matches!(db, Db::Postgres(_))
            .then(|| events.last().map(|logged| logged.event.seq))
            .flatten();
        if let Some(seq) = notify {
            db.run(&format!("NOTIFY {CHANNEL}, '{seq}'"))?;
        }
        Ok(())
    })
}

/// Applies each change of a batch in a savepoint of the open transaction, so that a change
/// that fails or panics leaves the others alone.
fn apply_changes(
    db: &mut Db<'_>,
    batch: Vec<Change>,
    events: &mut Vec<Logged>,
    answers: &mut Vec<Deliver>,
) -> Result<(), StoreError> {
    for change in batch {
        db.run("SAVEPOINT change")?;
        let kept = events.len();
        let mut sink = EventSink { events };
        // A panicking change drops its answer while unwinding: its caller gets `Abandoned`.
        let applied = std::panic::catch_unwind(AssertUnwindSafe(|| change(db, &mut sink)));
        match applied {
            Ok((true, answer)) => {
                db.run("RELEASE change")?;
                answers.push(answer);
            }
            Ok((false, answer)) => {
                db.run("ROLLBACK TO change")?;
                db.run("RELEASE change")?;
                events.truncate(kept);
                answers.push(answer);
            }
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!("a change panicked in the writer and was rolled back: {what}");
                db.run("ROLLBACK TO change")?;
                db.run("RELEASE change")?;
                events.truncate(kept);
            }
        }
    }
    Ok(())
}

fn publish(live: &broadcast::Sender<Arc<Published>>, events: Vec<Logged>) {
    for Logged { event, frame } in events {
        // No receivers is fine: nobody is connected.
        let _ = live.send(Arc::new(Published {
            epoch: event.epoch,
            seq: event.seq,
            json: frame.into(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::*;
    use crate::store::{NewAgent, Store};

    fn agent(login: &str) -> NewAgent {
        NewAgent {
            login: login.into(),
            name: login.into(),
            role: ringside_core::agent::Role::Agent,
            numbers: vec![],
            normalized: vec![],
            identities: Default::default(),
        }
    }

    /// A change that adds the agent `login` and reports success to `done`.
    fn add(login: &'static str, done: mpsc::Sender<(&'static str, bool)>) -> Change {
        Box::new(move |db, _| {
            let added = store::agents::add(db, &agent(login), login).is_ok();
            (
                added,
                Box::new(move |committed| {
                    let _ = done.send((login, added && committed.is_ok()));
                }),
            )
        })
    }

    #[test]
    fn a_panicking_change_is_rolled_back_alone_and_the_batch_commits() {
        let dir = tempfile::tempdir().unwrap();
        let (store, conn) = Store::open(dir.path()).unwrap();
        let (done, results) = mpsc::channel();
        let (answer, answered) = oneshot::channel::<()>();
        let panicking: Change = Box::new(move |db, _| {
            let _keep_until_unwound = answer;
            store::agents::add(db, &agent("bert"), "bert").unwrap();
            panic!("a bug in one change");
        });
        let batch = vec![add("anna", done.clone()), panicking, add("carl", done)];
        let (mut events, mut answers) = (Vec::new(), Vec::new());
        apply_batch(&mut Db::Sqlite(&conn), batch, &mut events, &mut answers).unwrap();
        for answer in answers {
            answer(Ok(()));
        }
        let mut committed: Vec<_> = results.try_iter().collect();
        committed.sort();
        assert_eq!(committed, vec![("anna", true), ("carl", true)]);
        assert!(
            answered.blocking_recv().is_err(),
            "the panicking change is never answered as done"
        );
        assert!(store.agent("anna").unwrap().is_some());
        assert!(store.agent("bert").unwrap().is_none(), "rolled back");
        assert!(store.agent("carl").unwrap().is_some());
    }
}
