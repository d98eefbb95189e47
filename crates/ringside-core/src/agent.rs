//! Agents and their availability, as the hub tracks it and the team view shows it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::call::Provider;

/// An agent's ids at the phone providers: the Placetel SIP user (`777…@fpbx.de`), the
/// sipgate user id (`w0`), the Twilio phone (`+49…`) or client (`client:anna`). The hub maps
/// the provider's "who answered" to an agent with them, and rings agents through them.
pub type Identities = BTreeMap<Provider, String>;

/// What an agent may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Receives calls, dials out, works the journal.
    Agent,
    /// An agent who also manages agents and reads the webhook log.
    Admin,
}

impl Role {
    /// The database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    /// Parses the database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An agent's availability as everyone on the team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Presence {
    /// The agent's login.
    pub login: String,
    /// The agent's display name.
    pub name: String,
    /// `agent` or `admin`.
    pub role: Role,
    /// The agent's own phone numbers, as entered.
    pub numbers: Vec<String>,
    /// The agent's ids at the phone providers.
    #[serde(default)]
    pub identities: Identities,
    /// Whether the agent has a live stream connection.
    pub online: bool,
    /// Whether the agent asked not to be rung.
    pub dnd: bool,
    /// Whether the agent is away (holiday, sick leave): never rung, whatever the app shows.
    #[serde(default)]
    pub out_of_office: bool,
    /// The call the agent is on, if any.
    pub on_call: Option<OnCall>,
}

/// The call an agent is on, for the team view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OnCall {
    /// The journal id of the call.
    pub call: i64,
    /// The other party: a contact's name when known, else the number.
    pub with: String,
    /// When the agent picked up.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}
