use super::*;

fn params(body: &str) -> Params {
    Params::from_form(body.as_bytes()).unwrap()
}

fn mapped(body: &str) -> CallEvent {
    event(&params(body)).expect("the event maps")
}

// Placetel's documented sequences (providers.md §3.6), with the README's parameters.

#[test]
fn a_inbound_answered() {
    let call_id = "4a4cbb39578170aed9a2761a7bec8c7e704a541f52291ef603d6f5f152980c3c";
    let new = mapped(&format!(
        "event=IncomingCall&from=022129191999&to=0221123456&call_id={call_id}&direction=in"
    ));
    assert_eq!(
        new,
        CallEvent {
            kind: Some(EventKind::NewCall),
            call_id: call_id.into(),
            direction: Some(Direction::In),
            from: Some("022129191999".into()),
            to: Some("0221123456".into()),
            ..CallEvent::default()
        }
    );

    let accepted = mapped(&format!(
        "event=CallAccepted&from=022129191999&to=0221123456&call_id={call_id}\
         &peer=7777abcdefg%40fpbx.de&direction=in"
    ));
    assert_eq!(
        accepted,
        CallEvent {
            kind: Some(EventKind::Answer),
            call_id: call_id.into(),
            direction: Some(Direction::In),
            from: Some("022129191999".into()),
            to: Some("0221123456".into()),
            answering_user: Some("7777abcdefg@fpbx.de".into()),
            ..CallEvent::default()
        }
    );

    let hung_up = mapped(&format!(
        "event=HungUp&from=022129191999&to=0221123456&call_id={call_id}\
         &type=accepted&duration=42&direction=in"
    ));
    assert_eq!(hung_up.kind, Some(EventKind::Hangup));
    assert_eq!(hung_up.direction, Some(Direction::In));
    assert_eq!(hung_up.cause.as_deref(), Some("normalClearing"));
    assert_eq!(hung_up.answering_user, None);
}

#[test]
fn b_inbound_missed_voicemail_blocked() {
    for (hangup_type, cause) in [
        ("missed", "cancel"),
        ("voicemail", "voicemail"),
        ("blocked", "blocked"),
    ] {
        let event = mapped(&format!(
            "event=HungUp&from=022129191999&to=0221123456&call_id=c1\
             &type={hangup_type}&duration=0&direction=in"
        ));
        assert_eq!(event.kind, Some(EventKind::Hangup));
        assert_eq!(event.cause.as_deref(), Some(cause), "type={hangup_type}");
    }
}

#[test]
fn c_several_agents_one_accepts() {
    let accepted = mapped(
        "event=CallAccepted&from=022129191999&to=0221123456&call_id=c1\
         &peer=777bbbb%40fpbx.de&direction=in",
    );
    assert_eq!(accepted.answering_user.as_deref(), Some("777bbbb@fpbx.de"));
    assert_eq!(accepted.user, None, "the hub names the agent from the peer");
}

#[test]
fn d_outbound_peer_is_the_calling_agent() {
    let new = mapped(
        "event=OutgoingCall&from=0221123456&to=022129191999&peer=7777abcdefg%40fpbx.de\
         &call_id=c2&direction=out",
    );
    assert_eq!(new.kind, Some(EventKind::NewCall));
    assert_eq!(new.direction, Some(Direction::Out));
    assert_eq!(new.from.as_deref(), Some("0221123456"));
    assert_eq!(new.user.as_deref(), Some("7777abcdefg@fpbx.de"));
    assert_eq!(new.answering_user, None);

    for (hangup_type, cause) in [
        ("accepted", "normalClearing"),
        ("busy", "busy"),
        ("canceled", "cancel"),
        ("unavailable", "notFound"),
        ("congestion", "congestion"),
        ("missed", "cancel"),
    ] {
        let event = mapped(&format!(
            "event=HungUp&from=0221123456&to=022129191999&call_id=c2\
             &type={hangup_type}&duration=0&direction=out"
        ));
        assert_eq!(event.direction, Some(Direction::Out));
        assert_eq!(event.cause.as_deref(), Some(cause), "type={hangup_type}");
    }
}

// Zammad's fixtures (spec/requests/integration/placetel_spec.rb).

#[test]
fn zammad_incoming_call_is_inbound_without_direction() {
    let event =
        mapped("event=IncomingCall&from=01114100300&to=030600000000&call_id=4991155921769858278-1");
    assert_eq!(event.kind, Some(EventKind::NewCall));
    assert_eq!(event.direction, Some(Direction::In));
    assert_eq!(event.call_id, "4991155921769858278-1");
    assert_eq!(event.from.as_deref(), Some("01114100300"));
    assert_eq!(event.to.as_deref(), Some("030600000000"));
    assert_eq!(event.user, None);
    assert_eq!(event.cause, None);
}

#[test]
fn zammad_follow_ups_leave_the_direction_to_the_journal() {
    let hung_up = mapped("event=HungUp&call_id=1234567890-1&type=missed");
    assert_eq!(hung_up.kind, Some(EventKind::Hangup));
    assert_eq!(hung_up.direction, None);
    assert_eq!(hung_up.cause.as_deref(), Some("cancel"));
    assert_eq!(hung_up.from, None);

    let accepted =
        mapped("event=CallAccepted&call_id=1234567890-2&from=030600000000&to=01114100300");
    assert_eq!(accepted.kind, Some(EventKind::Answer));
    assert_eq!(accepted.direction, None);
    assert_eq!(accepted.answering_user, None);
}

#[test]
fn zammad_voicemail_answer_keeps_the_user() {
    let event = mapped(
        "event=CallAccepted&call_id=1234567890-4&to=030600000000&from=01114100300&user=voicemail",
    );
    assert_eq!(event.user.as_deref(), Some("voicemail"));
}

#[test]
fn zammad_outbound_sip_id_in_from_names_the_agent() {
    let event = mapped(
        "event=OutgoingCall&direction=out&to=099999222222&call_id=1234567890-2\
         &from=777008478072@example.com",
    );
    assert_eq!(event.user.as_deref(), Some("777008478072@example.com"));
    assert_eq!(event.from.as_deref(), Some("777008478072@example.com"));
}

#[test]
fn zammad_inbound_peer_names_the_called_agent() {
    let event = mapped(
        "event=IncomingCall&direction=in&to=030600000000&from=012345&call_id=1234567890-3\
         &peer=777008478072@example.com",
    );
    assert_eq!(event.user.as_deref(), Some("777008478072@example.com"));
    assert_eq!(event.answering_user, None);
}

#[test]
fn an_explicit_user_wins_over_peer() {
    let event = mapped(
        "event=OutgoingCall&from=0221123456&to=022129191999&peer=7777abcdefg%40fpbx.de\
         &user=Anna+Agent&call_id=c2",
    );
    assert_eq!(event.user.as_deref(), Some("Anna Agent"));
    let event = mapped("event=OutgoingCall&from=0221123456&to=0221&peer=&user=&call_id=c2");
    assert_eq!(event.user, None, "empty values name nobody");
}

#[test]
fn event_names_force_the_direction() {
    let event = mapped("event=IncomingCall&direction=out&from=1&to=2&call_id=c");
    assert_eq!(event.direction, Some(Direction::In));
    let event = mapped("event=OutgoingCall&direction=in&from=1&to=2&call_id=c");
    assert_eq!(event.direction, Some(Direction::Out));
}

#[test]
fn an_invalid_direction_is_left_to_the_journal() {
    let event = mapped("event=HungUp&direction=sideways&call_id=c&type=accepted");
    assert_eq!(event.direction, None);
}

#[test]
fn undocumented_hangup_types_give_no_cause() {
    assert_eq!(mapped("event=HungUp&call_id=c&type=exploded").cause, None);
    assert_eq!(mapped("event=HungUp&call_id=c&type=").cause, None);
    assert_eq!(mapped("event=HungUp&call_id=c&type=Missed").cause, None);
}

#[test]
fn unknown_or_missing_event_is_refused() {
    assert_eq!(
        event(&params("event=newCall&direction=in&call_id=c")),
        Err(JournalError::UnknownEvent("newCall".into()))
    );
    assert_eq!(
        event(&params("call_id=c")),
        Err(JournalError::UnknownEvent(String::new()))
    );
}

#[test]
fn missing_call_id_is_left_to_the_journal() {
    let event = mapped("event=IncomingCall&from=1&to=2");
    assert_eq!(event.call_id, "");
}

// Answers, byte for byte as Zammad's Builder writes them.

#[test]
fn ok_answer() {
    assert_eq!(
        answer(&PbxAnswer::Proceed),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response/>\n"
    );
}

#[test]
fn reject_answer() {
    assert_eq!(
        answer(&PbxAnswer::Reject),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response>\n  <Reject reason=\"busy\"/>\n</Response>\n"
    );
}

#[test]
fn dial_answer_keeps_the_number_as_sent() {
    assert_eq!(
        answer(&PbxAnswer::Dial {
            caller_id: "4930777000000".into(),
            number: "01114100300".into(),
        }),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response>\n  <Dial callerId=\"4930777000000\">\n    \
         <Number>01114100300</Number>\n  </Dial>\n</Response>\n"
    );
}

#[test]
fn dial_answer_escapes_values() {
    assert_eq!(
        answer(&PbxAnswer::Dial {
            caller_id: "<4930\"&'>".into(),
            number: "<sip:a&b@x>".into(),
        }),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response>\n  <Dial callerId=\"&lt;4930&quot;&amp;&apos;&gt;\">\n    \
         <Number>&lt;sip:a&amp;b@x&gt;</Number>\n  </Dial>\n</Response>\n"
    );
}

#[test]
fn error_answer() {
    assert_eq!(
        error("Invalid token, please contact your admin!"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response>\n  <Error>Invalid token, please contact your admin!</Error>\n</Response>\n"
    );
    assert_eq!(
        error("Invalid 'direction'!"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response>\n  <Error>Invalid 'direction'!</Error>\n</Response>\n"
    );
    assert_eq!(
        error("Unknown event \"<x>&y\""),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response>\n  <Error>Unknown event \"&lt;x&gt;&amp;y\"</Error>\n</Response>\n"
    );
}

#[test]
fn content_type_is_xml_utf8() {
    assert_eq!(CONTENT_TYPE, "application/xml; charset=UTF-8");
}

#[test]
fn overlong_fields_are_refused_naming_the_field_and_the_bound() {
    let long = |n: usize| "7".repeat(n);
    let ok = format!(
        "event=IncomingCall&from={}&to={}&call_id={}&peer={}&user={}&direction=in",
        long(256),
        long(256),
        long(256),
        long(256),
        long(256)
    );
    assert!(event(&params(&ok)).is_ok());
    for (field, limit) in [
        ("from", 256),
        ("to", 256),
        ("call_id", 256),
        ("peer", 256),
        ("user", 256),
        ("type", 64),
        ("direction", 64),
    ] {
        let body = format!(
            "event=HungUp&from=1&to=2&call_id=3&{field}={}",
            long(limit + 1)
        );
        assert_eq!(
            event(&params(&body)).unwrap_err().to_string(),
            format!("\"{field}\" is longer than {limit} characters")
        );
    }
    assert_eq!(
        event(&params(&format!("event={}", long(65))))
            .unwrap_err()
            .to_string(),
        "\"event\" is longer than 64 characters"
    );
}
