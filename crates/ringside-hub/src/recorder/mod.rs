//! The one writer of everything the stream reports: the changes the hub makes to the
//! journal, the agents and the event log, each applied on the writer thread and committed
//! durably before its caller hears back.
//!
//! [`commit`] is the engine (the writer thread, its bounded queue, group commit, publishing
//! after the commit); [`presence`] says what a change does to the agents' availability;
//! [`callers`] brings recent calls in step with the directory; [`tickets`] gives a ringing
//! call the tickets fetched from the help desk; [`call_tickets`] queues a call's Zammad
//! ticket and writes the ticket onto the call; this module holds the changes themselves.

pub mod call_tickets;
pub mod callers;
mod commit;
mod listen;
mod presence;
pub mod tickets;

use crate::store::{Db, DbConnection};
use std::sync::Arc;

use ringside_core::agent::Presence;
use ringside_core::call::{Call, CallEvent, CallState, Provider};
use ringside_core::journal::{self, Enrichment, JournalError, Outcome};
use ringside_core::number::DefaultCountry;
use ringside_core::stream::{EventBody, Snapshot};
use ringside_providers::zammad_relay;
use thiserror::Error;
use time::OffsetDateTime;
use tokio::sync::{broadcast, oneshot};

use self::call_tickets::{CallTicketing, TicketRequest};
use self::commit::{Change, Writer};
pub use self::commit::{EventSink, Published};
pub use self::presence::LiveStream;
use crate::online::Online;
use crate::store::outbox::OutboxItem;
use crate::store::signal::{Outgoing, Receivers, Signal};
use crate::store::{self, AgentChange, NewAgent, Store, StoreError};
use ringside_clock::{Clock, SystemClock};

/// The most open missed calls a snapshot carries.
const SNAPSHOT_MISSED_LIMIT: i64 = 500;

/// The most active calls a snapshot carries, newest first: far more than a team talks on.
const SNAPSHOT_ACTIVE_LIMIT: i64 = 5_000;

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

/// What a call event did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// The call was created or changed; this is it now.
    Changed(Box<Call>),
    /// A repeated or out-of-order event: nothing changed.
    Unchanged,
}

/// The writer; see the module documentation. Clones share the one writer thread (the
/// Zammad sync holds one to refresh the journal's callers after its passes).
#[derive(Debug, Clone)]
pub struct Recorder {
    writer: Writer,
    store: Store,
    online: Arc<Online>,
    /// The time of the presence events the settling write records.
    clock: Arc<dyn Clock>,
    /// Where call changes are also queued for Zammad's caller log; `None`: nowhere.
    relay: Option<Arc<RelayOutbox>>,
    /// What this node does when another node signals (on PostgreSQL).
    signals: Arc<Receivers>,
}

/// What the writer needs to queue a call's change for Zammad's caller log (and the call's
/// ticket, when calls are logged as tickets) in the change's own transaction: nothing is
/// forwarded that was not recorded, nothing recorded is lost.
#[derive(Debug, Clone)]
pub struct RelayOutbox {
    /// Whether call changes go to Zammad's caller log (`[zammad] relay`).
    pub cti: bool,
    /// How calls are logged as tickets; `None`: not at all (not configured).
    pub tickets: Option<CallTicketing>,
    /// The country that national numbers are read in.
    pub country: DefaultCountry,
    /// The most items the outbox holds; beyond, new ones are dropped and logged.
    pub cap: u64,
    /// Wakes the relay when items become due without a published event (failed items
    /// made pending again, a ticket an agent asked for).
    pub wake: Arc<tokio::sync::Notify>,
    /// Told whenever the relay has recorded what became of an item, for an agent waiting
    /// on a ticket.
    pub outcomes: Arc<tokio::sync::Notify>,
}

impl RelayOutbox {
    /// Queues the events that bring Zammad's entry from `before` to `call`.
    fn queue(
        &self,
        db: &mut Db<'_>,
        before: Option<&Call>,
        call: &Call,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if let Some(tickets) = &self.tickets {
            tickets.on_change(db, before, call, self.cap, now)?;
        }
        if !self.cti {
            return Ok(());
        }
        let events = zammad_relay::events(before, call, &self.country);
        let dropped = store::outbox::enqueue(db, &events, now, self.cap)?;
        if dropped > 0 {
            tracing::error!(
                "the Zammad relay's outbox is full ({} items, zammad.relay_outbox_max): {dropped} \
                 event(s) of call {} will not reach Zammad's caller log; is Zammad reachable?",
                self.cap,
                zammad_relay::zammad_call_id(call),
            );
        }
        Ok(())
    }
}

impl Recorder {
    /// Starts the writer thread on the store's writer connection, with the default queue and
    /// the system's clock.
    pub fn new(store: Store, conn: impl Into<DbConnection>) -> Self {
        Self::with_queue(store, conn, DEFAULT_QUEUE, Arc::new(SystemClock))
    }

    /// Starts the writer thread with room for `queue_capacity` waiting changes (at least 1),
    /// timing the presence it records by `clock`.
    pub fn with_queue(
        store: Store,
        conn: impl Into<DbConnection>,
        queue_capacity: usize,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let writer = Writer::start(conn.into(), queue_capacity);
        let online: Arc<Online> = Arc::default();
        let signals = Arc::new(Receivers::of(online.node()));
        if let Some(server) = store.postgres_server() {
            listen::spawn(
                server,
                &writer,
                online.clone(),
                signals.clone(),
                clock.clone(),
            );
        }
        Recorder {
            writer,
            store,
            online,
            clock,
            relay: None,
            signals,
        }
    }

    /// From now on, queues every call change for Zammad's caller log in `outbox`. The
    /// relay's signals from other nodes wake it and those waiting on its outcomes.
    pub fn relaying_to(mut self, outbox: RelayOutbox) -> Self {
        let wake = outbox.wake.clone();
        self.signals
            .on(Signal::ZammadRelay, move || wake.notify_one());
        let outcomes = outbox.outcomes.clone();
        self.signals
            .on(Signal::TicketOutcome, move || outcomes.notify_waiters());
        self.relay = Some(Arc::new(outbox));
        self
    }

    /// What this node does when another node signals: the tasks it runs for the hub
    /// register here.
    pub fn signals(&self) -> &Receivers {
        &self.signals
    }

    /// Sends `signal` to the other nodes now; nothing on SQLite.
    pub async fn signal(&self, signal: Signal) -> Result<(), StoreError> {
        if !self.store.is_shared() {
            return Ok(());
        }
        let outgoing = self.outgoing(signal);
        self.store.read(move |db| outgoing.send(db)).await
    }

    /// `signal`, signed by this node, to send from within a change.
    fn outgoing(&self, signal: Signal) -> Outgoing {
        Outgoing::new(signal, self.online.node())
    }

    /// Live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.writer.subscribe()
    }

    /// The newest seq this hub has sent to its live streams: behind the event log's while
    /// events another process wrote wait for the next batch.
    pub fn published_seq(&self) -> u64 {
        self.writer.published_seq()
    }

    /// How long each of the writer's transactions took (until durable, or until it failed),
    /// for `/metrics`.
    pub fn commit_times(&self) -> prometheus_client::metrics::histogram::Histogram {
        self.writer.commit_times()
    }

    /// Runs a change on the writer thread and waits until it is committed.
    async fn write<T, F>(&self, change: F) -> Result<T, RecordError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db<'_>, &mut EventSink) -> Result<T, RecordError> + Send + 'static,
    {
        // Presence that a failed write left unsaid is said before anything else.
        presence::settle(&self.writer, &self.online, &self.clock);
        let (answer, answered) = oneshot::channel();
        let online = self.online.clone();
        let writer = self.writer.clone();
        let clock = self.clock.clone();
        let change: Change = Box::new(move |db, sink| {
            let first = sink.len();
            match change(db, sink) {
                Ok(value) => {
                    // What this node's streams were last recorded as, to settle them: on
                    // PostgreSQL, presence events speak for all nodes, so only the settling
                    // write says what this node recorded (see `presence::settle`).
                    let said = match db {
                        Db::Sqlite(_) => presence::said(sink.since(first)),
                        Db::Postgres(_) => Vec::new(),
                    };
                    (
                        true,
                        Box::new(move |committed| {
                            if committed.is_ok() && !said.is_empty() {
                                online.said(said);
                                presence::settle(&writer, &online, &clock);
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
        self.writer.submit(change)?;
        // The writer took the change; an answer dropped unsent means the change panicked.
        answered
            .await
            .map_err(|_| RecordError::Store(StoreError::Abandoned))?
    }

    /// Starts a new epoch if the event log is still in `from` (see
    /// [`store::events::rotate_epoch`]); returns the epoch now.
    pub async fn rotate_epoch(&self, from: &str) -> Result<String, RecordError> {
        let from = from.to_owned();
        self.write(move |db, _| Ok(store::events::rotate_epoch(db, &from)?))
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
        let relay = self.relay.clone();
        self.write(move |db, sink| {
            let existing = store::calls::find(db, provider, &event.call_id)?;
            let (call, call_json) =
                match journal::apply(provider, existing.as_ref(), &event, &facts, now)? {
                    Outcome::Unchanged => return Ok(Recorded::Unchanged),
                    Outcome::Created(mut call) => {
                        store::calls::insert(db, &mut call)?;
                        // The row keeps the call without its id, which the event needs.
                        let json = serde_json::to_string(&call).map_err(StoreError::from)?;
                        (call, json)
                    }
                    Outcome::Changed(call) => {
                        let json = store::calls::update(db, &call)?;
                        (call, json)
                    }
                };
            append_call(db, sink, &online, existing.as_ref(), &call, &call_json, now)?;
            if let Some(relay) = &relay {
                relay.queue(db, existing.as_ref(), &call, now)?;
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
        self.write(move |db, sink| {
            let mut changed = Vec::new();
            for mut call in store::calls::by_ids(db, &ids)? {
                if call.done != done {
                    call.done = done;
                    call.updated_at = now;
                    store::calls::update(db, &call)?;
                    sink.append(
                        db,
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

    /// Forgets the nodes of a hub on PostgreSQL whose heartbeat stopped, and tells the team
    /// that the agents who streamed only from them are offline; returns how many. Nothing
    /// on SQLite.
    pub async fn reap_nodes(&self) -> Result<usize, RecordError> {
        let online = self.online.clone();
        let clock = self.clock.clone();
        self.write(move |db, sink| {
            let gone = store::nodes::reap(db)?;
            for login in &gone {
                presence::record(db, sink, &online, login, clock.now())?;
            }
            Ok(gone.len())
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
        let relay = self.relay.clone();
        self.write(move |db, sink| {
            let mut left = store::calls::left_in(db, CallState::Ringing, ringing_cutoff)?;
            left.extend(store::calls::left_in(
                db,
                CallState::Answered,
                talking_cutoff,
            )?);
            for call in &left {
                let expired = journal::expire(call, now);
                let json = store::calls::update(db, &expired)?;
                append_call(db, sink, &online, Some(call), &expired, &json, now)?;
                if let Some(relay) = &relay {
                    relay.queue(db, Some(call), &expired, now)?;
                }
            }
            Ok(left.len())
        })
        .await
    }

    /// Gives the calls of the last [`callers::REFRESH_DAYS`] days before `now` (at most
    /// 10,000, newest first) the directory's current match for their caller's number, in
    /// batches of 500 so that webhooks are written between them; each call whose match
    /// changed is appended as a call event. Returns how many changed. Run after the
    /// directory changed (a Zammad sync pass, an import). Zammad's caller log is not told:
    /// Zammad back-fills its own.
    pub async fn refresh_callers(
        &self,
        country: &DefaultCountry,
        now: OffsetDateTime,
    ) -> Result<usize, RecordError> {
        let since = callers::window_start(now);
        let mut before = i64::MAX;
        let (mut looked, mut changed) = (0, 0);
        while looked < callers::REFRESH_MAX_CALLS {
            let limit = callers::REFRESH_BATCH.min(callers::REFRESH_MAX_CALLS - looked);
            let country = country.clone();
            let batch = self
                .write(move |db, sink| {
                    Ok(callers::refresh_batch(
                        db, sink, &country, since, before, limit, now,
                    )?)
                })
                .await?;
            looked += batch.looked;
            changed += batch.changed;
            match batch.next_before {
                Some(next) => before = next,
                None => break,
            }
        }
        Ok(changed)
    }

    /// Stores the tickets just fetched from the help desk for some of call `call_id`'s
    /// candidates (each contact's as its cache, replacing the earlier ones) and gives the
    /// call those tickets; the call is appended as a call event (open popups refresh in
    /// place) only when its match changed. Returns whether it did.
    pub async fn live_tickets(
        &self,
        call_id: i64,
        fetched: Vec<tickets::ContactTickets>,
        now: OffsetDateTime,
    ) -> Result<bool, RecordError> {
        self.write(move |db, sink| Ok(tickets::apply(db, sink, call_id, &fetched, now)?))
            .await
    }

    /// Deletes stream events older than `cutoff`, keeping at least the newest `keep`.
    pub async fn prune_events(
        &self,
        cutoff: OffsetDateTime,
        keep: i64,
    ) -> Result<usize, RecordError> {
        self.write(move |db, _| Ok(store::events::prune(db, cutoff, keep)?))
            .await
    }

    /// Posts of these outbox items begin (see [`store::outbox::sending`]).
    pub async fn relay_sending(&self, ids: &[i64]) -> Result<(), RecordError> {
        let ids = ids.to_vec();
        self.write(move |db, _| Ok(store::outbox::sending(db, &ids)?))
            .await
    }

    /// Zammad took an outbox item: it leaves the outbox.
    pub async fn relay_delivered(&self, id: i64) -> Result<(), RecordError> {
        self.write(move |db, _| Ok(store::outbox::delivered(db, id)?))
            .await
    }

    /// An outbox item could not be delivered now: it is tried again at `next_at`.
    pub async fn relay_retry(
        &self,
        id: i64,
        next_at: OffsetDateTime,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<(), RecordError> {
        let error = error.to_owned();
        self.write(move |db, _| Ok(store::outbox::retry_at(db, id, next_at, &error, now)?))
            .await
    }

    /// An outbox item will never be delivered; with `whole_call`, neither will its call's
    /// later items.
    pub async fn relay_failed(
        &self,
        item: &OutboxItem,
        whole_call: bool,
        error: &str,
        now: OffsetDateTime,
    ) -> Result<(), RecordError> {
        let (item, error) = (item.clone(), error.to_owned());
        self.write(move |db, _| Ok(store::outbox::fail(db, &item, whole_call, &error, now)?))
            .await
    }

    /// Makes every failed outbox item pending again and wakes the relay; returns how many.
    pub async fn relay_retry_failed(&self, now: OffsetDateTime) -> Result<usize, RecordError> {
        let outgoing = self.outgoing(Signal::ZammadRelay);
        let retried = self
            .write(move |db, _| {
                let retried = store::outbox::retry_failed(db, now)?;
                outgoing.send(db)?;
                Ok(retried)
            })
            .await?;
        if let Some(relay) = &self.relay {
            relay.wake.notify_one();
        }
        Ok(retried)
    }

    /// What wakes the relay when failed items are made pending again; `None` when the
    /// recorder does not relay.
    pub fn relay_wake(&self) -> Option<Arc<tokio::sync::Notify>> {
        self.relay.as_ref().map(|relay| relay.wake.clone())
    }

    /// An agent asks for call `id`'s ticket: queues its job (unless it has a ticket or a
    /// job) and wakes the relay. `None` when calls cannot be logged as tickets here.
    pub async fn request_ticket(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<TicketRequest>, RecordError> {
        let Some(relay) = self.relay.clone() else {
            return Ok(None);
        };
        let Some(tickets) = relay.tickets.clone() else {
            return Ok(None);
        };
        let cap = relay.cap;
        let outgoing = self.outgoing(Signal::ZammadRelay);
        let request = self
            .write(move |db, _| {
                let request = tickets.request(db, id, cap, now)?;
                if matches!(request, TicketRequest::Queued) {
                    outgoing.send(db)?;
                }
                Ok(request)
            })
            .await?;
        relay.wake.notify_one();
        Ok(Some(request))
    }

    /// Zammad has call ticket job `item` (outbox key `key`) in `ticket`: the item leaves
    /// the outbox and the call shows the ticket (a call update on the stream).
    pub async fn ticket_logged(
        &self,
        item: i64,
        key: &str,
        ticket: ringside_core::call::CallTicket,
        now: OffsetDateTime,
    ) -> Result<(), RecordError> {
        let call = store::call_tickets::call_of(key);
        self.write(move |db, sink| {
            store::outbox::delivered(db, item)?;
            if let Some(call) = call {
                if let Some(call) = call_tickets::record(db, call, ticket, now)? {
                    sink.append(
                        db,
                        now,
                        EventBody::Call {
                            call: Box::new(call),
                        },
                    )?;
                }
            }
            Ok(())
        })
        .await
    }

    /// Tells those waiting on the relay that it recorded an outcome of `item`: here, and
    /// on the other nodes when it is a ticket job (an agent may wait there).
    pub async fn relay_outcome_recorded(&self, item: &OutboxItem) {
        if let Some(relay) = &self.relay {
            relay.outcomes.notify_waiters();
        }
        if store::call_tickets::call_of(&item.call_id).is_some() {
            if let Err(e) = self.signal(Signal::TicketOutcome).await {
                tracing::warn!("telling the other nodes of a ticket's outcome: {e}");
            }
        }
    }

    /// What is told when the relay recorded an outcome; `None` when the recorder does not
    /// relay.
    pub fn relay_outcomes(&self) -> Option<Arc<tokio::sync::Notify>> {
        self.relay.as_ref().map(|relay| relay.outcomes.clone())
    }

    /// Where call `id`'s ticket job stands; `None` when it has none.
    pub async fn ticket_job(
        &self,
        id: i64,
    ) -> Result<Option<store::call_tickets::JobState>, RecordError> {
        Ok(self
            .store
            .read(move |db| store::call_tickets::job_state(db, id))
            .await?)
    }

    /// Deletes failed outbox items queued before `cutoff`.
    pub async fn prune_relay_failures(&self, cutoff: OffsetDateTime) -> Result<usize, RecordError> {
        self.write(move |db, _| Ok(store::outbox::prune_failed(db, cutoff)?))
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
        self.write(move |db, sink| {
            let Some(before) = store::agents::by_login(db, &login)? else {
                return Ok(None);
            };
            if before.dnd == dnd {
                return Ok(presence::of_login(db, &online, &login)?);
            }
            store::agents::set_dnd(db, &login, dnd)?;
            Ok(presence::record(db, sink, &online, &login, now)?)
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
        self.write(move |db, sink| {
            if store::agents::add(db, &agent, &token_hash)?.is_none() {
                return Ok(None);
            }
            Ok(presence::record(db, sink, &online, &agent.login, now)?)
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
        self.write(move |db, sink| {
            if store::agents::update(db, &login, &change)?.is_none() {
                return Ok(None);
            }
            Ok(presence::record(db, sink, &online, &login, now)?)
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
            .write(move |db, sink| {
                if !store::agents::remove(db, &login)? {
                    return Ok(None);
                }
                sink.append(
                    db,
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
        self.write(move |db, _| Ok(store::agents::set_token(db, &login, &token_hash)?))
            .await
    }

    /// Counts a live stream of `login` until the returned guard is dropped: the agent is
    /// online from now on while it has one. The presence event that tells the team is
    /// written after; [`Recorder::settled`] waits for it.
    pub fn stream_opened(&self, login: &str) -> LiveStream {
        LiveStream::open(login, &self.online, &self.writer, &self.clock)
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
            .read(move |db| {
                db.snapshot(|db| {
                    Ok(Snapshot {
                        epoch: store::events::epoch(db)?,
                        seq: store::events::last_seq(db)?,
                        recovered: false,
                        active_calls: store::calls::active(db, SNAPSHOT_ACTIVE_LIMIT)?,
                        open_missed_calls: store::calls::open_missed(db, SNAPSHOT_MISSED_LIMIT)?,
                        presence: presence::all(db, &online)?,
                    })
                })
            })
            .await?)
    }

    /// Every agent's availability.
    pub async fn presence_list(&self) -> Result<Vec<Presence>, RecordError> {
        let online = self.online.clone();
        Ok(self
            .store
            .read(move |db| presence::all(db, &online))
            .await?)
    }

    /// One agent's availability.
    pub async fn presence(&self, login: &str) -> Result<Option<Presence>, RecordError> {
        let login = login.to_owned();
        let online = self.online.clone();
        Ok(self
            .store
            .read(move |db| presence::of_login(db, &online, &login))
            .await?)
    }
}

/// Appends a call's event (`call_json` being the call's JSON), then the presence events of
/// the agents whose on-a-call status the change from `before` to `call` changed.
fn append_call(
    db: &mut Db<'_>,
    sink: &mut EventSink,
    online: &Online,
    before: Option<&Call>,
    call: &Call,
    call_json: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sink.append_call(db, now, call.clone(), call_json)?;
    for login in presence::on_call_changes(before, call) {
        if let Some(presence) = presence::of_login(db, online, &login)? {
            sink.append(db, now, EventBody::Presence { presence })?;
        }
    }
    Ok(())
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
