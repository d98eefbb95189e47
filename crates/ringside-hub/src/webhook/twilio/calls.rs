//! What the hub does with Twilio's requests about a call (the number's voice URL, status
//! callbacks of the call and its legs, the `<Dial action>`), told apart by
//! [`twilio::classify`]: each goes into the journal through the shared pipeline, and an
//! incoming call is answered with the configured flow's TwiML.
//!
//! Ring-all: a blocked caller is rejected as busy before anything else (Twilio neither
//! answers nor bills the call); otherwise every available agent is rung at once (the call
//! is offered to them in the journal), or the caller hears `no_agent_message` when nobody
//! is available or nobody picked up. Simple-queue: see [`super::queue`]; the status
//! callbacks of its agent calls (marked by `offer`) go there and stay out of the journal.

use ringside_core::call::{CallEvent, Provider};
use ringside_core::routing::PbxAnswer;
use ringside_providers::twilio::{self, twiml, CallInfo, DialStatus, RingTarget, TwilioRequest};
use ringside_providers::Params;

use super::available::{available, owner_of};
use super::offers::Offers;
use super::queue;
use super::replies::{nobody, repeated, status_url};
use crate::config::TwilioFlow;
use crate::intake;
use crate::state::Hub;
use crate::webhook::failure::Failure;

/// Records a request about a call and returns the TwiML for Twilio; `offer` is the
/// caller's `CallSid` when the request is about an agent call of the queue flow. Every
/// request that makes a journal event is answered only once the event is stored: when the
/// store fails, Twilio gets an error (and plays its application error or requests the
/// number's fallback URL), never TwiML that pretends the call was recorded.
pub async fn answer(
    hub: &Hub,
    offers: &Offers,
    params: &Params,
    offer: Option<&str>,
) -> Result<String, Failure> {
    let request = twilio::classify(params)?;
    if let Some(caller_sid) = offer {
        return queue::agent_call(hub, offers, caller_sid, &request).await;
    }
    let Some(event) = request.journal_event() else {
        // A status callback that changes nothing in the journal: the call or a leg still
        // in progress, or a leg that ended without being answered.
        return Ok(twiml::empty());
    };
    match &request {
        TwilioRequest::IncomingCall { call, .. } => incoming(hub, offers, call, event).await,
        TwilioRequest::Dequeued {
            call,
            dequeuing_call_sid,
        } => queue::dequeued(hub, offers, call, dequeuing_call_sid, event).await,
        TwilioRequest::DialEnded { status, .. } => {
            record_event(hub, &request, event).await?;
            Ok(match status {
                DialStatus::NoAnswer | DialStatus::Busy | DialStatus::Failed => nobody(hub),
                DialStatus::Completed | DialStatus::Answered | DialStatus::Canceled => {
                    twiml::empty()
                }
            })
        }
        TwilioRequest::CallStatus(call) => {
            queue::caller_status(hub, offers, &call.call_sid, call.status).await;
            record_event(hub, &request, event).await?;
            Ok(twiml::empty())
        }
        TwilioRequest::LegStatus(_) => {
            record_event(hub, &request, event).await?;
            Ok(twiml::empty())
        }
    }
}

/// Puts a request's journal event (if it makes one) through the pipeline.
pub async fn record(hub: &Hub, request: &TwilioRequest) -> Result<PbxAnswer, Failure> {
    match request.journal_event() {
        Some(event) => record_event(hub, request, event).await,
        None => Ok(PbxAnswer::Proceed),
    }
}

/// Puts the journal event of `request` through the pipeline; an answered leg is attributed
/// to the agent whose phone it rang.
async fn record_event(
    hub: &Hub,
    request: &TwilioRequest,
    mut event: CallEvent,
) -> Result<PbxAnswer, Failure> {
    if let TwilioRequest::LegStatus(leg) = request {
        name_the_agent(hub, &leg.target, &mut event).await?;
    }
    Ok(intake::process(hub, Provider::Twilio, event).await?)
}

/// The answer to the voice URL, by flow. A request for a call the journal already has (a
/// retry or a replay of the voice URL request) rings nobody: see [`repeated`].
async fn incoming(
    hub: &Hub,
    offers: &Offers,
    call: &CallInfo,
    mut event: CallEvent,
) -> Result<String, Failure> {
    let config = &hub.settings.config.twilio;
    if config.flow == TwilioFlow::SimpleQueue {
        return queue::incoming(hub, offers, call, event).await;
    }
    if config.flow != TwilioFlow::RingAll {
        // A Studio flow routes the call itself and never requests the voice URL.
        tracing::error!(
            "Twilio call {} reached the voice URL, which the {:?} flow does not serve; \
             the caller hears no_agent_message",
            call.call_sid,
            config.flow
        );
        return Ok(match intake::process(hub, Provider::Twilio, event).await? {
            PbxAnswer::Reject => twiml::reject_busy(),
            _ => nobody(hub),
        });
    }
    let mut agents = available(hub, call.from.as_deref()).await?;
    agents.truncate(twiml::MAX_DIAL_TARGETS);
    event.offered_users = agents.iter().map(|a| a.identity.clone()).collect();
    let processed = intake::process_noting_repeats(hub, Provider::Twilio, event).await?;
    if processed.answer == PbxAnswer::Reject {
        return Ok(twiml::reject_busy());
    }
    if !processed.changed {
        return Ok(repeated(call));
    }
    let targets: Vec<RingTarget> = agents.into_iter().map(|a| a.target).collect();
    let callback = status_url(hub);
    let caller_id = Some(config.number.trim()).filter(|n| !n.is_empty());
    Ok(
        twiml::ring_all(&targets, caller_id, config.ring_secs, &callback, &callback)
            .unwrap_or_else(|| nobody(hub)),
    )
}

/// Names the agent who answered by the identity they are stored with, so the pipeline
/// finds them whether Twilio wrote the phone as dialed or reformatted it, and shows the
/// agent's name as the journal's `to_comment`.
async fn name_the_agent(
    hub: &Hub,
    target: &RingTarget,
    event: &mut CallEvent,
) -> Result<(), Failure> {
    if let Some((agent, identity)) = owner_of(hub, target).await? {
        event.answering_user = Some(identity);
        event.user = Some(agent.name);
    }
    Ok(())
}
