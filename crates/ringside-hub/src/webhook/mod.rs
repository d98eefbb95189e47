//! PBX webhooks. Each provider's handler reads its wire format into a core event; the
//! shared [`crate::intake`] applies the block list and the outbound routing table, identifies the
//! caller, and records the event durably before the handler answers.

pub mod failure;
pub(crate) mod gate;
mod generic;
pub(crate) mod observe;
mod placetel;
mod sipgate;
pub mod twilio;

pub use generic::generic_cti;
pub use placetel::placetel;
pub use sipgate::sipgate;
