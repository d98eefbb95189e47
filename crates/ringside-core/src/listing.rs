//! The journal as the agent API lists it (`GET /api/v1/journal`): one definition for the hub
//! that answers and the client that asks.

use serde::{Deserialize, Serialize};

use crate::call::Call;

/// Which journal entries an agent wants to see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum JournalFilter {
    /// Every call.
    #[default]
    All,
    /// Inbound calls nobody answered.
    Missed,
    /// Calls the agent answered or that were meant for the agent alone.
    Mine,
}

/// One page of the journal, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JournalPage {
    /// The entries.
    pub entries: Vec<Call>,
    /// Pass as `before` to get the next (older) page; `null` on the last page.
    pub next_before: Option<i64>,
}
