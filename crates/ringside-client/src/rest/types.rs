//! The request and response shapes of the agent API that are not domain types, as the hub
//! puts them on the wire.

use ringside_core::caller::CallerMatch;
use ringside_core::listing::JournalFilter;
use serde::{Deserialize, Serialize};

/// One page request of `GET /api/v1/journal`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// How many entries at most; `None` lets the hub choose.
    pub limit: Option<u32>,
    /// Only entries older than this id: the previous page's `next_before`.
    pub before: Option<i64>,
    /// Which entries.
    pub filter: JournalFilter,
}

/// The hub's answer for one caller number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerLookup {
    /// The number as the hub understood it: E.164, or raw when it is not a number.
    pub number: String,
    /// Who it is, when the directory knows.
    #[serde(rename = "match")]
    pub caller_match: Option<CallerMatch>,
}

/// How the hub placed a call (`POST /api/v1/dial`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DialResult {
    /// Who dials: `placetel`, `sipgate`, `twilio`, or `tel` (the agent's softphone).
    pub via: String,
    /// The number dialed, in E.164.
    pub number: String,
    /// With `tel`: the link the desktop opens in the softphone.
    #[serde(default)]
    pub link: Option<String>,
}

/// Body of `POST /api/v1/dial`.
#[derive(Serialize)]
pub(crate) struct DialBody<'a> {
    pub(crate) number: &'a str,
}

/// Body of `PUT /api/v1/me/dnd`.
#[derive(Serialize)]
pub(crate) struct DndBody {
    pub(crate) dnd: bool,
}

/// Body of `POST /api/v1/journal/{id}/done`.
#[derive(Serialize)]
pub(crate) struct DoneBody {
    pub(crate) done: bool,
}

/// Body of `POST /api/v1/journal/done`.
#[derive(Serialize)]
pub(crate) struct DoneIdsBody<'a> {
    pub(crate) ids: &'a [i64],
}

/// Answer of `POST /api/v1/journal/done`.
#[derive(Deserialize)]
pub(crate) struct Updated {
    pub(crate) updated: u64,
}
