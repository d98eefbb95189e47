//! Twilio's documented event sequences (reference §1.7 A–D), played from realistic
//! parameter sets through [`classify`], [`TwilioRequest::journal_event`] and the core
//! journal, and the edge cases of telling requests apart.

use ringside_core::call::{Call, CallEvent, CallState, Direction, EventKind, Provider};
use ringside_core::journal::{self, Enrichment, Outcome};
use time::macros::datetime;
use time::OffsetDateTime;

use super::*;
use crate::params::Params;

const ACCOUNT: &str = "ACc3b59f8ad2f84707b2d7ccc1683e5959";
const PARENT: &str = "CA7c382bcc7f9cce2af04d2b86deef154c";
const LEG_1: &str = "CA5c0ef8e69cfe5581ac7d1358d03752e9";
const LEG_2: &str = "CA0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a";
const LEG_3: &str = "CAf0e1d2c3b4a5968778695a4b3c2d1e0f";
const CUSTOMER: &str = "+14803335555";
const SUPPORT_LINE: &str = "+16105505555";
const AGENT_1: &str = "+14803801234";
const AGENT_2: &str = "+14803805678";
const AGENT_3: &str = "+14803809012";

fn request(pairs: &[(&str, &str)]) -> TwilioRequest {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    classify(&Params::from_form(body.as_bytes()).unwrap()).expect("a Twilio request")
}

/// The voice URL request as Twilio sends it for an inbound call (the seed's capture).
fn voice_request() -> TwilioRequest {
    request(&[
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", PARENT),
        ("CallStatus", "ringing"),
        ("Called", SUPPORT_LINE),
        ("CalledCity", "NEWTOWN SQUARE"),
        ("CalledCountry", "US"),
        ("Caller", CUSTOMER),
        ("CallerCity", "PHOENIX"),
        ("CallerName", ""),
        ("Direction", "inbound"),
        ("From", CUSTOMER),
        ("FromCountry", "US"),
        ("To", SUPPORT_LINE),
        ("ToCountry", "US"),
    ])
}

/// A leg's status callback, shaped like the seed's captured `in-progress` callback.
fn leg(
    call_sid: &str,
    parent: &str,
    agent: &str,
    status: &str,
    extra: &[(&str, &str)],
) -> TwilioRequest {
    let mut pairs = vec![
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("CallbackSource", "call-progress-events"),
        ("Called", agent),
        ("Caller", SUPPORT_LINE),
        ("Direction", "outbound-dial"),
        ("From", SUPPORT_LINE),
        ("ParentCallSid", parent),
        ("SequenceNumber", "0"),
        ("Timestamp", "Sat, 08 Aug 2020 03:25:40 +0000"),
        ("To", agent),
    ];
    pairs.extend_from_slice(extra);
    request(&pairs)
}

/// The `<Dial action>` request of the inbound call.
fn dial_action(status: &str, dial_call_sid: Option<&str>) -> TwilioRequest {
    let mut pairs = vec![
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", PARENT),
        ("CallStatus", "in-progress"),
        ("Called", SUPPORT_LINE),
        ("Caller", CUSTOMER),
        ("Direction", "inbound"),
        ("DialCallStatus", status),
        ("From", CUSTOMER),
        ("To", SUPPORT_LINE),
    ];
    if let Some(sid) = dial_call_sid {
        pairs.extend([
            ("DialCallSid", sid),
            ("DialCallDuration", "34"),
            ("DialBridged", "true"),
        ]);
    }
    request(&pairs)
}

/// The inbound call's own status callback (the seed's captured `completed`).
fn parent_status(status: &str) -> TwilioRequest {
    request(&[
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("CallDuration", "35"),
        ("CallSid", PARENT),
        ("CallStatus", status),
        ("CallbackSource", "call-progress-events"),
        ("Called", SUPPORT_LINE),
        ("Caller", CUSTOMER),
        ("Direction", "inbound"),
        ("Duration", "1"),
        ("From", CUSTOMER),
        ("SequenceNumber", "0"),
        ("Timestamp", "Sat, 08 Aug 2020 03:26:02 +0000"),
        ("To", SUPPORT_LINE),
    ])
}

const T0: OffsetDateTime = datetime!(2026-11-21 10:00:00 UTC);

/// Applies the journal events of timed requests to the core journal, as the hub does, and
/// returns the call as it ends up. An event that changes nothing is fine; an error is not.
fn journal(requests: &[(i64, &TwilioRequest)]) -> Call {
    journal_of(
        requests
            .iter()
            .filter_map(|(at, request)| Some((*at, request.journal_event()?)))
            .collect(),
    )
}

fn journal_of(events: Vec<(i64, CallEvent)>) -> Call {
    let mut call: Option<Call> = None;
    for (seconds, event) in events {
        let now = T0 + time::Duration::seconds(seconds);
        let outcome = journal::apply(
            Provider::Twilio,
            call.as_ref(),
            &event,
            &Enrichment::default(),
            now,
        )
        .unwrap_or_else(|e| panic!("{event:?} refused: {e}"));
        if let Outcome::Created(c) | Outcome::Changed(c) = outcome {
            call = Some(c);
        }
    }
    call.expect("a journal entry")
}

fn hangup(call_id: &str, direction: Direction, cause: Option<&str>) -> CallEvent {
    CallEvent {
        kind: Some(EventKind::Hangup),
        call_id: call_id.into(),
        direction: Some(direction),
        from: Some(CUSTOMER.into()),
        to: Some(SUPPORT_LINE.into()),
        cause: cause.map(str::to_owned),
        ..CallEvent::default()
    }
}

#[test]
fn sids_are_realistic() {
    for sid in [
        ACCOUNT,
        PARENT,
        LEG_1,
        LEG_2,
        LEG_3,
        CLICK_CALL,
        CUSTOMER_LEG,
    ] {
        assert_eq!(sid.len(), 34, "{sid}");
    }
}

#[test]
fn a_inbound_answered_by_one_agent() {
    let voice = voice_request();
    assert_eq!(
        voice.journal_event(),
        Some(CallEvent {
            kind: Some(EventKind::NewCall),
            call_id: PARENT.into(),
            direction: Some(Direction::In),
            from: Some(CUSTOMER.into()),
            to: Some(SUPPORT_LINE.into()),
            ..CallEvent::default()
        })
    );
    let initiated = leg(LEG_1, PARENT, AGENT_1, "initiated", &[]);
    let ringing = leg(LEG_1, PARENT, AGENT_1, "ringing", &[]);
    let answered = leg(LEG_1, PARENT, AGENT_1, "in-progress", &[]);
    let leg_done = leg(
        LEG_1,
        PARENT,
        AGENT_1,
        "completed",
        &[("CallDuration", "34"), ("Duration", "1")],
    );
    let dial_done = dial_action("completed", Some(LEG_1));
    let parent_done = parent_status("completed");

    assert_eq!(initiated.journal_event(), None);
    assert_eq!(ringing.journal_event(), None);
    assert_eq!(
        answered.journal_event(),
        Some(CallEvent {
            kind: Some(EventKind::Answer),
            call_id: PARENT.into(),
            answering_number: Some(AGENT_1.into()),
            ..CallEvent::default()
        })
    );
    assert_eq!(leg_done.journal_event(), None);
    assert_eq!(
        dial_done.journal_event(),
        Some(hangup(PARENT, Direction::In, Some("normalClearing")))
    );
    assert_eq!(
        parent_done.journal_event(),
        Some(hangup(PARENT, Direction::In, None))
    );

    let call = journal(&[
        (0, &voice),
        (1, &initiated),
        (2, &ringing),
        (6, &answered),
        (40, &leg_done),
        (40, &dial_done),
        (41, &parent_done),
    ]);
    assert_eq!(call.call_id, PARENT);
    assert_eq!(call.state, CallState::Ended);
    assert!(call.done);
    assert_eq!(call.comment.as_deref(), Some("normalClearing"));
    assert_eq!(call.duration_waiting_time, Some(6));
    assert_eq!(call.duration_talking_time, Some(34));
}

#[test]
fn b_inbound_missed_ends_with_the_dials_cause() {
    for (dial_status, leg_status, cause) in [
        ("no-answer", "no-answer", "noAnswer"),
        ("busy", "busy", "busy"),
        ("failed", "failed", "congestion"),
        ("canceled", "canceled", "cancel"),
    ] {
        let voice = voice_request();
        let initiated = leg(LEG_1, PARENT, AGENT_1, "initiated", &[]);
        let ringing = leg(LEG_1, PARENT, AGENT_1, "ringing", &[]);
        let leg_done = leg(
            LEG_1,
            PARENT,
            AGENT_1,
            leg_status,
            &[("SipResponseCode", "487")],
        );
        let dial_done = dial_action(dial_status, None);
        let parent_done = parent_status("completed");
        assert_eq!(leg_done.journal_event(), None, "{leg_status}");
        assert_eq!(
            dial_done.journal_event(),
            Some(hangup(PARENT, Direction::In, Some(cause)))
        );
        let call = journal(&[
            (0, &voice),
            (1, &initiated),
            (2, &ringing),
            (20, &leg_done),
            (20, &dial_done),
            (25, &parent_done),
        ]);
        assert_eq!(call.state, CallState::Ended);
        assert!(call.is_open_missed(), "{dial_status}");
        assert_eq!(call.comment.as_deref(), Some(cause));
        assert_eq!(call.duration_waiting_time, Some(20));
        assert_eq!(call.end_at, Some(T0 + time::Duration::seconds(20)));
    }
}

#[test]
fn b_caller_hanging_up_before_any_dial_is_missed_without_a_cause() {
    let call = journal(&[(0, &voice_request()), (8, &parent_status("completed"))]);
    assert!(call.is_open_missed());
    assert_eq!(call.comment, None);
    assert_eq!(call.duration_waiting_time, Some(8));
}

#[test]
fn c_ring_all_second_agent_answers_and_losing_legs_only_release_their_lines() {
    let voice = voice_request();
    let legs = [(LEG_1, AGENT_1), (LEG_2, AGENT_2), (LEG_3, AGENT_3)];
    let mut timeline: Vec<(i64, TwilioRequest)> = vec![(0, voice)];
    for (sid, agent) in legs {
        timeline.push((1, leg(sid, PARENT, agent, "initiated", &[])));
        timeline.push((2, leg(sid, PARENT, agent, "ringing", &[])));
    }
    let answered = leg(LEG_2, PARENT, AGENT_2, "in-progress", &[]);
    let loser_1 = leg(
        LEG_1,
        PARENT,
        AGENT_1,
        "canceled",
        &[("SipResponseCode", "487")],
    );
    let loser_3 = leg(
        LEG_3,
        PARENT,
        AGENT_3,
        "no-answer",
        &[("SipResponseCode", "487")],
    );
    // Whatever status a losing leg ends with, even `completed`, it leaves the journal alone.
    let loser_3_completed = leg(
        LEG_3,
        PARENT,
        AGENT_3,
        "completed",
        &[("CallDuration", "0")],
    );
    let winner_done = leg(
        LEG_2,
        PARENT,
        AGENT_2,
        "completed",
        &[("CallDuration", "60")],
    );
    timeline.extend([
        (9, answered.clone()),
        (9, loser_1.clone()),
        (9, loser_3.clone()),
        (9, loser_3_completed.clone()),
        (69, winner_done),
        (69, dial_action("completed", Some(LEG_2))),
        (70, parent_status("completed")),
    ]);

    assert_eq!(
        answered.journal_event().and_then(|e| e.answering_number),
        Some(AGENT_2.into())
    );
    for loser in [&loser_1, &loser_3, &loser_3_completed] {
        assert_eq!(loser.journal_event(), None);
    }
    let TwilioRequest::DialEnded { dial_call_sid, .. } = &timeline[timeline.len() - 2].1 else {
        panic!("a dial action")
    };
    assert_eq!(dial_call_sid.as_deref(), Some(LEG_2));

    let timed: Vec<(i64, &TwilioRequest)> = timeline.iter().map(|(t, r)| (*t, r)).collect();
    let call = journal(&timed);
    assert_eq!(call.state, CallState::Ended);
    assert!(call.done);
    assert_eq!(call.duration_waiting_time, Some(9));
    assert_eq!(call.duration_talking_time, Some(60));
    assert_eq!(call.comment.as_deref(), Some("normalClearing"));
}

#[test]
fn c_client_and_sip_agents_answer_as_users() {
    let client = leg(LEG_1, PARENT, "client:anna", "in-progress", &[]);
    let event = client.journal_event().unwrap();
    assert_eq!(event.answering_user.as_deref(), Some("anna"));
    assert_eq!(event.answering_number, None);
    let TwilioRequest::LegStatus(client_leg) = &client else {
        panic!("a leg")
    };
    assert_eq!(client_leg.target, RingTarget::Client("anna".into()));
    let sip = leg(LEG_2, PARENT, "sip:ben@pbx.example", "in-progress", &[]);
    assert_eq!(
        sip.journal_event().unwrap().answering_user.as_deref(),
        Some("sip:ben@pbx.example")
    );
}

const CLICK_CALL: &str = "CAa1b2c3d4e5f60718293a4b5c6d7e8f90";
const CUSTOMER_LEG: &str = "CA0918273645a5b4c3d2e1f0a9b8c7d6e5";
const TWILIO_NUMBER: &str = "+4930600000000";
const CALLEE: &str = "+4930609854180";
const AGENT_PHONE: &str = "+491701111111";

/// A status callback of the click-to-dial call to the agent's phone.
fn agent_call(status: &str) -> TwilioRequest {
    request(&[
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", CLICK_CALL),
        ("CallStatus", status),
        ("CallbackSource", "call-progress-events"),
        ("Called", AGENT_PHONE),
        ("Caller", TWILIO_NUMBER),
        ("Direction", "outbound-api"),
        ("From", TWILIO_NUMBER),
        ("SequenceNumber", "0"),
        ("To", AGENT_PHONE),
    ])
}

fn click_dial_action(status: &str) -> TwilioRequest {
    request(&[
        ("AccountSid", ACCOUNT),
        ("CallSid", CLICK_CALL),
        ("CallStatus", "in-progress"),
        ("Direction", "outbound-api"),
        ("DialCallStatus", status),
        ("From", TWILIO_NUMBER),
        ("To", AGENT_PHONE),
    ])
}

fn click_hangup(cause: Option<&str>) -> CallEvent {
    CallEvent {
        kind: Some(EventKind::Hangup),
        call_id: CLICK_CALL.into(),
        direction: Some(Direction::Out),
        from: Some(TWILIO_NUMBER.into()),
        cause: cause.map(str::to_owned),
        ..CallEvent::default()
    }
}

#[test]
fn d_click_to_dial_answered_by_the_customer() {
    let callback = "https://hub.example/api/v1/twilio/T0KEN/status";
    let form = click_to_dial_form(AGENT_PHONE, CALLEE, TWILIO_NUMBER, callback);
    assert_eq!(form[0], ("To".into(), AGENT_PHONE.into()));
    let new_call = click_to_dial_new_call(CLICK_CALL, TWILIO_NUMBER, CALLEE);
    assert_eq!(
        new_call,
        CallEvent {
            kind: Some(EventKind::NewCall),
            call_id: CLICK_CALL.into(),
            direction: Some(Direction::Out),
            from: Some(TWILIO_NUMBER.into()),
            to: Some(CALLEE.into()),
            ..CallEvent::default()
        }
    );

    let agent_steps = ["initiated", "ringing", "in-progress"].map(agent_call);
    for step in &agent_steps {
        assert_eq!(step.journal_event(), None);
    }
    let customer_answers = leg(CUSTOMER_LEG, CLICK_CALL, CALLEE, "in-progress", &[]);
    assert_eq!(
        customer_answers.journal_event(),
        Some(CallEvent {
            kind: Some(EventKind::Answer),
            call_id: CLICK_CALL.into(),
            answering_number: Some(CALLEE.into()),
            ..CallEvent::default()
        })
    );
    let customer_done = leg(CUSTOMER_LEG, CLICK_CALL, CALLEE, "completed", &[]);
    let dial_done = click_dial_action("completed");
    let agent_done = agent_call("completed");
    assert_eq!(customer_done.journal_event(), None);
    assert_eq!(
        dial_done.journal_event(),
        Some(click_hangup(Some("normalClearing")))
    );
    assert_eq!(agent_done.journal_event(), Some(click_hangup(None)));

    let mut events = vec![(0, new_call)];
    let later = [
        (1, &agent_steps[0]),
        (2, &agent_steps[1]),
        (5, &agent_steps[2]),
        (12, &customer_answers),
        (100, &customer_done),
        (100, &dial_done),
        (101, &agent_done),
    ];
    events.extend(
        later
            .iter()
            .filter_map(|(t, r)| Some((*t, r.journal_event()?))),
    );
    let call = journal_of(events);
    assert_eq!(call.direction, Direction::Out);
    assert_eq!(call.from, TWILIO_NUMBER);
    assert_eq!(call.to, CALLEE);
    assert_eq!(call.state, CallState::Ended);
    assert!(call.done);
    assert_eq!(call.duration_waiting_time, Some(12));
    assert_eq!(call.duration_talking_time, Some(88));
    assert_eq!(call.comment.as_deref(), Some("normalClearing"));
}

#[test]
fn d_click_to_dial_the_agent_never_picks_up() {
    for (status, cause) in [
        ("no-answer", "noAnswer"),
        ("busy", "busy"),
        ("failed", "congestion"),
    ] {
        let ended = agent_call(status);
        assert_eq!(ended.journal_event(), Some(click_hangup(Some(cause))));
        let call = journal_of(vec![
            (0, click_to_dial_new_call(CLICK_CALL, TWILIO_NUMBER, CALLEE)),
            (30, ended.journal_event().unwrap()),
        ]);
        assert!(call.done);
        assert_eq!(call.state, CallState::Ended);
        assert_eq!(call.comment.as_deref(), Some(cause));
    }
}

#[test]
fn d_click_to_dial_the_customer_is_busy() {
    let call = journal_of(vec![
        (0, click_to_dial_new_call(CLICK_CALL, TWILIO_NUMBER, CALLEE)),
        (9, click_dial_action("busy").journal_event().unwrap()),
        (9, agent_call("completed").journal_event().unwrap()),
    ]);
    assert_eq!(call.comment.as_deref(), Some("busy"));
    assert_eq!(call.duration_talking_time, None);
}

#[test]
fn a_status_callback_alone_does_not_invent_a_click_to_dial_entry() {
    // Its numbers are the agent's phone, not the customer: the journal refuses to create it.
    let event = agent_call("completed").journal_event().unwrap();
    assert_eq!(event.to, None);
    let result = journal::apply(Provider::Twilio, None, &event, &Enrichment::default(), T0);
    assert!(result.is_err());
}

#[test]
fn a_blocked_caller_rejected_as_busy_is_missed_with_cause_busy() {
    assert!(twiml::reject_busy().contains("<Reject reason=\"busy\"/>"));
    let rejected = parent_status("busy");
    assert_eq!(
        rejected.journal_event(),
        Some(hangup(PARENT, Direction::In, Some("busy")))
    );
    let call = journal(&[(0, &voice_request()), (0, &rejected)]);
    assert_eq!(call.comment.as_deref(), Some("busy"));
    assert!(!call.done);
}

#[test]
fn an_unseen_inbound_call_is_created_by_its_hangup() {
    // The voice request was lost (hub down): the dial action still carries the numbers.
    let call = journal(&[(0, &dial_action("no-answer", None))]);
    assert_eq!(call.from, CUSTOMER);
    assert_eq!(call.to, SUPPORT_LINE);
    assert!(call.is_open_missed());
}

#[test]
fn caller_name_is_offered_not_used_as_the_agent() {
    let with_name = request(&[
        ("CallSid", PARENT),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", CUSTOMER),
        ("To", SUPPORT_LINE),
        ("CallerName", "DOE JOHN"),
    ]);
    let TwilioRequest::IncomingCall { caller_name, .. } = &with_name else {
        panic!("an incoming call")
    };
    assert_eq!(caller_name.as_deref(), Some("DOE JOHN"));
    assert_eq!(with_name.journal_event().unwrap().user, None);
    let TwilioRequest::IncomingCall { caller_name, .. } = voice_request() else {
        panic!("an incoming call")
    };
    assert_eq!(caller_name, None);
}

#[test]
fn client_callers_and_legacy_names_are_kept_as_sent() {
    let from_client = request(&[
        ("CallSid", PARENT),
        ("CallStatus", "queued"),
        ("Direction", "inbound"),
        ("Caller", "client:anna"),
        ("Called", SUPPORT_LINE),
    ]);
    let event = from_client.journal_event().unwrap();
    assert_eq!(event.kind, Some(EventKind::NewCall));
    assert_eq!(event.from.as_deref(), Some("client:anna"));
    assert_eq!(event.to.as_deref(), Some(SUPPORT_LINE));
}

#[test]
fn later_requests_on_the_call_are_status_not_new_calls() {
    let ringing_callback = request(&[
        ("CallSid", PARENT),
        ("CallStatus", "ringing"),
        ("CallbackSource", "call-progress-events"),
        ("Direction", "inbound"),
        ("From", CUSTOMER),
        ("To", SUPPORT_LINE),
    ]);
    assert!(matches!(ringing_callback, TwilioRequest::CallStatus(_)));
    assert_eq!(ringing_callback.journal_event(), None);
    let gather_action = request(&[
        ("CallSid", PARENT),
        ("CallStatus", "in-progress"),
        ("Direction", "inbound"),
        ("Digits", "1"),
        ("From", CUSTOMER),
        ("To", SUPPORT_LINE),
    ]);
    assert!(matches!(gather_action, TwilioRequest::CallStatus(_)));
    assert_eq!(gather_action.journal_event(), None);
}

#[test]
fn requests_that_are_not_about_calls_are_refused_clearly() {
    let classify_form = |body: &str| classify(&Params::from_form(body.as_bytes()).unwrap());
    assert_eq!(
        classify_form("CallStatus=ringing&Direction=inbound"),
        Err(RequestError::Missing("CallSid"))
    );
    assert_eq!(
        classify_form("CallSid=&CallStatus=ringing&Direction=inbound"),
        Err(RequestError::Missing("CallSid"))
    );
    assert_eq!(
        classify_form("CallSid=CA1&Direction=inbound"),
        Err(RequestError::Missing("CallStatus"))
    );
    assert_eq!(
        classify_form("CallSid=CA1&CallStatus=ringing"),
        Err(RequestError::Missing("Direction"))
    );
    assert_eq!(
        classify_form("CallSid=CA1&CallStatus=answered&Direction=inbound"),
        Err(RequestError::Unexpected {
            param: "CallStatus",
            value: "answered".into()
        })
    );
    assert_eq!(
        classify_form("CallSid=CA1&CallStatus=ringing&Direction=trunking-originating"),
        Err(RequestError::Unexpected {
            param: "Direction",
            value: "trunking-originating".into()
        })
    );
    assert_eq!(
        classify_form("CallSid=CA2&CallStatus=ringing&Direction=outbound-dial&To=%2B1"),
        Err(RequestError::Missing("ParentCallSid"))
    );
    assert_eq!(
        classify_form("CallSid=CA2&CallStatus=ringing&Direction=outbound-dial&ParentCallSid=CA1"),
        Err(RequestError::Missing("To"))
    );
    assert_eq!(
        classify_form("CallSid=CA1&CallStatus=in-progress&Direction=inbound&DialCallStatus=x"),
        Err(RequestError::Unexpected {
            param: "DialCallStatus",
            value: "x".into()
        })
    );
    assert_eq!(
        RequestError::Missing("CallSid").to_string(),
        "missing 'CallSid'; is this a Twilio voice request or status callback?"
    );
    assert_eq!(
        RequestError::Unexpected {
            param: "Direction",
            value: "sideways".into()
        }
        .to_string(),
        "unexpected Direction \"sideways\""
    );
}

#[test]
fn a_conference_dials_answered_ends_normally() {
    assert_eq!(
        dial_action("answered", Some(LEG_1)).journal_event(),
        Some(hangup(PARENT, Direction::In, Some("normalClearing")))
    );
}

#[test]
fn statuses_parse_and_tell_whether_the_call_is_over() {
    let all = [
        ("queued", false),
        ("initiated", false),
        ("ringing", false),
        ("in-progress", false),
        ("completed", true),
        ("busy", true),
        ("no-answer", true),
        ("failed", true),
        ("canceled", true),
    ];
    for (name, is_final) in all {
        assert_eq!(
            CallStatus::parse(name).map(CallStatus::is_final),
            Some(is_final),
            "{name}"
        );
    }
    assert_eq!(CallStatus::parse("answered"), None);
    assert_eq!(DialStatus::parse("answered"), Some(DialStatus::Answered));
    assert_eq!(DialStatus::parse("ringing"), None);
}

#[test]
fn queued_caller_taken_by_an_agent_is_answered_when_dequeued() {
    const AGENT_CALL: &str = "CA55aa66bb77cc88dd99ee00ff11aa22bb";
    let inbound = |extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("AccountSid", ACCOUNT),
            ("CallSid", PARENT),
            ("CallStatus", "in-progress"),
            ("Direction", "inbound"),
            ("From", CUSTOMER),
            ("To", SUPPORT_LINE),
        ];
        pairs.extend_from_slice(extra);
        request(&pairs)
    };
    let waiting = inbound(&[
        ("QueueSid", "QU5ef8732a3c49700934481addd5ce1659"),
        ("QueuePosition", "1"),
    ]);
    let dequeued = inbound(&[
        ("QueueSid", "QU5ef8732a3c49700934481addd5ce1659"),
        ("QueueTime", "14"),
        ("DequeingCallSid", AGENT_CALL),
    ]);
    let left_queue = inbound(&[("QueueResult", "bridged"), ("QueueTime", "14")]);
    assert_eq!(waiting.journal_event(), None);
    assert_eq!(left_queue.journal_event(), None);
    let TwilioRequest::Dequeued {
        dequeuing_call_sid, ..
    } = &dequeued
    else {
        panic!("a dequeue")
    };
    assert_eq!(dequeuing_call_sid, AGENT_CALL);
    let answer = dequeued.journal_event().unwrap();
    assert_eq!(answer.kind, Some(EventKind::Answer));
    assert_eq!(answer.call_id, PARENT);

    let call = journal(&[
        (0, &voice_request()),
        (1, &waiting),
        (14, &dequeued),
        (74, &left_queue),
        (74, &parent_status("completed")),
    ]);
    assert!(call.done);
    assert_eq!(call.duration_waiting_time, Some(14));
    assert_eq!(call.duration_talking_time, Some(60));
}

#[test]
fn overlong_parameters_are_refused_naming_the_parameter_and_the_bound() {
    let classified = |pairs: &[(&str, &str)]| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        classify(&Params::from_form(body.as_bytes()).unwrap())
    };
    let base = [
        ("CallSid", PARENT),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", CUSTOMER),
        ("To", SUPPORT_LINE),
    ];
    let at_bound = "1".repeat(256);
    let mut ok = base.to_vec();
    ok.extend([
        ("CallerName", at_bound.as_str()),
        ("Caller", at_bound.as_str()),
    ]);
    assert!(classified(&ok).is_ok());
    for (param, limit) in [
        ("CallSid", 256),
        ("ParentCallSid", 256),
        ("DialCallSid", 256),
        ("DequeingCallSid", 256),
        ("From", 256),
        ("To", 256),
        ("Caller", 256),
        ("Called", 256),
        ("CallerName", 256),
        ("CallStatus", 64),
        ("DialCallStatus", 64),
        ("Direction", 64),
    ] {
        let long = "1".repeat(limit + 1);
        let mut pairs: Vec<(&str, &str)> =
            base.iter().filter(|(k, _)| *k != param).copied().collect();
        pairs.push((param, &long));
        assert_eq!(
            classified(&pairs).unwrap_err().to_string(),
            format!("\"{param}\" is longer than {limit} characters")
        );
    }
}
