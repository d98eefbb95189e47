//! The error every command returns to the UI: a stable code the UI can branch on and a
//! message for the agent.

use ringside_client::error::ClientError;
use ringside_client::links::LinkRefused;
use ringside_client::preferences::PreferencesError;
use ringside_client::session::SessionError;
use serde::Serialize;
use ts_rs::TS;

/// A failed command, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct UiError {
    /// Stable: `not_connected`, `link_refused`, `no_dialer`, `too_many_links`, `keyring`,
    /// `preferences`, `embedded_hub`, `invalid_input`, `desktop`, or a hub client code
    /// (`unauthorized`, `hub_unreachable`, `plain_http_hub`…).
    pub code: String,
    /// What happened, for a human.
    pub message: String,
}

impl UiError {
    /// An error with its code and message.
    pub fn new(code: &str, message: impl Into<String>) -> UiError {
        UiError {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl From<ClientError> for UiError {
    fn from(error: ClientError) -> UiError {
        UiError::new(error.code(), error.to_string())
    }
}

impl From<SessionError> for UiError {
    fn from(error: SessionError) -> UiError {
        UiError::new(error.code(), error.to_string())
    }
}

impl From<LinkRefused> for UiError {
    fn from(error: LinkRefused) -> UiError {
        UiError::new(error.code(), error.to_string())
    }
}

impl From<PreferencesError> for UiError {
    fn from(error: PreferencesError) -> UiError {
        UiError::new(error.code(), error.to_string())
    }
}
