//! What the session is told from outside: the agent's settings that apply without a
//! reconnection, the tuning of its timers, and where the hub is.

use std::time::Duration;

use crate::backoff::BackoffPolicy;
use crate::endpoint::HubEndpoint;
use crate::rest::DEFAULT_REQUEST_TIMEOUT;
use crate::state::{PopupOn, DEFAULT_POPUP_WINDOW};
use crate::stream::StreamConfig;

use super::popups::DEFAULT_KEEP_WARM;

/// The agent's settings the session follows as they change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    /// When the popup opens.
    pub popup_on: PopupOn,
    /// Whether a ringing call shows a desktop notification.
    pub notifications: bool,
    /// Where the popup's "new ticket" leads, when a help desk is configured.
    pub new_ticket_url: Option<String>,
    /// Whether phone links in the app's own windows wait for the agent's confirmation.
    pub confirm_app_links: bool,
    /// How long the hidden popup window is kept for the next call before it is closed.
    pub popup_keep_warm: Duration,
}

impl Default for SessionSettings {
    /// Pop on ring, notify, no help desk, confirm links, keep the popup window warm for
    /// [`DEFAULT_KEEP_WARM`].
    fn default() -> Self {
        SessionSettings {
            popup_on: PopupOn::Ring,
            notifications: true,
            new_ticket_url: None,
            confirm_app_links: true,
            popup_keep_warm: DEFAULT_KEEP_WARM,
        }
    }
}

/// The session's timers and limits.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Delays between `GET /me` attempts while the hub is unreachable.
    pub me_retry: BackoffPolicy,
    /// The stream's own settings.
    pub stream: StreamConfig,
    /// How long one REST request may take.
    pub request_timeout: Duration,
    /// How old a ringing call may be and still pop up.
    pub popup_window: Duration,
    /// How long a phone link clicked while the app starts waits for the connection.
    pub link_patience: Duration,
}

impl Default for SessionConfig {
    /// The stream's reconnect policy for `/me` too, 10 s requests, a 60 s popup window,
    /// 15 s of patience for links.
    fn default() -> Self {
        SessionConfig {
            me_retry: BackoffPolicy::default(),
            stream: StreamConfig::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            popup_window: DEFAULT_POPUP_WINDOW,
            link_patience: Duration::from_secs(15),
        }
    }
}

/// Where the hub is, as the shell found it (the embedded hub started, or the remote one's
/// token read from the keyring).
#[derive(Debug, Clone)]
pub enum EndpointLookup {
    /// The hub and the token.
    Found(HubEndpoint),
    /// Remote mode without a URL or token: the agent must fill in Settings.
    Unconfigured,
    /// The hub could not be found or started; why, for a human.
    Failed(String),
}
