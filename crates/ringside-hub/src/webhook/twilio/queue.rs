//! The simple-queue flow: the caller waits in a queue of their own (named after their
//! `CallSid`, so an agent is only ever bridged to the caller they were offered) with
//! Twilio's hold music, while the hub offers the call to one available agent at a time.
//!
//! An offer is a call the hub creates through the REST API to the agent's phone, ringing
//! `ring_secs`, whose TwiML takes the caller out of the queue ([`twiml::dial_queue`]). Its
//! status callbacks come back to `status?offer=<caller's CallSid>` and never touch the
//! journal; when it ends without the caller having been taken (no answer, busy, failed,
//! canceled, or answered and hung up), the next available agent not yet tried is offered
//! the call. The `<Queue url>` request (`Dequeued`) records the answer by the agent whose
//! call took the caller. When every available agent was tried, the caller hears
//! `no_agent_message` and is hung up; when the caller hangs up first, the ringing agent
//! call is hung up and nobody else is rung.

use ringside_core::call::{CallEvent, Provider};
use ringside_core::routing::PbxAnswer;
use ringside_providers::twilio::{twiml, CallInfo, CallStatus, TwilioRequest};

use super::available::{available, line_of, Available};
use super::offers::Offers;
use super::replies::{nobody, repeated, status_url};
use super::rest;
use crate::intake;
use crate::state::Hub;
use crate::webhook::failure::Failure;

/// The query parameter that marks an agent call's status callback, with the caller's
/// `CallSid`.
pub const OFFER_PARAM: &str = "offer";

/// The progress reported for an agent call; only its end matters to the flow.
const AGENT_CALL_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

/// How an attempt to offer the call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// An agent's phone is ringing.
    Ringing,
    /// Every available agent was tried; the offer is over.
    NobodyLeft,
    /// The caller left meanwhile.
    Gone,
}

/// Answers an incoming call: records it (offered to the available agents), then rejects a
/// blocked caller or a repeated request (no agent is called again), or puts the caller in their queue while the first agent is rung, or
/// tells them nobody is available.
pub async fn incoming(
    hub: &Hub,
    offers: &Offers,
    call: &CallInfo,
    mut event: CallEvent,
) -> Result<String, Failure> {
    let agents = available(hub, call.from.as_deref()).await?;
    event.offered_users = agents.iter().map(|a| a.identity.clone()).collect();
    let processed = intake::process_noting_repeats(hub, Provider::Twilio, event).await?;
    if processed.answer == PbxAnswer::Reject {
        return Ok(twiml::reject_busy());
    }
    if !processed.changed {
        return Ok(repeated(call));
    }
    if agents.is_empty() {
        return Ok(nobody(hub));
    }
    offers.open(&call.call_sid, call.from.clone());
    Ok(match offer_next(hub, offers, &call.call_sid).await? {
        Next::Ringing => twiml::enqueue(&call.call_sid, None, &status_url(hub)),
        Next::NobodyLeft | Next::Gone => nobody(hub),
    })
}

/// A status callback of an agent call offering `caller_sid`: kept out of the journal; its
/// end without a dequeue moves the offer on.
pub async fn agent_call(
    hub: &Hub,
    offers: &Offers,
    caller_sid: &str,
    request: &TwilioRequest,
) -> Result<String, Failure> {
    if let TwilioRequest::CallStatus(leg) = request {
        if leg.status.is_final()
            && offers.leg_ended(caller_sid, &leg.call_sid)
            && offer_next(hub, offers, caller_sid).await? == Next::NobodyLeft
        {
            send_away(hub, caller_sid).await;
        }
    }
    Ok(twiml::empty())
}

/// The `<Queue url>` request: the caller is taken by an agent's call, recorded as
/// answered by that agent. Answered only once the answer is stored: when the store fails,
/// Twilio gets an error instead of TwiML.
pub async fn dequeued(
    hub: &Hub,
    offers: &Offers,
    call: &CallInfo,
    dequeuing_call_sid: &str,
    mut event: CallEvent,
) -> Result<String, Failure> {
    if let Some(agent) = offers.dequeued(&call.call_sid, dequeuing_call_sid) {
        event.answering_user = Some(agent.identity);
        event.user = Some(agent.name);
    }
    intake::process(hub, Provider::Twilio, event).await?;
    Ok(twiml::empty())
}

/// The call `caller_sid` reported a status: once it is over, nobody else is offered it and
/// the agent call still ringing for it is hung up.
pub async fn caller_status(hub: &Hub, offers: &Offers, caller_sid: &str, status: CallStatus) {
    if !status.is_final() {
        return;
    }
    if let Some(leg_sid) = offers.close(caller_sid) {
        hang_up(hub, &leg_sid).await;
    }
}

/// Rings the first available agent not tried yet; an agent whose call Twilio refuses is
/// skipped.
async fn offer_next(hub: &Hub, offers: &Offers, caller_sid: &str) -> Result<Next, Failure> {
    loop {
        let Some(untried) = offers.untried(caller_sid) else {
            return Ok(Next::Gone);
        };
        let next = available(hub, untried.caller.as_deref())
            .await?
            .into_iter()
            .find(|agent| !untried.tried.contains(&agent.login));
        let Some(agent) = next else {
            offers.close(caller_sid);
            return Ok(Next::NobodyLeft);
        };
        if !offers.trying(caller_sid, &agent.login) {
            return Ok(Next::Gone);
        }
        let login = agent.login.clone();
        let twilio = &hub.settings.config.twilio;
        match rest::create_call(twilio, &agent_call_form(hub, caller_sid, &agent)).await {
            Ok(leg_sid) if offers.ringing(caller_sid, leg_sid.clone(), agent) => {
                return Ok(Next::Ringing)
            }
            Ok(leg_sid) => {
                hang_up(hub, &leg_sid).await;
                return Ok(Next::Gone);
            }
            Err(e) => tracing::warn!("Twilio call {caller_sid} not offered to {login}: {e}"),
        }
    }
}

/// Hangs up an agent call whose caller left.
async fn hang_up(hub: &Hub, leg_sid: &str) {
    let form = [("Status", "completed".to_owned())];
    if let Err(e) = rest::update_call(&hub.settings.config.twilio, leg_sid, &form).await {
        tracing::warn!("Twilio agent call {leg_sid} not hung up: {e}");
    }
}

/// The REST form of the call that offers `caller_sid` to `agent`.
fn agent_call_form(hub: &Hub, caller_sid: &str, agent: &Available) -> Vec<(&'static str, String)> {
    let twilio = &hub.settings.config.twilio;
    let status = status_url(hub);
    let callback = format!("{status}?{OFFER_PARAM}={}", query_value(caller_sid));
    let mut form = vec![
        ("To", line_of(&agent.target)),
        ("From", twilio.number.trim().to_owned()),
        ("Twiml", twiml::dial_queue(caller_sid, &status)),
        ("StatusCallback", callback),
    ];
    form.extend(
        AGENT_CALL_EVENTS
            .iter()
            .map(|event| ("StatusCallbackEvent", (*event).to_owned())),
    );
    form.push(("Timeout", twilio.ring_secs.to_string()));
    form
}

/// `value` encoded for a URL's query.
fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Tells the waiting caller nobody is available and hangs up, by replacing the call's
/// TwiML; if Twilio refuses, the caller keeps hearing hold music until they hang up.
async fn send_away(hub: &Hub, caller_sid: &str) {
    let form = [("Twiml", nobody(hub))];
    if let Err(e) = rest::update_call(&hub.settings.config.twilio, caller_sid, &form).await {
        tracing::warn!("Twilio queued call {caller_sid} not sent away: {e}");
    }
}
