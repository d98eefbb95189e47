//! Ringside's domain, kept pure so that every rule can be unit-tested without a server:
//! no IO, no async and no clock reads (the time is always passed in).
//!
//! - [`call`]: a journal entry and the events that move it;
//! - [`journal`]: Zammad's caller-log rules, with Ringside's improvements;
//! - [`limits`]: how long and how many of anything from outside the hub keeps;
//! - [`listing`]: the journal as the agent API lists it;
//! - [`number`]: phone numbers normalized to E.164 and found in free text;
//! - [`caller`]: who is calling, as found in the directory;
//! - [`directory`]: contacts and tickets read from vCard, CSV and JSON lines;
//! - [`routing`]: blocking, outbound caller-ID rewrite and who is notified;
//! - [`agent`]: agents and their presence;
//! - [`stream`]: the messages of the hub's live event stream;
//! - [`api`]: the bodies and queries of the hub's agent and admin API.

pub mod agent;
pub mod api;
pub mod call;
pub mod caller;
pub mod directory;
pub mod journal;
pub mod limits;
pub mod listing;
pub mod number;
pub mod routing;
pub mod stream;
