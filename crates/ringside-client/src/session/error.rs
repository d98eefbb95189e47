//! Why something the agent asked of the session did not happen, with the stable code the UI
//! switches on.

use crate::dial_prompt::PromptRefused;
use crate::error::ClientError;
use crate::links::LinkRefused;

/// A failed request to the session.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// The action needs the hub and there is no connection yet.
    #[error("Not connected to the hub yet: check Settings")]
    NotConnected,
    /// The hub refused or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A link the app does not open.
    #[error(transparent)]
    Link(#[from] LinkRefused),
    /// Too many phone links wait for the agent already.
    #[error(transparent)]
    Prompt(#[from] PromptRefused),
    /// The desktop could not open the softphone's link.
    #[error("opening {link}: {reason}")]
    Desktop {
        /// The link.
        link: String,
        /// What the desktop said.
        reason: String,
    },
    /// A phone link could not be followed, for the reason inside.
    #[error("Could not dial {number}: {reason}")]
    CouldNotDial {
        /// The number of the link.
        number: String,
        /// Why.
        reason: Box<SessionError>,
    },
}

impl SessionError {
    /// The stable code: `not_connected`, `too_many_links`, `desktop`, a link's code
    /// (`link_refused`, `no_dialer`) or a hub client's (`unauthorized`, `hub_unreachable`…).
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::NotConnected => "not_connected",
            SessionError::Client(error) => error.code(),
            SessionError::Link(refused) => refused.code(),
            SessionError::Prompt(_) => "too_many_links",
            SessionError::Desktop { .. } => "desktop",
            SessionError::CouldNotDial { reason, .. } => reason.code(),
        }
    }
}
