//! Placetel's notify API (Zammad's `/api/v1/placetel/:token`): Placetel's events mapped onto
//! the core vocabulary as Zammad maps them, and the XML answers Zammad gives, so that a
//! Placetel account set up for Zammad works unchanged.

mod signature;

use ringside_core::call::{CallEvent, Direction, EventKind};
use ringside_core::journal::JournalError;
use ringside_core::limits::{MAX_CALL_ID_CHARS, MAX_NAME_CHARS, MAX_NUMBER_CHARS, MAX_WORD_CHARS};
use ringside_core::routing::PbxAnswer;

use crate::params::{Bound, Params};
use crate::xml;

pub use signature::{sign, verify_signature, SIGNATURE_HEADER};

/// The fields Ringside reads and their bounds.
const BOUNDS: [Bound; 4] = [
    (&["event", "direction", "type"], MAX_WORD_CHARS),
    (&["call_id"], MAX_CALL_ID_CHARS),
    (&["from", "to", "peer"], MAX_NUMBER_CHARS),
    (&["user"], MAX_NAME_CHARS),
];

/// The content type of every Placetel answer, errors included.
pub const CONTENT_TYPE: &str = xml::CONTENT_TYPE;

/// Maps a Placetel request onto a core event.
///
/// - `IncomingCall` is a new inbound call and `OutgoingCall` a new outbound one, whatever
///   `direction` says; `CallAccepted` is an answer, `HungUp` a hangup. Other event names
///   are refused.
/// - `CallAccepted` and `HungUp` take `direction` when it is `in` or `out`, and leave it
///   `None` otherwise: the hub then takes it from the journal, as Zammad does.
/// - `call_id` may be empty here; the journal refuses it.
/// - `user` is an agent name the request gives outright (Zammad's fixtures send
///   `user=voicemail` with `CallAccepted`). When a new call has none, the SIP user stands in
///   for it, for the hub to replace with the agent's name: `peer` (the calling SIP user of an
///   `OutgoingCall`, the called one of an `IncomingCall`), or else an outbound `from` that is
///   itself a SIP id (`777…@fpbx.de`, what Placetel sent before 2020), as Zammad does.
/// - On `CallAccepted`, `peer` is the SIP user that picked up: it becomes `answering_user`,
///   never `user`, so that the journal's "answered by" comes from the hub's agent mapping.
/// - `HungUp`'s `type` becomes the cause: `missed` → `cancel`, `voicemail` → `voicemail`,
///   `blocked` → `blocked`, `accepted` → `normalClearing` (Zammad's mapping); `busy` →
///   `busy`, `canceled` → `cancel`, `unavailable` → `notFound`, `congestion` → `congestion`
///   (Ringside's extension: Zammad leaves these outbound-only types without a cause; they are
///   mapped onto the generic CTI causes whose status texts say the same, "busy", "not
///   reached", "not exist", so a failed outbound call reads as such in the journal). Any other
///   type gives no cause.
/// - A field longer than any real one (see [`ringside_core::limits`]) is refused first.
pub fn event(params: &Params) -> Result<CallEvent, JournalError> {
    params.check_lengths(&BOUNDS)?;
    let name = params.get("event").unwrap_or_default();
    let (kind, forced_direction) = match name {
        "IncomingCall" => (EventKind::NewCall, Some(Direction::In)),
        "OutgoingCall" => (EventKind::NewCall, Some(Direction::Out)),
        "CallAccepted" => (EventKind::Answer, None),
        "HungUp" => (EventKind::Hangup, None),
        other => return Err(JournalError::UnknownEvent(other.to_owned())),
    };
    let direction = forced_direction.or_else(|| params.get("direction").and_then(Direction::parse));
    let text = |key: &str| params.get(key).map(str::to_owned);
    let non_empty = |key: &str| params.get(key).filter(|v| !v.is_empty());
    let peer = non_empty("peer");
    let sip_id_from = non_empty("from").filter(|from| from.contains('@'));
    let user = non_empty("user").or(match name {
        "OutgoingCall" => peer.or(sip_id_from),
        "IncomingCall" => peer,
        _ => None,
    });
    Ok(CallEvent {
        kind: Some(kind),
        call_id: params.get("call_id").unwrap_or_default().to_owned(),
        direction,
        from: text("from"),
        to: text("to"),
        user: user.map(str::to_owned),
        cause: params.get("type").and_then(cause).map(str::to_owned),
        answering_user: peer
            .filter(|_| kind == EventKind::Answer)
            .map(str::to_owned),
        ..CallEvent::default()
    })
}

/// The cause for a `HungUp` `type` (the table in [`event`]'s documentation), `None` for a
/// type Placetel has not documented.
fn cause(hangup_type: &str) -> Option<&'static str> {
    Some(match hangup_type {
        "missed" => "cancel",
        "voicemail" => "voicemail",
        "blocked" => "blocked",
        "accepted" => "normalClearing",
        "busy" => "busy",
        "canceled" => "cancel",
        "unavailable" => "notFound",
        "congestion" => "congestion",
        _ => return None,
    })
}

/// The XML answer to a Placetel request, exactly as Zammad writes it: an empty
/// `<Response/>`, a busy `<Reject/>`, or a `<Dial>` presenting another caller ID.
pub fn answer(answer: &PbxAnswer) -> String {
    xml::response(&[], answer)
}

/// The XML answer carrying an error message (bad token, integration disabled, …).
pub fn error(message: &str) -> String {
    xml::error(message)
}

#[cfg(test)]
mod tests;
