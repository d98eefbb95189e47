//! sipgate.io's push API (Zammad's `/api/v1/sipgate/:token/{in|out}`): sipgate already
//! speaks the core vocabulary, so its fields are read as sent; the XML answers are Zammad's,
//! subscribing to the follow-up events, so that a sipgate account set up for Zammad works
//! unchanged.

mod signature;

use ringside_core::call::{CallEvent, Direction, EventKind};
use ringside_core::journal::JournalError;
use ringside_core::limits::{
    OverLimit, MAX_CALL_ID_CHARS, MAX_NAME_CHARS, MAX_NUMBER_CHARS, MAX_USERS_PER_EVENT,
    MAX_WORD_CHARS,
};
use ringside_core::routing::PbxAnswer;

use crate::params::{Bound, Params};
use crate::xml;

pub use signature::{KeyError, SipgateVerifier, SIGNATURE_HEADER, SIPGATE_PUBLIC_KEY};

/// The fields Ringside reads and their bounds.
const BOUNDS: [Bound; 4] = [
    (&["event", "direction", "cause"], MAX_WORD_CHARS),
    (&["callId"], MAX_CALL_ID_CHARS),
    (&["from", "to", "answeringNumber"], MAX_NUMBER_CHARS),
    (&["user[]", "user", "userId[]", "userId"], MAX_NAME_CHARS),
];

/// The content type of every sipgate answer, errors included.
pub const CONTENT_TYPE: &str = xml::CONTENT_TYPE;

/// Maps a sipgate.io request onto a core event.
///
/// `Ok(None)` means "accepted and ignored": a `dtmf` event, which only arrives when an
/// answer asked for digits with `<Gather>` (Ringside never does). The hub answers it with
/// the OK answer and changes nothing. It is recognised before the direction is checked,
/// because sipgate sends `dtmf` without one.
///
/// Otherwise, as Zammad does, the direction (`in`/`out`, from the body: the `/in` or `/out`
/// in the URL only selects the route) is checked first, then the event name (`newCall`,
/// `answer`, `hangup`). Then:
/// - `user[]` (or `user`) is the agent name(s): the receiving users of an inbound
///   `newCall`, the caller of an outbound one, the answering user of an `answer` (`voicemail`
///   when the voicemail box picked up). Several entries are joined with `", "`; a single
///   comma-joined entry is kept as sent (`user 1,user 2`, as Zammad stores it).
/// - `userId[]` of a `newCall` become `offered_users`, `userId` of an `answer` the
///   `answering_user`; both are sipgate user ids (`w0`) the hub maps to agents.
/// - `answeringNumber` and `cause` are taken as sent.
/// - `origCallId`, `xcid`, `fullUserId[]` and `diversion` are accepted and ignored.
///
/// Before anything else, a field longer than any real one (see [`ringside_core::limits`]),
/// or more than [`MAX_USERS_PER_EVENT`] `user[]` or `userId[]` entries, is refused.
pub fn event(params: &Params) -> Result<Option<CallEvent>, JournalError> {
    params.check_lengths(&BOUNDS)?;
    params.check_count(&["user[]", "user"], MAX_USERS_PER_EVENT)?;
    params.check_count(&["userId[]", "userId"], MAX_USERS_PER_EVENT)?;
    let name = params.get("event").unwrap_or_default();
    if name == "dtmf" {
        return Ok(None);
    }
    let direction = params
        .get("direction")
        .and_then(Direction::parse)
        .ok_or(JournalError::InvalidDirection)?;
    let kind = EventKind::parse(name).ok_or_else(|| JournalError::UnknownEvent(name.into()))?;
    let names: Vec<&str> = params
        .all_of(&["user[]", "user"])
        .into_iter()
        .filter(|name| !name.is_empty())
        .collect();
    let user_ids = user_ids(params)?;
    let (offered_users, answering_user) = match kind {
        EventKind::NewCall => (user_ids, None),
        EventKind::Answer => (Vec::new(), user_ids.into_iter().next()),
        EventKind::Hangup => (Vec::new(), None),
    };
    let text = |key: &str| params.get(key).map(str::to_owned);
    Ok(Some(CallEvent {
        kind: Some(kind),
        call_id: params.get("callId").unwrap_or_default().to_owned(),
        direction: Some(direction),
        from: text("from"),
        to: text("to"),
        user: (!names.is_empty()).then(|| names.join(", ")),
        cause: text("cause"),
        answering_number: text("answeringNumber"),
        answering_user,
        offered_users,
        ..CallEvent::default()
    }))
}

/// The sipgate user ids a request names, one per `userId[]` entry (or in one comma-joined
/// entry, like `user[]`), for exact matching against the agents' sipgate ids; at most
/// [`MAX_USERS_PER_EVENT`], however they are written.
fn user_ids(params: &Params) -> Result<Vec<String>, OverLimit> {
    let ids: Vec<String> = params
        .all_of(&["userId[]", "userId"])
        .into_iter()
        .flat_map(|ids| ids.split(','))
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .take(MAX_USERS_PER_EVENT + 1)
        .map(str::to_owned)
        .collect();
    if ids.len() > MAX_USERS_PER_EVENT {
        return Err(OverLimit::TooMany {
            field: "userId[]".into(),
            limit: MAX_USERS_PER_EVENT,
        });
    }
    Ok(ids)
}

/// The XML answer to a sipgate request, exactly as Zammad writes it: the root carries
/// `onHangup` then `onAnswer`, both set to `callback_url`, so that sipgate sends this call's
/// `answer` and `hangup` events there (by default it sends only `newCall`).
pub fn answer(answer: &PbxAnswer, callback_url: &str) -> String {
    xml::response(
        &[("onHangup", callback_url), ("onAnswer", callback_url)],
        answer,
    )
}

/// The XML answer carrying an error message (bad token, integration disabled, …); like
/// Zammad's, it subscribes to nothing.
pub fn error(message: &str) -> String {
    xml::error(message)
}

#[cfg(test)]
mod tests;
