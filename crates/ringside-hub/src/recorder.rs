//! The one writer of everything the stream reports.
//!
//! A dedicated thread owns the writer connection. Changes queue up for it; it takes every
//! change waiting and applies them in one transaction (group commit: one `fsync` for all of
//! them), each inside its own savepoint so that a change that fails leaves the others alone.
//! A change updates the state and appends its events to the event log; only after the commit
//! are the events published to live stream clients and the callers answered. One thread, so
//! seq order, commit order and publish order are the same.
//!
//! The queue is bounded: when the writer falls that far behind, a change is refused at once
//! with [`StoreError::Busy`] (answered 503) instead of piling up memory and latency. A change
//! that panics is rolled back alone and fails with [`StoreError::Abandoned`]; the thread and
//! the rest of the batch carry on.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, TrySendError};
use std::sync::Arc;

use ringside_core::agent::{OnCall, Presence};
use ringside_core::call::{Call, CallEvent, CallState, Provider};
use ringside_core::journal::{self, Enrichment, JournalError, Outcome};
use ringside_core::stream::{EventBody, Snapshot, StreamEvent, StreamFrame};
use rusqlite::Connection;
use thiserror::Error;
use time::OffsetDateTime;
use tokio::sync::{broadcast, oneshot};

use crate::online::Online;
use crate::store::{self, AgentChange, AgentRow, NewAgent, Store, StoreError};

/// How many published events a slow stream client may fall behind before it is dropped (it
/// resumes from the log when it connects again).
const LIVE_CAPACITY: usize = 4096;

/// The most open missed calls a snapshot carries.
const SNAPSHOT_MISSED_LIMIT: i64 = 500;

/// The most active calls a snapshot carries, newest first: far more than a team talks on.
const SNAPSHOT_ACTIVE_LIMIT: i64 = 5_000;

/// The most changes committed together.
const MAX_BATCH: usize = 512;

/// The most changes waiting for the writer, unless configured otherwise.
pub const DEFAULT_QUEUE: usize = 4096;

/// Why a change was not recorded.
#[derive(Debug, Error)]
pub enum RecordError {
    /// The event breaks the journal's rules; nothing was stored.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The store failed; nothing was stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for RecordError {
    fn from(e: rusqlite::Error) -> Self {
        RecordError::Store(StoreError::Database(e))
    }
}

/// An event as live stream clients receive it: serialized once for all of them.
#[derive(Debug)]
pub struct Published {
    /// The event's epoch; a stream that sent another one needs a snapshot instead.
    pub epoch: String,
    /// The event's seq.
    pub seq: u64,
    /// The JSON text of the [`StreamFrame::Event`].
    pub json: String,
}

/// What a call event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// The call was created or changed; this is it now.
    Changed(Box<Call>),
    /// A repeated or out-of-order event: nothing changed.
    Unchanged,
}

/// Where a change appends its events; the writer publishes them after the commit.
pub struct EventSink<'a> {
    events: &'a mut Vec<StreamEvent>,
}

impl EventSink<'_> {
    fn append(
        &mut self,
        conn: &Connection,
        at: OffsetDateTime,
        body: EventBody,
    ) -> Result<(), StoreError> {
        self.events.push(store::events::append(conn, at, body)?);
        Ok(())
    }
}

/// Answers the caller of a change once the batch's commit is known.
type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A change: applied on the writer thread; says whether it succeeded and how to answer.
type Change = Box<dyn FnOnce(&Connection, &mut EventSink) -> (bool, Deliver) + Send>;

/// The writer; see the module documentation.
#[derive(Debug)]
pub struct Recorder {
    changes: mpsc::SyncSender<Change>,
    queue_capacity: usize,
    store: Store,
    live: broadcast::Sender<Arc<Published>>,
    online: Arc<Online>,
}

impl Recorder {
    /// Starts the writer thread on the store's writer connection, with the default queue.
    pub fn new(store: Store, conn: Connection) -> Self {
        Self::with_queue(store, conn, DEFAULT_QUEUE)
    }

    /// Starts the writer thread with room for `queue_capacity` waiting changes (at least 1).
    pub fn with_queue(store: Store, conn: Connection, queue_capacity: usize) -> Self {
        let queue_capacity = queue_capacity.max(1);
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let (changes, queue) = mpsc::sync_channel::<Change>(queue_capacity);
        let publisher = live.clone();
        std::thread::Builder::new()
            .name("ringside-writer".into())
            .spawn(move || write_batches(conn, queue, &publisher))
            .expect("the writer thread starts");
        Recorder {
            changes,
            queue_capacity,
            store,
            live,
            online: Arc::default(),
        }
    }

    /// Live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.live.subscribe()
    }

    /// Runs a change on the writer thread and waits until it is committed.
    async fn write<T, F>(&self, change: F) -> Result<T, RecordError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut EventSink) -> Result<T, RecordError> + Send + 'static,
    {
        // Presence that a failed write left unsaid is said before anything else.
        self.settle_presence();
        let (answer, answered) = oneshot::channel();
        let online = self.online.clone();
        let changes = self.changes.clone();
        let change: Change = Box::new(move |conn, sink| {
            let first = sink.events.len();
            match change(conn, sink) {
                Ok(value) => {
                    let said = presence_said(&sink.events[first..]);
                    (
                        true,
                        Box::new(move |committed| {
                            if committed.is_ok() && !said.is_empty() {
                                online.said(said);
                                if online.claim_settle() {
                                    let _ = changes.try_send(settle_change(online));
                                }
                            }
                            let _ =
                                answer.send(committed.map(|()| value).map_err(RecordError::from));
                        }),
                    )
                }
                Err(e) => (
                    false,
                    Box::new(move |_| {
                        let _ = answer.send(Err(e));
                    }),
                ),
            }
        });
        self.changes.try_send(change).map_err(|e| match e {
            TrySendError::Full(_) => RecordError::Store(StoreError::Busy(self.queue_capacity)),
            TrySendError::Disconnected(_) => RecordError::Store(StoreError::Closed),
        })?;
        // The writer took the change; an answer dropped unsent means the change panicked.
        answered
            .await
            .map_err(|_| RecordError::Store(StoreError::Abandoned))?
    }

    /// Queues a write that records the presence of agents whose streams changed, unless one
    /// is queued already or nothing is unsaid; does not wait for it.
    fn settle_presence(&self) {
        if self.online.claim_settle() {
            // A full or closed queue drops the change unrun, which hands the claim back to the
            // next write (see `SettleTicket`).
            let _ = self.changes.try_send(settle_change(self.online.clone()));
        }
    }

    /// Starts a new epoch if the event log is still in `from` (see
    /// [`store::events::rotate_epoch`]); returns the epoch now.
    pub async fn rotate_epoch(&self, from: &str) -> Result<String, RecordError> {
        let from = from.to_owned();
        self.write(move |conn, _| Ok(store::events::rotate_epoch(conn, &from)?))
            .await
    }

    /// Applies one PBX event to the journal, durably.
    pub async fn call_event(
        &self,
        provider: Provider,
        event: &CallEvent,
        facts: &Enrichment,
        now: OffsetDateTime,
    ) -> Result<Recorded, RecordError> {
        let event = event.clone();
        let facts = facts.clone();
        let online = self.online.clone();
        self.write(move |conn, sink| {
            let existing = store::calls::find(conn, provider, &event.call_id)?;
            let call = match journal::apply(provider, existing.as_ref(), &event, &facts, now)? {
                Outcome::Unchanged => return Ok(Recorded::Unchanged),
                Outcome::Created(mut call) => {
                    store::calls::insert(conn, &mut call)?;
                    call
                }
                Outcome::Changed(call) => {
                    store::calls::update(conn, &call)?;
                    call
                }
            };
            sink.append(
                conn,
                now,
                EventBody::Call {
                    call: Box::new(call.clone()),
                },
            )?;
            for login in on_call_changes(existing.as_ref(), &call) {
                if let Some(presence) = presence_in(conn, &online, &login)? {
                    sink.append(conn, now, EventBody::Presence { presence })?;
                }
            }
            Ok(Recorded::Changed(Box::new(call)))
        })
        .await
    }

    /// Marks journal entries done or not done; returns the entries that changed.
    pub async fn set_done(
        &self,
        ids: &[i64],
        done: bool,
        now: OffsetDateTime,
    ) -> Result<Vec<Call>, RecordError> {
        let ids = ids.to_vec();
        self.write(move |conn, sink| {
            let mut changed = Vec::new();
            for mut call in store::calls::by_ids(conn, &ids)? {
                if call.done != done {
                    call.done = done;
                    call.updated_at = now;
                    store::calls::update(conn, &call)?;
                    sink.append(
                        conn,
                        now,
                        EventBody::Call {
                            call: Box::new(call.clone()),
                        },
                    )?;
                    changed.push(call);
                }
            }
            Ok(changed)
        })
        .await
    }

    /// Closes the calls the PBX never ended: ringing since before `ringing_cutoff` (as missed)
    /// or answered and started before `talking_cutoff`; returns how many.
    pub async fn expire_calls(
        &self,
        ringing_cutoff: OffsetDateTime,
        talking_cutoff: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<usize, RecordError> {
        let online = self.online.clone();
        self.write(move |conn, sink| {
            let mut left = store::calls::left_in(conn, CallState::Ringing, ringing_cutoff)?;
            left.extend(store::calls::left_in(
                conn,
                CallState::Answered,
                talking_cutoff,
            )?);
            for call in &left {
                let expired = journal::expire(call, now);
                store::calls::update(conn, &expired)?;
                sink.append(
                    conn,
                    now,
                    EventBody::Call {
                        call: Box::new(expired.clone()),
                    },
                )?;
                for login in on_call_changes(Some(call), &expired) {
                    if let Some(presence) = presence_in(conn, &online, &login)? {
                        sink.append(conn, now, EventBody::Presence { presence })?;
                    }
                }
            }
            Ok(left.len())
        })
        .await
    }

    /// Deletes stream events older than `cutoff`, keeping at least the newest `keep`.
    pub async fn prune_events(
        &self,
        cutoff: OffsetDateTime,
        keep: i64,
    ) -> Result<usize, RecordError> {
        self.write(move |conn, _| Ok(store::events::prune(conn, cutoff, keep)?))
            .await
    }

    /// Sets an agent's do-not-disturb flag; `None` when there is no such agent.
    pub async fn set_dnd(
        &self,
        login: &str,
        dnd: bool,
        now: OffsetDateTime,
    ) -> Result<Option<Presence>, RecordError> {
        let login = login.to_owned();
        let online = self.online.clone();
        self.write(move |conn, sink| {
            let Some(before) = store::agents::by_login(conn, &login)? else {
                return Ok(None);
            };
            if before.dnd == dnd {
                return Ok(presence_in(conn, &online, &login)?);
            }
            store::agents::set_dnd(conn, &login, dnd)?;
            record_presence(conn, sink, &online, &login, now)
        })
        .await
    }

    /// Creates an agent; `None` when the login is taken.
    pub async fn add_agent(
        &self,
        agent: &NewAgent,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Presence>, RecordError> {
        let agent = agent.clone();
        let token_hash = token_hash.to_owned();
        let online = self.online.clone();
        self.write(move |conn, sink| {
            if store::agents::add(conn, &agent, &token_hash)?.is_none() {
                return Ok(None);
            }
            record_presence(conn, sink, &online, &agent.login, now)
        })
        .await
    }

    /// Changes an agent's details; `None` when there is no such agent.
    pub async fn update_agent(
        &self,
        login: &str,
        change: &AgentChange,
        now: OffsetDateTime,
    ) -> Result<Option<Presence>, RecordError> {
        let login = login.to_owned();
        let change = change.clone();
        let online = self.online.clone();
        self.write(move |conn, sink| {
            if store::agents::update(conn, &login, &change)?.is_none() {
                return Ok(None);
            }
            record_presence(conn, sink, &online, &login, now)
        })
        .await
    }

    /// Removes an agent (its token stops working); false when there is no such agent.
    pub async fn remove_agent(
        &self,
        login: &str,
        now: OffsetDateTime,
    ) -> Result<bool, RecordError> {
        let login = login.to_owned();
        let online = self.online.clone();
        let removed = self
            .write(move |conn, sink| {
                if !store::agents::remove(conn, &login)? {
                    return Ok(None);
                }
                sink.append(
                    conn,
                    now,
                    EventBody::AgentRemoved {
                        login: login.clone(),
                    },
                )?;
                Ok(Some(login))
            })
            .await?;
        if let Some(login) = &removed {
            online.forget(login);
        }
        Ok(removed.is_some())
    }

    /// Replaces an agent's token; false when there is no such agent.
    pub async fn set_token(&self, login: &str, token_hash: &str) -> Result<bool, RecordError> {
        let login = login.to_owned();
        let token_hash = token_hash.to_owned();
        self.write(move |conn, _| Ok(store::agents::set_token(conn, &login, &token_hash)?))
            .await
    }

    /// Counts a live stream of `login` until the returned guard is dropped: the agent is
    /// online from now on while it has one. The presence event that tells the team is
    /// written after; [`Recorder::settled`] waits for it.
    pub fn stream_opened(&self, login: &str) -> LiveStream {
        self.online.opened(login);
        self.settle_presence();
        LiveStream {
            login: login.to_owned(),
            online: self.online.clone(),
            changes: self.changes.clone(),
        }
    }

    /// Waits until the presence of every agent whose streams changed is recorded (or the
    /// write failed; the next write tries again).
    pub async fn settled(&self) -> Result<(), RecordError> {
        self.write(|_, _| Ok(())).await
    }

    /// The current state for a client that cannot be brought up to date by replay.
    pub async fn snapshot(&self) -> Result<Snapshot, RecordError> {
        let online = self.online.clone();
        Ok(self
            .store
            .read(move |conn| {
                let tx = conn.unchecked_transaction()?;
                let snapshot = Snapshot {
                    epoch: store::events::epoch(&tx)?,
                    seq: store::events::last_seq(&tx)?,
                    recovered: false,
                    active_calls: store::calls::active(&tx, SNAPSHOT_ACTIVE_LIMIT)?,
                    open_missed_calls: store::calls::open_missed(&tx, SNAPSHOT_MISSED_LIMIT)?,
                    presence: presence_all(&tx, &online)?,
                };
                tx.finish()?;
                Ok(snapshot)
            })
            .await?)
    }

    /// Every agent's availability.
    pub async fn presence_list(&self) -> Result<Vec<Presence>, RecordError> {
        let online = self.online.clone();
        Ok(self
            .store
            .read(move |conn| presence_all(conn, &online))
            .await?)
    }

    /// One agent's availability.
    pub async fn presence(&self, login: &str) -> Result<Option<Presence>, RecordError> {
        let login = login.to_owned();
        let online = self.online.clone();
        Ok(self
            .store
            .read(move |conn| presence_in(conn, &online, &login))
            .await?)
    }
}

/// The writer thread: takes every waiting change, commits them together, then publishes
/// their events and answers their callers. Ends when the recorder is dropped.
fn write_batches(
    conn: Connection,
    queue: mpsc::Receiver<Change>,
    live: &broadcast::Sender<Arc<Published>>,
) {
    // Changes written by another process (the command line) take seqs the live stream has
    // not seen; they are published from the log before the next batch.
    let mut published = store::events::last_seq(&conn).unwrap_or(0);
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
        let committed = apply_batch(&conn, batch, &mut events, &mut answers);
        match committed {
            Ok(()) => {
                if let Some(next) = events.first().map(|e| e.seq) {
                    if next > published + 1 {
                        let missed = (next - published - 1) as i64;
                        match store::events::events_after(&conn, published, missed) {
                            Ok(Some(written_elsewhere)) => publish(live, written_elsewhere),
                            Ok(None) => {}
                            Err(e) => tracing::error!("events written elsewhere not read: {e}"),
                        }
                    }
                    published = events.last().map_or(published, |e| e.seq);
                }
                publish(live, events);
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

fn apply_batch(
    conn: &Connection,
    batch: Vec<Change>,
    events: &mut Vec<StreamEvent>,
    answers: &mut Vec<Deliver>,
) -> Result<(), StoreError> {
    // IMMEDIATE: take the write lock now, waiting for another writer (the command line)
    // instead of failing on a snapshot that went stale.
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    for change in batch {
        tx.execute_batch("SAVEPOINT change")?;
        let kept = events.len();
        let mut sink = EventSink { events };
        // A panicking change drops its answer while unwinding: its caller gets `Abandoned`.
        let applied = std::panic::catch_unwind(AssertUnwindSafe(|| change(&tx, &mut sink)));
        match applied {
            Ok((true, answer)) => {
                tx.execute_batch("RELEASE change")?;
                answers.push(answer);
            }
            Ok((false, answer)) => {
                tx.execute_batch("ROLLBACK TO change; RELEASE change")?;
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
                tx.execute_batch("ROLLBACK TO change; RELEASE change")?;
                events.truncate(kept);
            }
        }
    }
    tx.commit()?;
    Ok(())
}

fn publish(live: &broadcast::Sender<Arc<Published>>, events: Vec<StreamEvent>) {
    for event in events {
        let seq = event.seq;
        let epoch = event.epoch.clone();
        let json =
            serde_json::to_string(&StreamFrame::Event(event)).expect("stream events serialize");
        // No receivers is fine: nobody is connected.
        let _ = live.send(Arc::new(Published { epoch, seq, json }));
    }
}

fn record_presence(
    conn: &Connection,
    sink: &mut EventSink,
    online: &Online,
    login: &str,
    now: OffsetDateTime,
) -> Result<Option<Presence>, RecordError> {
    let presence = presence_in(conn, online, login)?;
    if let Some(presence) = &presence {
        sink.append(
            conn,
            now,
            EventBody::Presence {
                presence: presence.clone(),
            },
        )?;
    }
    Ok(presence)
}

fn presence_in(
    conn: &Connection,
    online: &Online,
    login: &str,
) -> Result<Option<Presence>, StoreError> {
    store::agents::by_login(conn, login)?
        .map(|agent| {
            let is_online = online.is_online(&agent.login);
            presence_of(conn, is_online, agent)
        })
        .transpose()
}

fn presence_all(conn: &Connection, online: &Online) -> Result<Vec<Presence>, StoreError> {
    store::agents::list(conn)?
        .into_iter()
        .map(|agent| {
            let is_online = online.is_online(&agent.login);
            presence_of(conn, is_online, agent)
        })
        .collect()
}

fn presence_of(
    conn: &Connection,
    is_online: bool,
    agent: AgentRow,
) -> Result<Presence, StoreError> {
    let on_call = store::calls::on_call_of(conn, &agent.login)?.map(|call| OnCall {
        call: call.id,
        with: call
            .caller
            .as_ref()
            .and_then(|m| m.comment())
            .unwrap_or_else(|| call.remote_party().to_owned()),
        since: call.start_at.unwrap_or(call.updated_at),
    });
    Ok(Presence {
        online: is_online,
        login: agent.login,
        name: agent.name,
        role: agent.role,
        numbers: agent.numbers,
        identities: agent.identities,
        dnd: agent.dnd,
        out_of_office: agent.out_of_office,
        on_call,
    })
}

/// The agents whose on-a-call status changes when `before` becomes `after`.
fn on_call_changes(before: Option<&Call>, after: &Call) -> Vec<String> {
    let on_call = |call: &Call| {
        (call.state == CallState::Answered)
            .then(|| call.answered_by.clone())
            .flatten()
    };
    let was = before.and_then(on_call);
    let is = on_call(after);
    if was == is {
        return Vec::new();
    }
    was.into_iter().chain(is).collect()
}

/// A live stream, counted while it lives: dropping it (however the stream ends) counts it out
/// and queues the write that tells the team.
#[derive(Debug)]
pub struct LiveStream {
    login: String,
    online: Arc<Online>,
    changes: mpsc::SyncSender<Change>,
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.online.closed(&self.login);
        if self.online.claim_settle() {
            let _ = self.changes.try_send(settle_change(self.online.clone()));
        }
    }
}

/// The write that records the presence of the agents whose live state the log does not say.
fn settle_change(online: Arc<Online>) -> Change {
    let mut ticket = SettleTicket {
        online,
        started: false,
    };
    Box::new(move |conn, sink| {
        ticket.started = true;
        let online = ticket.online.clone();
        let recorded = (|| -> Result<Vec<(String, bool)>, StoreError> {
            let mut said = Vec::new();
            for (login, is_online) in online.to_settle() {
                if let Some(agent) = store::agents::by_login(conn, &login)? {
                    let presence = presence_of(conn, is_online, agent)?;
                    sink.append(
                        conn,
                        OffsetDateTime::now_utc(),
                        EventBody::Presence { presence },
                    )?;
                }
                said.push((login, is_online));
            }
            Ok(said)
        })();
        match recorded {
            Ok(said) => (
                true,
                Box::new(move |committed| {
                    // Not committed: the agents stay unsettled for the next write.
                    if committed.is_ok() {
                        online.said(said);
                    }
                }),
            ),
            Err(e) => {
                tracing::error!("presence not recorded: {e}");
                (false, Box::new(|_| {}))
            }
        }
    })
}

/// A queued settling write: if it is dropped without running (its batch could not even
/// begin), the next write queues another.
struct SettleTicket {
    online: Arc<Online>,
    started: bool,
}

impl Drop for SettleTicket {
    fn drop(&mut self) {
        if !self.started {
            self.online.settle_dropped();
        }
    }
}

/// What the presence events among `events` said about each agent's being online.
fn presence_said(events: &[StreamEvent]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::Presence { presence } => Some((presence.login.clone(), presence.online)),
            EventBody::Call { .. } | EventBody::AgentRemoved { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        Box::new(move |conn, _| {
            let added = store::agents::add(conn, &agent(login), login).is_ok();
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
        let panicking: Change = Box::new(move |conn, _| {
            let _keep_until_unwound = answer;
            store::agents::add(conn, &agent("bert"), "bert").unwrap();
            panic!("a bug in one change");
        });
        let batch = vec![add("anna", done.clone()), panicking, add("carl", done)];
        let (mut events, mut answers) = (Vec::new(), Vec::new());
        apply_batch(&conn, batch, &mut events, &mut answers).unwrap();
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

    #[tokio::test]
    async fn the_writer_survives_a_panicking_change_and_its_caller_gets_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (store, conn) = Store::open(dir.path()).unwrap();
        let recorder = Recorder::new(store.clone(), conn);
        let failed = recorder
            .write(|_, _| -> Result<(), RecordError> { panic!("a bug in one change") })
            .await;
        assert!(
            matches!(failed, Err(RecordError::Store(StoreError::Abandoned))),
            "{failed:?}"
        );
        let added = recorder
            .add_agent(&agent("anna"), "hash", OffsetDateTime::UNIX_EPOCH)
            .await
            .unwrap();
        assert!(added.is_some(), "later changes are still written");
    }
}
