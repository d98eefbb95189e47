//! Ringside's wire formats, kept pure so that each can be unit-tested against the
//! documented examples: a provider's request becomes a [`ringside_core::call::CallEvent`],
//! and a [`ringside_core::routing::PbxAnswer`] becomes the provider's response body.
//!
//! - [`generic`]: Zammad's generic CTI push API, form-encoded or JSON in, JSON out.
//! - [`placetel`]: Placetel's notify API, form-encoded in, XML out, HMAC-signed.
//! - [`sipgate`]: sipgate.io's push API, form-encoded in, XML out, RSA-signed.
//! - [`twilio`]: Twilio Programmable Voice, form-encoded in, TwiML out, HMAC-signed.
//! - [`zammad`]: Zammad's REST API (users, organizations, tickets), JSON in.
//! - [`signature`]: why a signed webhook was refused, shared by the signing providers.
//! - [`zammad_relay`]: what the hub forwards to Zammad's generic CTI endpoint, JSON out.

pub mod generic;
mod params;
pub mod placetel;
pub mod signature;
pub mod sipgate;
pub mod twilio;
mod xml;
pub mod zammad;
pub mod zammad_relay;

pub use params::{Params, WireError};
