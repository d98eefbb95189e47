//! Presence in the writer: each agent's availability as the log and the API tell it, the
//! events a change appends when it changes an agent's, and the settling write that records
//! the agents whose live streams changed (see [`crate::online`]).

use crate::store::Db;
use std::sync::Arc;

use ringside_core::agent::{OnCall, Presence};
use ringside_core::call::{Call, CallState};
use ringside_core::stream::{EventBody, StreamEvent};
use time::OffsetDateTime;

use super::commit::{Change, EventSink, Writer};
use crate::online::Online;
use crate::store::{self, AgentRow, StoreError};
use ringside_clock::Clock;

/// Appends the presence event of `login` as it is now; returns it (`None`: no such agent).
pub(super) fn record(
    db: &mut Db<'_>,
    sink: &mut EventSink,
    online: &Online,
    login: &str,
    now: OffsetDateTime,
) -> Result<Option<Presence>, StoreError> {
    let presence = of_login(db, online, login)?;
    if let Some(presence) = &presence {
        store::nodes::say(db, login, presence.online)?;
        sink.append(
            db,
            now,
            EventBody::Presence {
                presence: presence.clone(),
            },
        )?;
    }
    Ok(presence)
}

/// The availability of `login`; `None` when there is no such agent.
pub(super) fn of_login(
    db: &mut Db<'_>,
    online: &Online,
    login: &str,
) -> Result<Option<Presence>, StoreError> {
    let Some(agent) = store::agents::by_login(db, login)? else {
        return Ok(None);
    };
    let is_online = match store::nodes::is_online(db, login)? {
        Some(on_any_node) => on_any_node,
        None => online.is_online(login),
    };
    of_agent(db, is_online, agent).map(Some)
}

/// Every agent's availability.
pub(super) fn all(db: &mut Db<'_>, online: &Online) -> Result<Vec<Presence>, StoreError> {
    let on_any_node = store::nodes::online_logins(db)?;
    store::agents::list(db)?
        .into_iter()
        .map(|agent| {
            let is_online = match &on_any_node {
                Some(logins) => logins.contains(&agent.login),
                None => online.is_online(&agent.login),
            };
            of_agent(db, is_online, agent)
        })
        .collect()
}

fn of_agent(db: &mut Db<'_>, is_online: bool, agent: AgentRow) -> Result<Presence, StoreError> {
    let on_call = store::calls::on_call_of(db, &agent.login)?.map(|call| OnCall {
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
pub(super) fn on_call_changes(before: Option<&Call>, after: &Call) -> Vec<String> {
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

/// What the presence events among `events` said about each agent's being online.
pub(super) fn said<'a>(events: impl Iterator<Item = &'a StreamEvent>) -> Vec<(String, bool)> {
    events
        .filter_map(|event| match &event.body {
            EventBody::Presence { presence } => Some((presence.login.clone(), presence.online)),
            EventBody::Call { .. } | EventBody::AgentRemoved { .. } => None,
        })
        .collect()
}

/// Queues a write that records the presence of agents whose streams changed, unless one is
/// queued already or nothing is unsaid; does not wait for it.
pub(super) fn settle(writer: &Writer, online: &Arc<Online>, clock: &Arc<dyn Clock>) {
    if online.claim_settle() {
        // A full or closed queue drops the change unrun, which hands the claim back to the
        // next write (see `SettleTicket`).
        let _ = writer.submit(settle_change(online.clone(), clock.clone()));
    }
}

/// A live stream, counted while it lives: dropping it (however the stream ends) counts it out
/// and queues the write that tells the team.
#[derive(Debug)]
pub struct LiveStream {
    login: String,
    online: Arc<Online>,
    writer: Writer,
    clock: Arc<dyn Clock>,
}

impl LiveStream {
    /// Counts a new live stream of `login` and queues the write that tells the team.
    pub(super) fn open(
        login: &str,
        online: &Arc<Online>,
        writer: &Writer,
        clock: &Arc<dyn Clock>,
    ) -> Self {
        online.opened(login);
        settle(writer, online, clock);
        LiveStream {
            login: login.to_owned(),
            online: online.clone(),
            writer: writer.clone(),
            clock: clock.clone(),
        }
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.online.closed(&self.login);
        settle(&self.writer, &self.online, &self.clock);
    }
}

/// The write that records the presence of the agents whose live state the log does not say.
pub(super) fn settle_change(online: Arc<Online>, clock: Arc<dyn Clock>) -> Change {
    let mut ticket = SettleTicket {
        online,
        started: false,
    };
    Box::new(move |db, sink| {
        ticket.started = true;
        let online = ticket.online.clone();
        let recorded = (|| -> Result<Vec<(String, bool)>, StoreError> {
            let mut said = Vec::new();
            for (login, is_online_here) in online.to_settle() {
                // On PostgreSQL the team is told whether any node streams for the agent,
                // and only when the log said otherwise.
                store::nodes::set_streaming(db, online.node(), &login, is_online_here)?;
                let is_online = store::nodes::is_online(db, &login)?.unwrap_or(is_online_here);
                if let Some(agent) = store::agents::by_login(db, &login)? {
                    if store::nodes::say(db, &login, is_online)? {
                        let presence = of_agent(db, is_online, agent)?;
                        sink.append(db, clock.now(), EventBody::Presence { presence })?;
                    }
                }
                said.push((login, is_online_here));
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
