//! What happens to every PBX event, whichever provider sent it: the decision the PBX gets
//! (reject a blocked caller, rewrite the outbound caller ID), what the hub finds out about the
//! call (who is calling, who answered, whom it is for), and the durable record. A new
//! inbound call is published with the tickets the directory kept; fresh ones from the help
//! desk follow as an update of the call, never delaying the answer.

use ringside_core::call::{CallEvent, Direction, EventKind, Provider};
use ringside_core::journal::Enrichment;
use ringside_core::number;
use ringside_core::routing::{self, PbxAnswer};

use crate::recorder::{RecordError, Recorded};
use crate::state::Hub;

/// What [`process_noting_repeats`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// What to tell the PBX.
    pub answer: PbxAnswer,
    /// False when the event changed nothing in the journal: a repeat (a retried or replayed
    /// request) or an event that came too late, so a provider that acts on the answer (a
    /// Twilio voice URL ringing agents) must not act again.
    pub changed: bool,
}

/// Decides, enriches and records one event; returns what to tell the PBX. The answer is
/// given only after the event is committed.
pub async fn process(
    hub: &Hub,
    provider: Provider,
    event: CallEvent,
) -> Result<PbxAnswer, RecordError> {
    Ok(process_noting_repeats(hub, provider, event).await?.answer)
}

/// [`process`], also telling whether the event changed the journal. The writer decides
/// that in the transaction that records the event, so of two identical requests arriving
/// together exactly one is told it changed something.
pub async fn process_noting_repeats(
    hub: &Hub,
    provider: Provider,
    mut event: CallEvent,
) -> Result<Processed, RecordError> {
    // The webhook's log line names the call (see `webhook::observe`).
    tracing::Span::current().record("call_id", event.call_id.as_str());
    let answer = decide(hub, &mut event);
    let facts = enrich(hub, provider, &event, answer == PbxAnswer::Reject)?;
    let recorded = hub
        .recorder
        .call_event(provider, &event, &facts, hub.clock.now())
        .await?;
    let new_caller = event.kind == Some(EventKind::NewCall) && facts.caller.is_some();
    if let (Recorded::Changed(call), Some(live), true) = (&recorded, &hub.live_tickets, new_caller)
    {
        if answer != PbxAnswer::Reject {
            live.after_ring(call);
        }
    }
    Ok(Processed {
        answer,
        changed: matches!(recorded, Recorded::Changed(_)),
    })
}

/// Applies the block list to inbound and the routing table to outbound new calls. A rewrite
/// replaces `from` with the caller ID chosen, as in Zammad's journal.
fn decide(hub: &Hub, event: &mut CallEvent) -> PbxAnswer {
    if event.kind != Some(EventKind::NewCall) {
        return PbxAnswer::Proceed;
    }
    let rules = hub.rules.current();
    match event.direction {
        Some(Direction::In) => {
            let Some(from) = event.from.as_deref() else {
                return PbxAnswer::Proceed;
            };
            let e164 = number::normalize(from, &hub.settings.country);
            let rule = routing::blocking_rule(
                &rules.inbound.block,
                from,
                e164.as_ref().map(|n| n.as_str()),
            );
            match rule {
                Some(_) => PbxAnswer::Reject,
                None => PbxAnswer::Proceed,
            }
        }
        Some(Direction::Out) => {
            let to = event.to.clone().unwrap_or_default();
            let caller_id = routing::outbound_caller_id(
                &rules.outbound.routes,
                Some(rules.outbound.default_caller_id.as_str()),
                &to,
            );
            match caller_id {
                Some(caller_id) => {
                    event.from = Some(caller_id.to_owned());
                    PbxAnswer::Dial {
                        caller_id: caller_id.to_owned(),
                        number: to,
                    }
                }
                None => PbxAnswer::Proceed,
            }
        }
        None => PbxAnswer::Proceed,
    }
}

/// Finds out who is calling (only for a call the journal does not have yet: an entry keeps
/// the match it was created with), who answered and whom a new call is for.
fn enrich(
    hub: &Hub,
    provider: Provider,
    event: &CallEvent,
    blocked: bool,
) -> Result<Enrichment, RecordError> {
    let country = &hub.settings.country;
    let display = |raw: &Option<String>| raw.as_deref().map(|r| number::display(r, country));
    let remote = match event.direction {
        Some(Direction::In) => event.from.as_deref(),
        Some(Direction::Out) => event.to.as_deref(),
        None => None,
    };
    let known_call = hub.store.has_call(provider, &event.call_id)?;
    // A known call keeps the match and the numbers' forms it was created with: neither is
    // worked out again (formatting a number costs more than the rest of an answer event).
    let caller = match remote
        .filter(|_| !known_call)
        .and_then(|r| number::normalize(r, country))
    {
        Some(e164) => hub.store.lookup(e164.as_str())?,
        None => None,
    };
    let answered_by = match event.kind {
        Some(EventKind::Answer) => answering_agent(hub, provider, event)?,
        _ => None,
    };
    let offered_to = match (event.kind, event.direction) {
        (Some(EventKind::NewCall), Some(Direction::In)) if blocked => Some(Vec::new()),
        (Some(EventKind::NewCall), Some(Direction::In)) => audience(hub, provider, event)?,
        _ => None,
    };
    Ok(Enrichment {
        caller,
        from_pretty: if known_call {
            None
        } else {
            display(&event.from)
        },
        to_pretty: if known_call { None } else { display(&event.to) },
        answered_by,
        offered_to,
    })
}

/// The agent who picked up: by the provider's id of the user who answered, else by the
/// answering number, else by the `user` parameter naming a login (Zammad's rules, §6.3).
fn answering_agent(
    hub: &Hub,
    provider: Provider,
    event: &CallEvent,
) -> Result<Option<String>, RecordError> {
    if let Some(user) = event.answering_user.as_deref().filter(|u| !u.is_empty()) {
        if let Some(login) = hub.store.agent_by_identity(provider, user)? {
            return Ok(Some(login));
        }
    }
    if let Some(number) = event.answering_number.as_deref().filter(|n| !n.is_empty()) {
        let owners = owners_of(hub, number)?;
        if let Some(login) = owners.into_iter().next() {
            return Ok(Some(login));
        }
    }
    if let Some(user) = event.user.as_deref() {
        let login = user.trim().to_lowercase();
        if hub.store.agent(&login)?.is_some() {
            return Ok(Some(login));
        }
    }
    Ok(None)
}

/// Whom an inbound call is for: the agents the provider offers it to (mapped by their
/// provider ids), the notify map's agents for the called number, and the agents whose own
/// number was called. `None` (everyone) when there is no notify map and the provider names
/// no agent the hub knows.
fn audience(
    hub: &Hub,
    provider: Provider,
    event: &CallEvent,
) -> Result<Option<Vec<String>>, RecordError> {
    let mut offered = Vec::new();
    for user in &event.offered_users {
        if let Some(login) = hub.store.agent_by_identity(provider, user)? {
            if !offered.contains(&login) {
                offered.push(login);
            }
        }
    }
    let current = hub.rules.current();
    let rules = &current.notify.map;
    let to = event.to.as_deref().unwrap_or_default();
    let mapped = if rules.is_empty() {
        None
    } else {
        routing::audience(rules, to, &owners_of(hub, to)?)
    };
    Ok(match (mapped, offered.is_empty()) {
        (None, true) => None,
        (None, false) => Some(offered),
        (Some(mut agents), _) => {
            for login in offered {
                if !agents.contains(&login) {
                    agents.push(login);
                }
            }
            Some(agents)
        }
    })
}

/// The logins of the agents who own a number, given raw or as its E.164 form.
fn owners_of(hub: &Hub, raw: &str) -> Result<Vec<String>, RecordError> {
    let e164 = number::normalize(raw, &hub.settings.country);
    let mut numbers = vec![raw];
    numbers.extend(e164.as_ref().map(|n| n.as_str()));
    Ok(hub.store.agents_owning(&numbers)?)
}
