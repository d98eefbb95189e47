//! Twilio's requests about calls, told apart, and what each means for the journal.
//!
//! Twilio sends one vocabulary (`CallSid`, `CallStatus`, `Direction`, `From`, `To`, …) in
//! several kinds of request. [`classify`] tells them apart by their parameters alone, so the
//! hub may take them on one endpoint or several. [`TwilioRequest::journal_event`] maps each
//! onto Zammad's vocabulary, keyed by the `CallSid` of the customer's call (the *parent* of
//! the legs a `<Dial>` creates), so that one journal entry follows one customer call:
//!
//! | Request | Journal event |
//! |---|---|
//! | voice URL (`Direction=inbound`, `CallStatus` `ringing`/`queued`) | `newCall`, `in`, `From`/`To` as sent |
//! | leg (`Direction=outbound-dial`) `in-progress` | `answer` of `ParentCallSid`, answered by the leg's `To` |
//! | leg, any other status | none |
//! | `<Dial action>` (`DialCallStatus`) | `hangup`, cause from `DialCallStatus` |
//! | `<Queue url>` (`DequeingCallSid`): an agent takes a queued caller | `answer`, the agent known by the dequeuing call |
//! | the call's own status (callback or later request), final | `hangup`, cause from `CallStatus`; `completed`: none |
//! | the call's own status, not final | none |
//!
//! Causes: `completed` (and a conference dial's `answered`) → `normalClearing`, `busy` →
//! `busy`, `no-answer` → `noAnswer`, `failed` → `congestion`, `canceled` → `cancel`.
//!
//! Why legs never end the journal entry: a leg that ends unanswered is an agent who did not
//! pick up (one of several in a ring-all, or the only one), which says nothing about the
//! customer's call yet; and the `<Dial action>` that [`super::twiml::ring_all`] always
//! requests tells how the whole dial ended, once, with the parent's `CallSid`. The parent's
//! own final status closes calls that never reached a dial (the caller hung up during a
//! message, or in a queue) and calls bridged from a queue. Its `completed` only means Twilio answered the call to run
//! TwiML, so it carries no cause: whether the call was answered is the journal's state, and
//! the journal's rules derive done-ness from it (answered: done; still ringing: missed).
//!
//! Click-to-dial calls are created through the REST API to the agent's phone
//! (`Direction=outbound-api`), whose requests never name the customer: the hub records the
//! `newCall` itself from [`click_to_dial_new_call`] once Twilio accepted the call. Their
//! requests then map as the table says: the customer's leg `in-progress` is the `answer`,
//! the dial's outcome or the agent call's final status the `hangup`. Their `To` (the agent)
//! is never passed as the journal's `to`. The calls the hub places to offer a queued caller
//! to an agent ([`super::twiml::dial_queue`]) are `outbound-api` too: the hub knows their
//! sids and keeps their requests out of the journal.

use ringside_core::call::{CallEvent, Direction, EventKind};
use ringside_core::limits::{
    OverLimit, MAX_CALL_ID_CHARS, MAX_NAME_CHARS, MAX_NUMBER_CHARS, MAX_WORD_CHARS,
};
use thiserror::Error;

use super::twiml::RingTarget;
use crate::params::{Bound, Params};

/// The parameters Ringside reads and their bounds.
const BOUNDS: [Bound; 4] = [
    (
        &["CallSid", "ParentCallSid", "DialCallSid", "DequeingCallSid"],
        MAX_CALL_ID_CHARS,
    ),
    (
        &[
            "CallStatus",
            "DialCallStatus",
            "Direction",
            "CallbackSource",
        ],
        MAX_WORD_CHARS,
    ),
    (&["From", "To", "Caller", "Called"], MAX_NUMBER_CHARS),
    (&["CallerName"], MAX_NAME_CHARS),
];

/// Why a request is not one Twilio sends about calls. The messages are shown to the admin.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// A parameter every such request carries is missing or empty.
    #[error("missing '{0}'; is this a Twilio voice request or status callback?")]
    Missing(&'static str),
    /// A parameter has a value Twilio does not document for calls.
    #[error("unexpected {param} {value:?}")]
    Unexpected {
        /// The parameter's name.
        param: &'static str,
        /// Its value.
        value: String,
    },
    /// A parameter is longer than any real one (see [`ringside_core::limits`]).
    #[error(transparent)]
    OverLimit(#[from] OverLimit),
}

/// A call's or leg's `CallStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    /// Created through the REST API, waiting to be dialed.
    Queued,
    /// Being dialed.
    Initiated,
    /// Ringing (an inbound call's first request says so).
    Ringing,
    /// Answered: audio is connected.
    InProgress,
    /// Ended after it was answered (by a person, a voicemail or an IVR).
    Completed,
    /// The callee was busy.
    Busy,
    /// Nobody answered before the timeout.
    NoAnswer,
    /// The carrier could not connect the call.
    Failed,
    /// Canceled before it was answered (through the REST API, or a losing leg).
    Canceled,
}

impl CallStatus {
    /// Parses Twilio's spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "queued" => CallStatus::Queued,
            "initiated" => CallStatus::Initiated,
            "ringing" => CallStatus::Ringing,
            "in-progress" => CallStatus::InProgress,
            "completed" => CallStatus::Completed,
            "busy" => CallStatus::Busy,
            "no-answer" => CallStatus::NoAnswer,
            "failed" => CallStatus::Failed,
            "canceled" => CallStatus::Canceled,
            _ => return None,
        })
    }

    /// Whether the call is over.
    pub fn is_final(self) -> bool {
        match self {
            CallStatus::Queued
            | CallStatus::Initiated
            | CallStatus::Ringing
            | CallStatus::InProgress => false,
            CallStatus::Completed
            | CallStatus::Busy
            | CallStatus::NoAnswer
            | CallStatus::Failed
            | CallStatus::Canceled => true,
        }
    }

    /// The cause of a call ending this way (see the module documentation); `completed`
    /// has none.
    fn cause(self) -> Option<&'static str> {
        match self {
            CallStatus::Busy => Some("busy"),
            CallStatus::NoAnswer => Some("noAnswer"),
            CallStatus::Failed => Some("congestion"),
            CallStatus::Canceled => Some("cancel"),
            _ => None,
        }
    }
}

/// How a `<Dial>` ended, its `DialCallStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialStatus {
    /// Somebody answered and was bridged to the caller; the conversation is over.
    Completed,
    /// Somebody answered (a conference dial).
    Answered,
    /// Every dialed phone was busy.
    Busy,
    /// Nobody answered before the timeout.
    NoAnswer,
    /// The dial could not be connected.
    Failed,
    /// The dial was canceled.
    Canceled,
}

impl DialStatus {
    /// Parses Twilio's spelling.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "completed" => DialStatus::Completed,
            "answered" => DialStatus::Answered,
            "busy" => DialStatus::Busy,
            "no-answer" => DialStatus::NoAnswer,
            "failed" => DialStatus::Failed,
            "canceled" => DialStatus::Canceled,
            _ => return None,
        })
    }

    /// The cause of the call ending this way (see the module documentation).
    fn cause(self) -> &'static str {
        match self {
            DialStatus::Completed | DialStatus::Answered => "normalClearing",
            DialStatus::Busy => "busy",
            DialStatus::NoAnswer => "noAnswer",
            DialStatus::Failed => "congestion",
            DialStatus::Canceled => "cancel",
        }
    }
}

/// The call a request is about, as every request describes it: a customer's inbound call,
/// or a click-to-dial call to an agent's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// The call's `CallSid`, the journal's call id.
    pub call_sid: String,
    /// `in` for `Direction=inbound`, `out` for a call created through the REST API
    /// (`outbound-api`).
    pub direction: Direction,
    /// `From` (or `Caller`) as sent: E.164 with `+`, `client:…` or `sip:…`.
    pub from: Option<String>,
    /// `To` (or `Called`) as sent; for a click-to-dial call, the agent's phone.
    pub to: Option<String>,
    /// `CallStatus`.
    pub status: CallStatus,
}

/// A leg a `<Dial>` created (`Direction=outbound-dial`): one agent's phone rung for an
/// inbound call, or the customer's phone in a click-to-dial call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    /// The leg's own `CallSid`.
    pub call_sid: String,
    /// `ParentCallSid`: the call the leg belongs to, the journal's call id.
    pub parent_call_sid: String,
    /// The phone the leg rings (its `To` or `Called`).
    pub target: RingTarget,
    /// The leg's `CallStatus`.
    pub status: CallStatus,
}

/// One Twilio request about a call, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioRequest {
    /// The number's voice URL: a customer is calling; Twilio waits for TwiML.
    IncomingCall {
        /// The call.
        call: CallInfo,
        /// `CallerName` (CNAM), when caller-ID lookup is enabled on the number. The seed
        /// passed it as Zammad's `user`, which names agents; here it is only offered.
        caller_name: Option<String>,
    },
    /// A status callback about the call itself, or a later request on it that is none of
    /// the others (`<Gather>`, `<Enqueue>` action, …).
    CallStatus(CallInfo),
    /// A status callback of a leg a `<Dial>` created.
    LegStatus(Leg),
    /// The `<Dial action>` request: the dial is over.
    DialEnded {
        /// The call that dialed.
        call: CallInfo,
        /// `DialCallStatus`.
        status: DialStatus,
        /// `DialCallSid`: the leg that was answered, if one was.
        dial_call_sid: Option<String>,
    },
    /// The `<Queue url>` request ([`super::twiml::dial_queue`]): an agent's call takes the
    /// caller out of a queue, and the two are about to be bridged.
    Dequeued {
        /// The queued caller's call.
        call: CallInfo,
        /// `DequeingCallSid` (Twilio's spelling): the agent's call, which the hub placed.
        dequeuing_call_sid: String,
    },
}

/// Tells which kind of request `params` are (see [`TwilioRequest`]):
/// `Direction=outbound-dial` is a leg; otherwise `DialCallStatus` marks a `<Dial action>`
/// and `DequeingCallSid` a `<Queue url>` request; otherwise an inbound call that is `queued` or `ringing`, without `CallbackSource`, is
/// the voice URL request; everything else is about the call's own status. Directions other
/// than `inbound`, `outbound-api` and `outbound-dial` (SIP trunking) are refused, and so is
/// a parameter longer than any real one, before anything else.
pub fn classify(params: &Params) -> Result<TwilioRequest, RequestError> {
    params.check_lengths(&BOUNDS)?;
    let call_sid = required(params, "CallSid")?;
    let status = parsed(params, "CallStatus", CallStatus::parse)?;
    let direction = required(params, "Direction")?;
    if direction == "outbound-dial" {
        return Ok(TwilioRequest::LegStatus(Leg {
            call_sid,
            parent_call_sid: required(params, "ParentCallSid")?,
            target: RingTarget::of(&required_of(params, &["To", "Called"])?),
            status,
        }));
    }
    let call = CallInfo {
        call_sid,
        direction: match direction.as_str() {
            "inbound" => Direction::In,
            "outbound-api" => Direction::Out,
            _ => {
                return Err(RequestError::Unexpected {
                    param: "Direction",
                    value: direction,
                })
            }
        },
        from: optional(params, &["From", "Caller"]),
        to: optional(params, &["To", "Called"]),
        status,
    };
    if params.get("DialCallStatus").is_some() {
        return Ok(TwilioRequest::DialEnded {
            call,
            status: parsed(params, "DialCallStatus", DialStatus::parse)?,
            dial_call_sid: optional(params, &["DialCallSid"]),
        });
    }
    if let Some(dequeuing_call_sid) = optional(params, &["DequeingCallSid"]) {
        return Ok(TwilioRequest::Dequeued {
            call,
            dequeuing_call_sid,
        });
    }
    let first_request = call.direction == Direction::In
        && matches!(status, CallStatus::Queued | CallStatus::Ringing)
        && params.get("CallbackSource").is_none();
    Ok(if first_request {
        TwilioRequest::IncomingCall {
            call,
            caller_name: optional(params, &["CallerName"]),
        }
    } else {
        TwilioRequest::CallStatus(call)
    })
}

/// The first non-empty value among `names`.
fn optional(params: &Params, names: &[&str]) -> Option<String> {
    params.first_of(names).map(str::to_owned)
}

fn required(params: &Params, name: &'static str) -> Result<String, RequestError> {
    required_of(params, &[name])
}

/// The first non-empty value among `names`; the first name is the one reported missing.
fn required_of(params: &Params, names: &[&'static str]) -> Result<String, RequestError> {
    optional(params, names).ok_or(RequestError::Missing(names[0]))
}

fn parsed<T>(
    params: &Params,
    name: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, RequestError> {
    let value = required(params, name)?;
    parse(&value).ok_or(RequestError::Unexpected { param: name, value })
}

impl TwilioRequest {
    /// The journal event this request makes (the table in the module documentation), or
    /// `None` when it changes nothing in the journal.
    pub fn journal_event(&self) -> Option<CallEvent> {
        match self {
            TwilioRequest::IncomingCall { call, .. } => Some(about(call, EventKind::NewCall, None)),
            TwilioRequest::CallStatus(call) => call
                .status
                .is_final()
                .then(|| about(call, EventKind::Hangup, call.status.cause())),
            TwilioRequest::LegStatus(leg) => {
                (leg.status == CallStatus::InProgress).then(|| answered_by(leg))
            }
            TwilioRequest::DialEnded { call, status, .. } => {
                Some(about(call, EventKind::Hangup, Some(status.cause())))
            }
            TwilioRequest::Dequeued { call, .. } => Some(about(call, EventKind::Answer, None)),
        }
    }
}

/// An event about `call` itself, with its numbers for the journal: an inbound call's
/// `From` and `To`; a click-to-dial call's `From` (the caller ID the customer sees), but not
/// its `To`, the agent's phone.
fn about(call: &CallInfo, kind: EventKind, cause: Option<&str>) -> CallEvent {
    CallEvent {
        kind: Some(kind),
        call_id: call.call_sid.clone(),
        direction: Some(call.direction),
        from: call.from.clone(),
        to: call.to.clone().filter(|_| call.direction == Direction::In),
        cause: cause.map(str::to_owned),
        ..CallEvent::default()
    }
}

/// The `answer` of the leg's parent: a number answers as `answering_number`, a Client or
/// SIP identity as `answering_user` (the hub maps either to an agent). The direction and
/// numbers stay unset: the leg's are not the parent's.
fn answered_by(leg: &Leg) -> CallEvent {
    let (answering_number, answering_user) = match &leg.target {
        RingTarget::Number(number) => (Some(number.clone()), None),
        RingTarget::Client(identity) | RingTarget::Sip(identity) => (None, Some(identity.clone())),
    };
    CallEvent {
        kind: Some(EventKind::Answer),
        call_id: leg.parent_call_sid.clone(),
        answering_number,
        answering_user,
        ..CallEvent::default()
    }
}

/// The `newCall` of a click-to-dial call Twilio accepted (`sid` of the `201` answer):
/// outbound, from `caller_id` (the Twilio number the customer sees) to `customer`. The hub
/// records it itself because Twilio's requests about the call never name the customer; it
/// may set `user` to the agent's name.
pub fn click_to_dial_new_call(call_sid: &str, caller_id: &str, customer: &str) -> CallEvent {
    CallEvent {
        kind: Some(EventKind::NewCall),
        call_id: call_sid.to_owned(),
        direction: Some(Direction::Out),
        from: Some(caller_id.to_owned()),
        to: Some(customer.to_owned()),
        ..CallEvent::default()
    }
}
