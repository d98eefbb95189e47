//! PBX webhooks. Each provider's handler reads its wire format into a core event; the
//! shared [`pipeline`] applies the block list and the outbound routing table, identifies the
//! caller, and records the event durably before the handler answers.

mod generic;
pub mod log;
pub mod pipeline;

pub use generic::generic_cti;
