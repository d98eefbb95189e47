//! Zammad's generic CTI push API (`POST /api/v1/cti/:token`): the parameters Zammad reads,
//! and the JSON answers it gives, so that a PBX script written for Zammad works unchanged.

use ringside_core::call::{CallEvent, Direction, EventKind};
use ringside_core::journal::JournalError;
use ringside_core::limits::{
    MAX_CALL_ID_CHARS, MAX_NAME_CHARS, MAX_NUMBER_CHARS, MAX_USERS_PER_EVENT, MAX_WORD_CHARS,
};
use ringside_core::routing::PbxAnswer;
use serde_json::{json, Value};

use crate::params::{Bound, Params};

/// The fields Ringside reads and their bounds.
const BOUNDS: [Bound; 5] = [
    (&["event", "direction", "cause"], MAX_WORD_CHARS),
    (&["callId", "call_id"], MAX_CALL_ID_CHARS),
    (&["from", "to", "answeringNumber"], MAX_NUMBER_CHARS),
    (&["user", "user[]"], MAX_NAME_CHARS),
    (&["queue"], MAX_NAME_CHARS),
];

/// Maps a generic CTI request onto a core event, checking what Zammad checks and in the same
/// order: the direction first, then the event name. A field longer than any real one (see
/// [`ringside_core::limits`]), or more than [`MAX_USERS_PER_EVENT`] users, is refused first.
pub fn event(params: &Params) -> Result<CallEvent, JournalError> {
    params.check_lengths(&BOUNDS)?;
    params.check_count(&["user[]", "user"], MAX_USERS_PER_EVENT)?;
    let direction = params
        .get("direction")
        .and_then(Direction::parse)
        .ok_or(JournalError::InvalidDirection)?;
    let name = params.get("event").unwrap_or_default();
    let kind = EventKind::parse(name).ok_or_else(|| JournalError::UnknownEvent(name.into()))?;
    let users = params.all_of(&["user", "user[]"]);
    let user = (!users.is_empty()).then(|| users.join(", "));
    let text = |key: &str| params.get(key).map(str::to_owned);
    Ok(CallEvent {
        kind: Some(kind),
        call_id: params
            .first_of(&["callId", "call_id"])
            .unwrap_or_default()
            .to_owned(),
        direction: Some(direction),
        from: text("from"),
        to: text("to"),
        user,
        queue: text("queue").filter(|q| !q.is_empty()),
        cause: text("cause"),
        answering_number: text("answeringNumber"),
        ..CallEvent::default()
    })
}

/// The JSON body Zammad answers with: `{}`, a reject, or a dial with the caller ID.
pub fn answer(answer: &PbxAnswer) -> Value {
    match answer {
        PbxAnswer::Proceed => json!({}),
        PbxAnswer::Reject => json!({"action": "reject", "reason": "busy"}),
        PbxAnswer::Dial { caller_id, number } => {
            json!({"action": "dial", "caller_id": caller_id, "number": number})
        }
    }
}

/// The JSON body of an error, `{"error": "…"}` as Zammad renders it.
pub fn error(message: &str) -> Value {
    json!({ "error": message })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> Params {
        Params::from_form(body.as_bytes()).unwrap()
    }

    #[test]
    fn new_call_with_every_parameter() {
        let event = event(&params(
            "event=newCall&direction=in&from=4912347114711&to=4930600000000\
             &callId=4991155921769858278-1&user%5B%5D=Anna&user%5B%5D=Ben&queue=support",
        ))
        .unwrap();
        assert_eq!(event.kind, Some(EventKind::NewCall));
        assert_eq!(event.direction, Some(Direction::In));
        assert_eq!(event.call_id, "4991155921769858278-1");
        assert_eq!(event.from.as_deref(), Some("4912347114711"));
        assert_eq!(event.to.as_deref(), Some("4930600000000"));
        assert_eq!(event.user.as_deref(), Some("Anna, Ben"));
        assert_eq!(event.queue.as_deref(), Some("support"));
    }

    #[test]
    fn call_id_may_be_spelled_call_id() {
        let event = event(&params(
            "event=hangup&direction=in&call_id=abc&cause=cancel",
        ))
        .unwrap();
        assert_eq!(event.call_id, "abc");
        assert_eq!(event.cause.as_deref(), Some("cancel"));
    }

    #[test]
    fn answer_carries_the_answering_number() {
        let event = event(&params(
            "event=answer&direction=in&callId=1&user=Anna&answeringNumber=4930600000001",
        ))
        .unwrap();
        assert_eq!(event.answering_number.as_deref(), Some("4930600000001"));
        assert_eq!(event.user.as_deref(), Some("Anna"));
    }

    #[test]
    fn direction_is_checked_before_the_event() {
        assert_eq!(
            event(&params("event=foo&direction=sideways&callId=1")),
            Err(JournalError::InvalidDirection)
        );
        assert_eq!(
            event(&params("event=foo&callId=1")),
            Err(JournalError::InvalidDirection)
        );
        assert_eq!(
            event(&params("event=foo&direction=in&callId=1")),
            Err(JournalError::UnknownEvent("foo".into()))
        );
    }

    #[test]
    fn overlong_fields_are_refused_naming_the_field_and_the_bound() {
        let long = |n: usize| "1".repeat(n);
        let ok = format!(
            "event=newCall&direction=in&from={}&to={}&callId={}&user={}&queue={}",
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
            ("call_id", 256),
            ("user", 256),
            ("user%5B%5D", 256),
            ("queue", 256),
            ("answeringNumber", 256),
            ("cause", 64),
        ] {
            let body = format!(
                "event=newCall&direction=in&from=1&to=2&callId=3&{field}={}",
                long(limit + 1)
            );
            let err = event(&params(&body)).unwrap_err();
            let field = field.replace("%5B%5D", "[]");
            assert_eq!(
                err.to_string(),
                format!("\"{field}\" is longer than {limit} characters")
            );
        }
        let err = event(&params(&format!("event={}&direction=in", long(65)))).unwrap_err();
        assert_eq!(err.to_string(), "\"event\" is longer than 64 characters");
        let users = "&user%5B%5D=a".repeat(101);
        let err = event(&params(&format!("event=newCall&direction=in{users}"))).unwrap_err();
        assert_eq!(err.to_string(), "more than 100 values of \"user[]\"");
    }

    #[test]
    fn answers_match_zammad() {
        assert_eq!(answer(&PbxAnswer::Proceed).to_string(), "{}");
        assert_eq!(
            answer(&PbxAnswer::Reject),
            json!({"action":"reject","reason":"busy"})
        );
        assert_eq!(
            answer(&PbxAnswer::Dial {
                caller_id: "41715880339000".into(),
                number: "4147110000000".into()
            }),
            json!({"action":"dial","caller_id":"41715880339000","number":"4147110000000"})
        );
        assert_eq!(
            error("Invalid token, please contact your admin!"),
            json!({"error":"Invalid token, please contact your admin!"})
        );
    }
}
