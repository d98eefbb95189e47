//! What the hub forwards to Zammad's generic CTI endpoint (`POST /api/v1/cti/:token`) so
//! that Zammad's own caller log follows every call the hub records, whichever provider it
//! came through: the JSON bodies Zammad reads ([`generic`](crate::generic) is the other
//! way round), derived from a journal change.
//!
//! Zammad refuses a second `newCall` for a call id and an `answer` or `hangup` for a call id
//! it does not know, so a change is turned into the events that bring Zammad's entry from
//! the call's previous state to its new one: a call the hub first saw answered or ended gets
//! its `newCall` first, and a change Zammad would ignore or refuse (anything after the
//! hangup) gives none.

use ringside_core::call::{Call, CallState, Direction, EventKind};
use ringside_core::journal::{RING_TIMEOUT_CAUSE, TALK_TIMEOUT_CAUSE};
use ringside_core::number::{self, DefaultCountry};
use serde_json::{json, Map, Value};

/// One event for Zammad: which it is and the JSON body to post.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayEvent {
    /// `newCall`, `answer` or `hangup`.
    pub kind: EventKind,
    /// The call id Zammad knows the call by (see [`zammad_call_id`]).
    pub call_id: String,
    /// The request body.
    pub body: Value,
}

/// The call id a call has in Zammad: the provider's name before the provider's id, since two
/// providers may use the same id and Zammad's ids are one namespace.
pub fn zammad_call_id(call: &Call) -> String {
    format!("{}-{}", call.provider.as_str(), call.call_id)
}

/// The events that take Zammad's entry for `after` from where `before` left it (`None`:
/// the call is new to the journal), in order.
pub fn events(before: Option<&Call>, after: &Call, country: &DefaultCountry) -> Vec<RelayEvent> {
    let mut kinds = Vec::new();
    match before.map(|call| call.state) {
        None => {
            kinds.push(EventKind::NewCall);
            if after.start_at.is_some() {
                kinds.push(EventKind::Answer);
            }
            if after.state == CallState::Ended {
                kinds.push(EventKind::Hangup);
            }
        }
        Some(CallState::Ringing) => {
            if after.start_at.is_some() {
                kinds.push(EventKind::Answer);
            }
            if after.state == CallState::Ended {
                kinds.push(EventKind::Hangup);
            }
        }
        Some(CallState::Answered) if after.state == CallState::Ended => {
            kinds.push(EventKind::Hangup);
        }
        // Zammad ignores an answer after the hangup, and a second hangup would only move
        // its end: what changes after the end stays in the hub's journal.
        Some(CallState::Answered | CallState::Ended) => {}
    }
    kinds
        .into_iter()
        .map(|kind| RelayEvent {
            kind,
            call_id: zammad_call_id(after),
            body: body(kind, after, country),
        })
        .collect()
}

/// The body of one event about `call`, with the fields Zammad reads for it.
pub fn body(kind: EventKind, call: &Call, country: &DefaultCountry) -> Value {
    let mut body = Map::new();
    let event = match kind {
        EventKind::NewCall => "newCall",
        EventKind::Answer => "answer",
        EventKind::Hangup => "hangup",
    };
    body.insert("event".into(), json!(event));
    body.insert("from".into(), json!(zammad_number(&call.from, country)));
    body.insert("to".into(), json!(zammad_number(&call.to, country)));
    body.insert("direction".into(), json!(call.direction.as_str()));
    body.insert("callId".into(), json!(zammad_call_id(call)));
    if let Some(queue) = &call.queue {
        body.insert("queue".into(), json!(queue));
    }
    // On inbound calls `user` names whom the call is for, on outbound calls who calls.
    let user = match call.direction {
        Direction::In => call.to_comment.as_ref(),
        Direction::Out => call.from_comment.as_ref(),
    };
    match kind {
        EventKind::NewCall => {
            if let Some(user) = user.filter(|user| !user.trim().is_empty()) {
                body.insert("user".into(), json!(user));
            }
        }
        EventKind::Answer | EventKind::Hangup => {
            // Zammad finds the agent by phone, then login: the hub's login of who answered
            // pops the caller on that agent's Zammad screen.
            if let Some(login) = &call.answered_by {
                body.insert("answeringNumber".into(), json!(login));
            }
        }
    }
    if kind == EventKind::Hangup {
        body.insert("cause".into(), json!(zammad_cause(call)));
    }
    Value::Object(body)
}

/// A number as Zammad's examples send it: international digits without `+`; anything that
/// is not a number (`anonymous`, a SIP id, an extension) as the PBX sent it.
pub fn zammad_number(raw: &str, country: &DefaultCountry) -> String {
    match number::normalize(raw, country) {
        Some(e164) => e164.as_str().trim_start_matches('+').to_owned(),
        None => raw.to_owned(),
    }
}

/// The hangup cause in Zammad's words: the PBX's own, or for a call the hub closed itself,
/// `noAnswer` (it rang too long) or `normalClearing` (its hangup never came).
fn zammad_cause(call: &Call) -> String {
    match call.comment.as_deref() {
        Some(RING_TIMEOUT_CAUSE) => "noAnswer".into(),
        Some(TALK_TIMEOUT_CAUSE) => "normalClearing".into(),
        Some(cause) if !cause.is_empty() => cause.into(),
        _ if call.start_at.is_some() => "normalClearing".into(),
        _ => "cancel".into(),
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::call::Provider;
    use time::macros::datetime;

    use super::*;

    fn germany() -> DefaultCountry {
        DefaultCountry::from_iso("DE").unwrap()
    }

    /// The call of Zammad's documented example: `newCall` from 490301234567 to
    /// 4930609811111, for the agents "Alice Smith" and "Bob Smith".
    fn ringing() -> Call {
        let at = datetime!(2026-11-21 10:00:00 UTC);
        Call {
            id: 1,
            provider: Provider::Placetel,
            call_id: "f4d2b2a0".into(),
            direction: Direction::In,
            state: CallState::Ringing,
            from: "+49 30 1234567".into(),
            from_comment: None,
            from_pretty: String::new(),
            to: "030609811111".into(),
            to_comment: Some("Alice Smith, Bob Smith".into()),
            to_pretty: String::new(),
            queue: Some("support".into()),
            comment: None,
            done: false,
            initialized_at: Some(at),
            start_at: None,
            end_at: None,
            duration_waiting_time: None,
            duration_talking_time: None,
            answered_by: None,
            offered_to: None,
            caller: None,
            ticket: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn answered() -> Call {
        Call {
            state: CallState::Answered,
            start_at: Some(datetime!(2026-11-21 10:00:05 UTC)),
            answered_by: Some("anna".into()),
            ..ringing()
        }
    }

    fn ended(from: Call, cause: &str) -> Call {
        Call {
            state: CallState::Ended,
            comment: Some(cause.into()),
            end_at: Some(datetime!(2026-11-21 10:01:00 UTC)),
            ..from
        }
    }

    fn kinds(events: &[RelayEvent]) -> Vec<EventKind> {
        events.iter().map(|event| event.kind).collect()
    }

    #[test]
    fn a_new_call_is_zammads_documented_new_call_body() {
        let events = events(None, &ringing(), &germany());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].call_id, "placetel-f4d2b2a0");
        assert_eq!(
            events[0].body,
            json!({
                "event": "newCall",
                "from": "49301234567",
                "to": "4930609811111",
                "direction": "in",
                "callId": "placetel-f4d2b2a0",
                "queue": "support",
                "user": "Alice Smith, Bob Smith",
            })
        );
    }

    #[test]
    fn an_answer_names_the_agent_who_picked_up_and_a_hangup_its_cause() {
        let answer = events(Some(&ringing()), &answered(), &germany());
        assert_eq!(
            answer[0].body,
            json!({
                "event": "answer",
                "from": "49301234567",
                "to": "4930609811111",
                "direction": "in",
                "callId": "placetel-f4d2b2a0",
                "queue": "support",
                "answeringNumber": "anna",
            })
        );
        let hangup = events(
            Some(&answered()),
            &ended(answered(), "normalClearing"),
            &germany(),
        );
        assert_eq!(kinds(&hangup), vec![EventKind::Hangup]);
        assert_eq!(hangup[0].body["cause"], "normalClearing");
        assert_eq!(hangup[0].body["answeringNumber"], "anna");
    }

    #[test]
    fn a_call_first_seen_answered_or_ended_gets_its_new_call_first() {
        assert_eq!(
            kinds(&events(None, &answered(), &germany())),
            vec![EventKind::NewCall, EventKind::Answer]
        );
        assert_eq!(
            kinds(&events(
                None,
                &ended(answered(), "normalClearing"),
                &germany()
            )),
            vec![EventKind::NewCall, EventKind::Answer, EventKind::Hangup]
        );
        assert_eq!(
            kinds(&events(None, &ended(ringing(), "cancel"), &germany())),
            vec![EventKind::NewCall, EventKind::Hangup]
        );
    }

    #[test]
    fn nothing_follows_the_hangup() {
        let over = ended(ringing(), RING_TIMEOUT_CAUSE);
        assert!(events(Some(&over), &answered(), &germany()).is_empty());
        assert!(events(Some(&over), &ended(answered(), "busy"), &germany()).is_empty());
    }

    #[test]
    fn the_hubs_own_timeouts_are_told_in_zammads_causes() {
        let missed = events(
            Some(&ringing()),
            &ended(ringing(), RING_TIMEOUT_CAUSE),
            &germany(),
        );
        assert_eq!(missed[0].body["cause"], "noAnswer");
        let lost = events(
            Some(&answered()),
            &ended(answered(), TALK_TIMEOUT_CAUSE),
            &germany(),
        );
        assert_eq!(lost[0].body["cause"], "normalClearing");
    }

    #[test]
    fn numbers_are_international_digits_and_identifiers_stay_as_sent() {
        assert_eq!(
            zammad_number("+49 30 609811111", &germany()),
            "4930609811111"
        );
        assert_eq!(zammad_number("030609811111", &germany()), "4930609811111");
        assert_eq!(zammad_number("4930609811111", &germany()), "4930609811111");
        assert_eq!(zammad_number("anonymous", &germany()), "anonymous");
        let outbound = Call {
            direction: Direction::Out,
            from_comment: Some("Anna".into()),
            ..ringing()
        };
        assert_eq!(events(None, &outbound, &germany())[0].body["user"], "Anna");
    }
}
