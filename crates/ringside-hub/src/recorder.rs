//! The one writer of everything the stream reports.
//!
//! Each change is one SQLite transaction that updates the state and appends its events to the
//! event log; only after the commit are the events published to live stream clients. The
//! writer connection is held for the whole sequence, so seq order, commit order and publish
//! order are the same.

use std::collections::HashMap;
use std::sync::{Arc, Mutex as SyncMutex};

use ringside_core::agent::{OnCall, Presence};
use ringside_core::call::{Call, CallEvent, CallState, Provider};
use ringside_core::journal::{self, Enrichment, JournalError, Outcome};
use ringside_core::stream::{EventBody, ServerMessage, Snapshot, StreamEvent};
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, SqliteExecutor};
use thiserror::Error;
use time::OffsetDateTime;
use tokio::sync::{broadcast, Mutex};

use crate::store::{self, AgentChange, AgentRow, NewAgent, Store, StoreError};

/// How many published events a slow stream client may fall behind before it is resynced
/// with a snapshot.
const LIVE_CAPACITY: usize = 4096;

/// The most open missed calls a snapshot carries.
const SNAPSHOT_MISSED_LIMIT: i64 = 500;

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

impl From<sqlx::Error> for RecordError {
    fn from(e: sqlx::Error) -> Self {
        RecordError::Store(StoreError::Database(e))
    }
}

/// An event as live stream clients receive it: serialized once for all of them.
#[derive(Debug)]
pub struct Published {
    /// The event's seq.
    pub seq: u64,
    /// The JSON text of the [`ServerMessage::Event`].
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

/// The writer; see the module documentation.
#[derive(Debug)]
pub struct Recorder {
    conn: Mutex<SqliteConnection>,
    store: Store,
    live: broadcast::Sender<Arc<Published>>,
    online: SyncMutex<HashMap<String, usize>>,
}

impl Recorder {
    /// Wraps the store's writer connection.
    pub fn new(store: Store, conn: SqliteConnection) -> Self {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        Recorder {
            conn: Mutex::new(conn),
            store,
            live,
            online: SyncMutex::new(HashMap::new()),
        }
    }

    /// Live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.live.subscribe()
    }

    /// Applies one PBX event to the journal, durably.
    pub async fn call_event(
        &self,
        provider: Provider,
        event: &CallEvent,
        facts: &Enrichment,
        now: OffsetDateTime,
    ) -> Result<Recorded, RecordError> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await?;
        let existing = store::calls::find(&mut tx, provider, &event.call_id).await?;
        let call = match journal::apply(provider, existing.as_ref(), event, facts, now)? {
            Outcome::Unchanged => return Ok(Recorded::Unchanged),
            Outcome::Created(mut call) => {
                store::calls::insert(&mut tx, &mut call).await?;
                call
            }
            Outcome::Changed(call) => {
                store::calls::update(&mut tx, &call).await?;
                call
            }
        };
        let mut bodies = vec![EventBody::Call {
            call: Box::new(call.clone()),
        }];
        for login in on_call_changes(existing.as_ref(), &call) {
            if let Some(presence) = self.presence_in(&mut tx, &login).await? {
                bodies.push(EventBody::Presence { presence });
            }
        }
        let events = self.append_all(&mut tx, now, bodies).await?;
        tx.commit().await?;
        self.publish(events);
        Ok(Recorded::Changed(Box::new(call)))
    }

    /// Marks journal entries done or not done; returns the entries that changed.
    pub async fn set_done(
        &self,
        ids: &[i64],
        done: bool,
        now: OffsetDateTime,
    ) -> Result<Vec<Call>, RecordError> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await?;
        let mut changed = Vec::new();
        for mut call in store::calls::by_ids(&mut *tx, ids).await? {
            if call.done != done {
                call.done = done;
                call.updated_at = now;
                store::calls::update(&mut tx, &call).await?;
                changed.push(call);
            }
        }
        let bodies = changed
            .iter()
            .map(|call| EventBody::Call {
                call: Box::new(call.clone()),
            })
            .collect();
        let events = self.append_all(&mut tx, now, bodies).await?;
        tx.commit().await?;
        self.publish(events);
        Ok(changed)
    }

    /// Closes calls left ringing since before `cutoff` as missed; returns how many.
    pub async fn expire_ringing(
        &self,
        cutoff: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<usize, RecordError> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await?;
        let mut bodies = Vec::new();
        for call in store::calls::ringing_before(&mut tx, cutoff).await? {
            let expired = journal::expire(&call, now);
            store::calls::update(&mut tx, &expired).await?;
            bodies.push(EventBody::Call {
                call: Box::new(expired),
            });
        }
        let count = bodies.len();
        let events = self.append_all(&mut tx, now, bodies).await?;
        tx.commit().await?;
        self.publish(events);
        Ok(count)
    }

    /// Deletes stream events older than `cutoff`, keeping at least the newest `keep`.
    pub async fn prune_events(
        &self,
        cutoff: OffsetDateTime,
        keep: i64,
    ) -> Result<u64, RecordError> {
        let mut conn = self.conn.lock().await;
        Ok(store::events::prune(&mut conn, cutoff, keep).await?)
    }

    /// Sets an agent's do-not-disturb flag; `None` when there is no such agent.
    pub async fn set_dnd(
        &self,
        login: &str,
        dnd: bool,
        now: OffsetDateTime,
    ) -> Result<Option<Presence>, RecordError> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await?;
        let Some(before) = store::agents::by_login(&mut *tx, login).await? else {
            return Ok(None);
        };
        if before.dnd == dnd {
            return self.presence_in(&mut tx, login).await;
        }
        store::agents::set_dnd(&mut tx, login, dnd).await?;
        self.record_presence(tx, login, now).await
    }

    /// Creates an agent; `None` when the login is taken.
    pub async fn add_agent(
        &self,
        agent: &NewAgent,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Presence>, RecordError> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await?;
        if store::agents::add(&mut tx, agent, token_hash)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        self.record_presence(tx, &agent.login, now).await
    }

    /// Changes an agent's details; `None` when there is no such agent.
    pub async fn update_agent(
        &self,
        login: &str,
        change: &AgentChange,
        now: OffsetDateTime,
    ) -> Result<Option<Presence>, RecordError> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await?;
        if store::agents::update(&mut tx, login, change)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        self.record_presence(tx, login, now).await
    }

    /// Removes an agent (its token stops working); false when there is no such agent.
    pub async fn remove_agent(
        &self,
        login: &str,
        now: OffsetDateTime,
    ) -> Result<bool, RecordError> {
        let mut conn = self.conn.lock().await;
        let mut tx = conn.begin().await?;
        if !store::agents::remove(&mut tx, login).await? {
            return Ok(false);
        }
        let body = EventBody::AgentRemoved {
            login: login.to_owned(),
        };
        let events = self.append_all(&mut tx, now, vec![body]).await?;
        tx.commit().await?;
        self.publish(events);
        Ok(true)
    }

    /// Replaces an agent's token; false when there is no such agent.
    pub async fn set_token(&self, login: &str, token_hash: &str) -> Result<bool, RecordError> {
        let mut conn = self.conn.lock().await;
        Ok(store::agents::set_token(&mut conn, login, token_hash).await?)
    }

    /// Counts a new live stream of `login`; the agent comes online with the first.
    pub async fn connected(&self, login: &str, now: OffsetDateTime) -> Result<(), RecordError> {
        self.online_change(login, now, true).await
    }

    /// Counts a closed live stream of `login`; the agent goes offline with the last.
    pub async fn disconnected(&self, login: &str, now: OffsetDateTime) -> Result<(), RecordError> {
        self.online_change(login, now, false).await
    }

    async fn online_change(
        &self,
        login: &str,
        now: OffsetDateTime,
        up: bool,
    ) -> Result<(), RecordError> {
        let mut conn = self.conn.lock().await;
        let changed = {
            let mut online = self.online.lock().expect("online map lock");
            let count = online.entry(login.to_owned()).or_default();
            let was_online = *count > 0;
            *count = if up {
                *count + 1
            } else {
                count.saturating_sub(1)
            };
            let is_online = *count > 0;
            if !is_online {
                online.remove(login);
            }
            was_online != is_online
        };
        if changed {
            let tx = conn.begin().await?;
            self.record_presence(tx, login, now).await?;
        }
        Ok(())
    }

    /// Whether `login` has a live stream.
    pub fn is_online(&self, login: &str) -> bool {
        self.online
            .lock()
            .expect("online map lock")
            .contains_key(login)
    }

    /// The current state for a client that cannot be brought up to date by replay.
    pub async fn snapshot(&self) -> Result<Snapshot, RecordError> {
        let mut tx = self.store.pool().begin().await?;
        let seq = store::events::last_seq(&mut *tx).await?;
        let active_calls = store::calls::active(&mut *tx).await?;
        let open_missed_calls = store::calls::open_missed(&mut *tx, SNAPSHOT_MISSED_LIMIT).await?;
        let mut presence = Vec::new();
        for agent in store::agents::list(&mut *tx).await? {
            presence.push(self.presence_of(&mut *tx, agent).await?);
        }
        tx.commit().await?;
        Ok(Snapshot {
            epoch: self.store.epoch().to_owned(),
            seq,
            recovered: false,
            active_calls,
            open_missed_calls,
            presence,
        })
    }

    /// Every agent's availability.
    pub async fn presence_list(&self) -> Result<Vec<Presence>, RecordError> {
        let mut conn = self.store.pool().acquire().await?;
        let mut presence = Vec::new();
        for agent in store::agents::list(&mut *conn).await? {
            presence.push(self.presence_of(&mut *conn, agent).await?);
        }
        Ok(presence)
    }

    /// One agent's availability.
    pub async fn presence(&self, login: &str) -> Result<Option<Presence>, RecordError> {
        let mut conn = self.store.pool().acquire().await?;
        self.presence_in(&mut conn, login).await
    }

    async fn record_presence(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Sqlite>,
        login: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Presence>, RecordError> {
        let presence = self.presence_in(&mut tx, login).await?;
        let bodies = presence
            .iter()
            .map(|p| EventBody::Presence {
                presence: p.clone(),
            })
            .collect();
        let events = self.append_all(&mut tx, now, bodies).await?;
        tx.commit().await?;
        self.publish(events);
        Ok(presence)
    }

    async fn presence_in(
        &self,
        conn: &mut SqliteConnection,
        login: &str,
    ) -> Result<Option<Presence>, RecordError> {
        let Some(agent) = store::agents::by_login(&mut *conn, login).await? else {
            return Ok(None);
        };
        Ok(Some(self.presence_of(conn, agent).await?))
    }

    async fn presence_of<'c>(
        &self,
        conn: impl SqliteExecutor<'c>,
        agent: AgentRow,
    ) -> Result<Presence, RecordError> {
        let on_call = store::calls::on_call_of(conn, &agent.login)
            .await?
            .map(|call| OnCall {
                call: call.id,
                with: call
                    .caller
                    .as_ref()
                    .and_then(|m| m.comment())
                    .unwrap_or_else(|| call.remote_party().to_owned()),
                since: call.start_at.unwrap_or(call.updated_at),
            });
        Ok(Presence {
            online: self.is_online(&agent.login),
            login: agent.login,
            name: agent.name,
            role: agent.role,
            numbers: agent.numbers,
            dnd: agent.dnd,
            on_call,
        })
    }

    async fn append_all(
        &self,
        conn: &mut SqliteConnection,
        now: OffsetDateTime,
        bodies: Vec<EventBody>,
    ) -> Result<Vec<StreamEvent>, RecordError> {
        let mut events = Vec::with_capacity(bodies.len());
        for body in bodies {
            events.push(store::events::append(conn, self.store.epoch(), now, body).await?);
        }
        Ok(events)
    }

    fn publish(&self, events: Vec<StreamEvent>) {
        for event in events {
            let seq = event.seq;
            let json = serde_json::to_string(&ServerMessage::Event(event))
                .expect("stream events serialize");
            // No receivers is fine: nobody is connected.
            let _ = self.live.send(Arc::new(Published { seq, json }));
        }
    }
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
