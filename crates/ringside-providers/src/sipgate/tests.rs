use super::*;

const URL: &str = "http://zammad.example.com/api/v1/sipgate/TOKEN/in";

fn params(body: &str) -> Params {
    Params::from_form(body.as_bytes()).unwrap()
}

fn mapped(body: &str) -> CallEvent {
    event(&params(body))
        .expect("the event maps")
        .expect("the event is not ignored")
}

// sipgate's documented sequences (providers.md §4.6), with the documented parameters.

#[test]
fn a_inbound_answered() {
    let new = mapped(
        "event=newCall&from=492111234567&to=4915791234567&direction=in&callId=123456\
         &origCallId=123456&user%5B%5D=Alice&user%5B%5D=Bob&userId%5B%5D=w0&userId%5B%5D=w1\
         &fullUserId%5B%5D=1234567w0&fullUserId%5B%5D=1234567w1&xcid=abc",
    );
    assert_eq!(
        new,
        CallEvent {
            kind: Some(EventKind::NewCall),
            call_id: "123456".into(),
            direction: Some(Direction::In),
            from: Some("492111234567".into()),
            to: Some("4915791234567".into()),
            user: Some("Alice, Bob".into()),
            offered_users: vec!["w0".into(), "w1".into()],
            ..CallEvent::default()
        }
    );

    let answered = mapped(
        "event=answer&callId=123456&user=Alice&userId=w0&fullUserId=1234567w0\
         &from=492111234567&to=4915791234567&direction=in&answeringNumber=4921100000001",
    );
    assert_eq!(
        answered,
        CallEvent {
            kind: Some(EventKind::Answer),
            call_id: "123456".into(),
            direction: Some(Direction::In),
            from: Some("492111234567".into()),
            to: Some("4915791234567".into()),
            user: Some("Alice".into()),
            answering_number: Some("4921100000001".into()),
            answering_user: Some("w0".into()),
            ..CallEvent::default()
        }
    );

    let hung_up = mapped(
        "event=hangup&cause=normalClearing&callId=123456&from=492111234567\
         &to=4915791234567&direction=in&answeringNumber=4921100000001",
    );
    assert_eq!(hung_up.kind, Some(EventKind::Hangup));
    assert_eq!(hung_up.cause.as_deref(), Some("normalClearing"));
    assert_eq!(hung_up.answering_number.as_deref(), Some("4921100000001"));
    assert_eq!(hung_up.answering_user, None);
    assert!(hung_up.offered_users.is_empty());
}

#[test]
fn b_inbound_missed_and_forwarded() {
    for cause in [
        "cancel",
        "noAnswer",
        "busy",
        "notFound",
        "congestion",
        "forwarded",
    ] {
        let event = mapped(&format!(
            "event=hangup&cause={cause}&callId=1&from=492111234567&to=4915791234567&direction=in"
        ));
        assert_eq!(event.cause.as_deref(), Some(cause));
    }
    let forwarded_to = mapped(
        "event=newCall&from=492111234567&to=4915790000002&direction=in&callId=2\
         &user%5B%5D=Marty&userId%5B%5D=w2&diversion=4915791234567",
    );
    assert_eq!(forwarded_to.call_id, "2");
    assert_eq!(forwarded_to.user.as_deref(), Some("Marty"));
}

#[test]
fn c_several_agents_one_answers() {
    let answered = mapped(
        "event=answer&callId=1&user=Bob&userId=w1&from=492111234567&to=4915791234567\
         &direction=in&answeringNumber=4915790000001",
    );
    assert_eq!(answered.user.as_deref(), Some("Bob"));
    assert_eq!(answered.answering_user.as_deref(), Some("w1"));
    assert_eq!(answered.answering_number.as_deref(), Some("4915790000001"));
    assert!(answered.offered_users.is_empty());
}

#[test]
fn d_outbound() {
    let new = mapped(
        "event=newCall&direction=out&from=4930600000000&to=4912347114711&callId=1234567890-1\
         &user%5B%5D=user+1",
    );
    assert_eq!(new.kind, Some(EventKind::NewCall));
    assert_eq!(new.direction, Some(Direction::Out));
    assert_eq!(new.user.as_deref(), Some("user 1"));

    let answered = mapped(
        "event=answer&direction=out&callId=1234567890-2&from=4930600000000&to=4912347114711",
    );
    assert_eq!(answered.kind, Some(EventKind::Answer));
    assert_eq!(answered.direction, Some(Direction::Out));
    assert_eq!(answered.user, None);

    let hung_up = mapped("event=hangup&direction=out&callId=1234567890-1&cause=cancel");
    assert_eq!(hung_up.kind, Some(EventKind::Hangup));
    assert_eq!(hung_up.cause.as_deref(), Some("cancel"));
    assert_eq!(hung_up.from, None);
}

// Zammad's fixtures (spec/requests/integration/sipgate_spec.rb).

#[test]
fn zammad_several_users_are_joined() {
    let event = mapped(
        "event=newCall&direction=in&from=4912347114711&to=4930600000000\
         &callId=4991155921769858278-1&user%5B%5D=user+1&user%5B%5D=user+2",
    );
    assert_eq!(event.user.as_deref(), Some("user 1, user 2"));
    assert_eq!(event.call_id, "4991155921769858278-1");
}

#[test]
fn zammad_comma_joined_users_are_kept_as_sent() {
    let event = mapped(
        "event=newCall&direction=in&to=4930600000000&from=4912347114711&callId=1234567890-4\
         &user%5B%5D=user+1,user+2",
    );
    assert_eq!(event.user.as_deref(), Some("user 1,user 2"));
}

#[test]
fn zammad_voicemail_answer() {
    let event = mapped(
        "event=answer&direction=in&callId=1234567890-4&to=4930600000000&from=4912347114711\
         &user=voicemail",
    );
    assert_eq!(event.user.as_deref(), Some("voicemail"));
}

#[test]
fn comma_joined_user_ids_are_split() {
    let event = mapped("event=newCall&direction=in&from=1&to=2&callId=c&userId%5B%5D=w0,+w1");
    assert_eq!(event.offered_users, vec!["w0".to_owned(), "w1".to_owned()]);
}

#[test]
fn dtmf_is_accepted_and_ignored() {
    assert_eq!(event(&params("event=dtmf&dtmf=123&callId=1")), Ok(None));
    assert_eq!(event(&params("event=dtmf&callId=1")), Ok(None));
}

#[test]
fn direction_is_checked_before_the_event() {
    assert_eq!(
        event(&params("event=foo&direction=sideways&callId=1")),
        Err(JournalError::InvalidDirection)
    );
    assert_eq!(
        event(&params("event=newCall&from=1&to=2&callId=1")),
        Err(JournalError::InvalidDirection)
    );
    assert_eq!(
        event(&params("event=foo&direction=in&callId=1")),
        Err(JournalError::UnknownEvent("foo".into()))
    );
    assert_eq!(
        event(&params("direction=in&callId=1")),
        Err(JournalError::UnknownEvent(String::new()))
    );
}

#[test]
fn missing_call_id_is_left_to_the_journal() {
    assert_eq!(mapped("event=newCall&direction=in&from=1&to=2").call_id, "");
}

#[test]
fn json_bodies_map_the_same() {
    let params = Params::from_body(
        Some("application/json"),
        br#"{"event":"newCall","direction":"in","from":"1","to":"2","callId":"c",
            "user":["Alice","Bob"],"userId":["w0","w1"]}"#,
    )
    .unwrap();
    let event = event(&params).unwrap().unwrap();
    assert_eq!(event.user.as_deref(), Some("Alice, Bob"));
    assert_eq!(event.offered_users, vec!["w0".to_owned(), "w1".to_owned()]);
}

// Answers, byte for byte as Zammad's Builder writes them.

#[test]
fn ok_answer_subscribes_to_follow_ups() {
    assert_eq!(
        answer(&PbxAnswer::Proceed, URL),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response onHangup=\"http://zammad.example.com/api/v1/sipgate/TOKEN/in\" \
         onAnswer=\"http://zammad.example.com/api/v1/sipgate/TOKEN/in\"/>\n"
    );
}

#[test]
fn reject_answer() {
    assert_eq!(
        answer(&PbxAnswer::Reject, URL),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response onHangup=\"http://zammad.example.com/api/v1/sipgate/TOKEN/in\" \
         onAnswer=\"http://zammad.example.com/api/v1/sipgate/TOKEN/in\">\n  \
         <Reject reason=\"busy\"/>\n</Response>\n"
    );
}

#[test]
fn dial_answer() {
    let url = "http://zammad.example.com/api/v1/sipgate/TOKEN/out";
    assert_eq!(
        answer(
            &PbxAnswer::Dial {
                caller_id: "41715880339000".into(),
                number: "4147110000000".into(),
            },
            url
        ),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response onHangup=\"http://zammad.example.com/api/v1/sipgate/TOKEN/out\" \
         onAnswer=\"http://zammad.example.com/api/v1/sipgate/TOKEN/out\">\n  \
         <Dial callerId=\"41715880339000\">\n    <Number>4147110000000</Number>\n  \
         </Dial>\n</Response>\n"
    );
}

#[test]
fn values_are_escaped() {
    let answer = answer(
        &PbxAnswer::Dial {
            caller_id: "<49\"30>".into(),
            number: "a&b<c>".into(),
        },
        "https://hub.example.com/sipgate/T?a=1&b=\"2\"",
    );
    assert_eq!(
        answer,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response onHangup=\"https://hub.example.com/sipgate/T?a=1&amp;b=&quot;2&quot;\" \
         onAnswer=\"https://hub.example.com/sipgate/T?a=1&amp;b=&quot;2&quot;\">\n  \
         <Dial callerId=\"&lt;49&quot;30&gt;\">\n    <Number>a&amp;b&lt;c&gt;</Number>\n  \
         </Dial>\n</Response>\n"
    );
}

#[test]
fn error_answer_subscribes_to_nothing() {
    assert_eq!(
        error("Feature not configured, please contact your admin!"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response>\n  <Error>Feature not configured, please contact your admin!</Error>\n\
         </Response>\n"
    );
    assert_eq!(
        error("No such call_id <x>"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Response>\n  <Error>No such call_id &lt;x&gt;</Error>\n</Response>\n"
    );
}

#[test]
fn content_type_is_xml_utf8() {
    assert_eq!(CONTENT_TYPE, "application/xml; charset=UTF-8");
}

#[test]
fn overlong_fields_are_refused_naming_the_field_and_the_bound() {
    let long = |n: usize| "4".repeat(n);
    let ok = format!(
        "event=newCall&direction=in&from={}&to={}&callId={}&user%5B%5D={}&userId%5B%5D={}",
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
        ("callId", 256),
        ("answeringNumber", 256),
        ("user%5B%5D", 256),
        ("userId%5B%5D", 256),
        ("cause", 64),
        ("direction", 64),
    ] {
        let body = format!(
            "event=hangup&from=1&to=2&callId=3&{field}={}",
            long(limit + 1)
        );
        let field = field.replace("%5B%5D", "[]");
        assert_eq!(
            event(&params(&body)).unwrap_err().to_string(),
            format!("\"{field}\" is longer than {limit} characters")
        );
    }
    // Checked before a dtmf event is ignored: the hub echoes its direction.
    assert_eq!(
        event(&params(&format!("event=dtmf&direction={}", long(65))))
            .unwrap_err()
            .to_string(),
        "\"direction\" is longer than 64 characters"
    );
    let ids = "&userId%5B%5D=w0".repeat(101);
    assert_eq!(
        event(&params(&format!("event=newCall&direction=in{ids}")))
            .unwrap_err()
            .to_string(),
        "more than 100 values of \"userId[]\""
    );
    // Comma-joined in one entry, as sipgate may send them, they count one by one.
    let joined = vec!["7"; 101].join(",");
    assert_eq!(
        event(&params(&format!(
            "event=newCall&direction=in&userId={joined}"
        )))
        .unwrap_err()
        .to_string(),
        "more than 100 values of \"userId[]\""
    );
}
