//! A call as the journal keeps it, and the events a phone system sends about it.
//!
//! Field names and values follow Zammad's caller log (`cti_logs`) so that anything built
//! for Zammad's caller log can read Ringside's journal; Ringside's own fields (`id`,
//! `provider`, `answered_by`, `offered_to`, `caller`) come on top.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::caller::CallerMatch;

/// The phone system a call came through; part of a call's identity because two providers
/// may use the same call id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Zammad's generic CTI push API (`/api/v1/cti/:token`).
    Generic,
    /// Placetel's notify API.
    Placetel,
    /// sipgate.io push API.
    Sipgate,
    /// Twilio Programmable Voice.
    Twilio,
}

impl Provider {
    /// Every provider, in the order of the enum.
    pub const ALL: [Provider; 4] = [
        Provider::Generic,
        Provider::Placetel,
        Provider::Sipgate,
        Provider::Twilio,
    ];

    /// Parses the database and configuration name.
    pub fn parse(value: &str) -> Option<Self> {
        Provider::ALL
            .into_iter()
            .find(|provider| provider.as_str() == value)
    }

    /// How the provider is named to agents and admins, in messages and in the desktop UI
    /// (whose TypeScript copy is generated from this).
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Generic => "Generic CTI",
            Provider::Placetel => "Placetel",
            Provider::Sipgate => "sipgate",
            Provider::Twilio => "Twilio",
        }
    }

    /// The name stored in the database and shown in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Generic => "generic",
            Provider::Placetel => "placetel",
            Provider::Sipgate => "sipgate",
            Provider::Twilio => "twilio",
        }
    }
}

/// Whether the customer called us (`in`) or an agent called out (`out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// A customer calls the support line.
    In,
    /// An agent calls a customer.
    Out,
}

impl Direction {
    /// Parses Zammad's `direction` parameter; anything but `in` or `out` is invalid.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }

    /// The wire and database name, `in` or `out`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// Where a call stands. Serialized with Zammad's state names (`newCall`, `answer`, `hangup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum CallState {
    /// The phone rings; nobody has picked up yet.
    #[serde(rename = "newCall")]
    Ringing,
    /// Somebody (an agent, or a voicemail box) picked up.
    #[serde(rename = "answer")]
    Answered,
    /// The call is over.
    #[serde(rename = "hangup")]
    Ended,
}

impl CallState {
    /// The database name, Zammad's state name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Ringing => "newCall",
            CallState::Answered => "answer",
            CallState::Ended => "hangup",
        }
    }
}

/// The three events of Zammad's CTI vocabulary, which every provider is mapped onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A call starts ringing (inbound) or is being dialed (outbound).
    #[serde(rename = "newCall")]
    NewCall,
    /// Somebody picked up.
    #[serde(rename = "answer")]
    Answer,
    /// The call ended, answered or not.
    #[serde(rename = "hangup")]
    Hangup,
}

impl EventKind {
    /// Parses Zammad's `event` parameter.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "newCall" => Some(EventKind::NewCall),
            "answer" => Some(EventKind::Answer),
            "hangup" => Some(EventKind::Hangup),
            _ => None,
        }
    }
}

/// One event about one call, already mapped from the provider's wire format.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallEvent {
    /// What happened.
    pub kind: Option<EventKind>,
    /// The provider's call id.
    pub call_id: String,
    /// The direction the request states; follow-up events of some providers carry none.
    pub direction: Option<Direction>,
    /// The calling side as the PBX sends it.
    pub from: Option<String>,
    /// The called side as the PBX sends it.
    pub to: Option<String>,
    /// The agent name(s) the PBX names, several joined with `", "`.
    pub user: Option<String>,
    /// The queue (hunt group) the call came in on.
    pub queue: Option<String>,
    /// The PBX's cause, e.g. `normalClearing`, `cancel`, `busy`, `forwarded`.
    pub cause: Option<String>,
    /// The number of the phone that picked up (generic CTI `answeringNumber`).
    pub answering_number: Option<String>,
    /// The provider's id of the user or device that picked up (Placetel `peer` SIP user,
    /// sipgate `userId`), mapped to an agent by the agents' provider identities.
    pub answering_user: Option<String>,
    /// The provider's ids of the users a new call is offered to (sipgate `userId[]`).
    pub offered_users: Vec<String>,
}

/// A journal entry: one call, as it now is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Call {
    /// The hub's id of the entry (0 until the store has assigned one).
    pub id: i64,
    /// The phone system the call came through.
    pub provider: Provider,
    /// The provider's call id.
    pub call_id: String,
    /// `in` or `out`.
    pub direction: Direction,
    /// `newCall`, `answer` or `hangup`.
    pub state: CallState,
    /// The calling side as sent by the PBX (for outbound calls, the caller ID actually used).
    pub from: String,
    /// Display name of the calling side.
    pub from_comment: Option<String>,
    /// `from` formatted for humans.
    pub from_pretty: String,
    /// The called side as sent by the PBX.
    pub to: String,
    /// Display name of the called side.
    pub to_comment: Option<String>,
    /// `to` formatted for humans.
    pub to_pretty: String,
    /// The queue; defaults to `to` for inbound and to `from` for outbound calls.
    pub queue: Option<String>,
    /// The last cause the PBX sent.
    pub comment: Option<String>,
    /// Whether nothing is left to do about the call (a missed call is not done).
    pub done: bool,
    /// When the call started ringing.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub initialized_at: Option<OffsetDateTime>,
    /// When it was answered.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_at: Option<OffsetDateTime>,
    /// When it ended.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_at: Option<OffsetDateTime>,
    /// Seconds from ringing to answer (or to hangup when nobody answered).
    pub duration_waiting_time: Option<i64>,
    /// Seconds from answer to hangup.
    pub duration_talking_time: Option<i64>,
    /// Login of the agent who picked up, when the hub could tell.
    pub answered_by: Option<String>,
    /// Logins of the agents the call is meant for; `null` means every agent.
    pub offered_to: Option<Vec<String>>,
    /// Who the other party is, as found in the directory.
    pub caller: Option<CallerMatch>,
    /// The help-desk ticket the call was logged in, once the help desk has it.
    #[serde(default)]
    pub ticket: Option<CallTicket>,
    /// When the entry was created.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the entry last changed.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The help-desk ticket a call was logged in (a new ticket, or an open one the call was
/// added to as an article), so that the journal and the popup link to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallTicket {
    /// The help desk's ticket id (the one in its links).
    pub id: u64,
    /// The ticket number people read and say.
    pub number: String,
    /// The ticket's page in the help desk.
    pub url: String,
}

impl Call {
    /// The other party's number: the caller of an inbound call, the callee of an outbound one.
    pub fn remote_party(&self) -> &str {
        match self.direction {
            Direction::In => &self.from,
            Direction::Out => &self.to,
        }
    }

    /// Whether this is a missed inbound call nobody has dealt with yet.
    pub fn is_open_missed(&self) -> bool {
        self.direction == Direction::In && self.state == CallState::Ended && !self.done
    }
}
