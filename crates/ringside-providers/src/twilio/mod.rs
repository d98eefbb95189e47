//! Twilio Programmable Voice (`/api/v1/twilio/:token/...`), replacing the Zammad Twilio
//! add-on: the request signature, Twilio's requests mapped onto the journal's vocabulary,
//! the TwiML answers (ring all agents, reject, queue, say and hang up), and the REST
//! click-to-dial request.
//!
//! Improvements on the add-on: requests are signed and checked; a blocked caller is
//! rejected without being answered; numbers are kept as sent (E.164 with `+`, never
//! stripped); Client and SIP identities are kept as identities; `CallerName` is not passed
//! off as the agent; every dial has a timeout and an `action`, so a missed call is closed
//! with its cause; losing legs of a ring-all do not touch the journal.

mod request;
mod rest;
mod signature;
pub mod twiml;

pub use request::{
    classify, click_to_dial_new_call, CallInfo, CallStatus, DialStatus, Leg, RequestError,
    TwilioRequest,
};
pub use rest::{calls_url, click_to_dial_form, API_BASE, CLICK_TO_DIAL_TIMEOUT_SECS};
pub use signature::{sign_form, verify_form, verify_json, SIGNATURE_HEADER};
pub use twiml::RingTarget;

#[cfg(test)]
mod tests;
