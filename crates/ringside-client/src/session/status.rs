//! The connection state and the agent's own presence, as the window and the tray show
//! them.

use ringside_core::agent::Presence;
use serde::{Deserialize, Serialize};

/// Where the hub runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum HubMode {
    /// In this app, on loopback: nothing else to install.
    #[default]
    Embedded,
    /// On a server the team shares.
    Remote,
}

/// Where the connection to the hub stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ConnectionState {
    /// Remote mode without a hub URL or token.
    Unconfigured,
    /// The first connection attempt is under way.
    Connecting,
    /// Live: popups and the journal are current.
    Connected,
    /// The connection broke; the app is trying again.
    Reconnecting,
    /// The app cannot connect and will not retry until the settings change (e.g. the
    /// token was refused).
    Offline,
}

/// What the window's header and the tray show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppStatus {
    /// Embedded or remote hub.
    pub mode: HubMode,
    /// The connection.
    pub connection: ConnectionState,
    /// Why the app is not connected, for a human.
    pub detail: Option<String>,
    /// This agent's presence (do-not-disturb, on a call), once known.
    pub me: Option<Presence>,
    /// The hub the app talks to.
    pub hub_url: Option<String>,
    /// The help desk the hub syncs callers from, as the hub last said: its links are
    /// opened like those of the help desk set in Settings.
    pub helpdesk_url: Option<String>,
    /// This app's version.
    pub app_version: String,
    /// The hub's version, as the hub last said; `None` before it did, or from a hub that
    /// predates versioning.
    pub hub_version: Option<String>,
    /// Why the hub is older than this app supports, for a human; `None`: it is not.
    pub hub_warning: Option<String>,
}

impl AppStatus {
    /// The status before anything happened.
    pub fn starting(mode: HubMode) -> AppStatus {
        AppStatus {
            mode,
            connection: ConnectionState::Connecting,
            detail: None,
            me: None,
            hub_url: None,
            helpdesk_url: None,
            app_version: crate::hub_version::APP_VERSION.to_owned(),
            hub_version: None,
            hub_warning: None,
        }
    }

    /// Whether the app stopped trying: it will not connect without new settings.
    pub fn given_up(&self) -> bool {
        matches!(
            self.connection,
            ConnectionState::Offline | ConnectionState::Unconfigured
        )
    }

    /// The tray's look for this status.
    pub fn tray_look(&self) -> TrayLook {
        if self.connection != ConnectionState::Connected {
            return TrayLook::Disconnected;
        }
        match &self.me {
            Some(me) if me.dnd => TrayLook::DoNotDisturb,
            Some(me) if me.on_call.is_some() => TrayLook::OnCall,
            _ => TrayLook::Available,
        }
    }
}

/// The four looks of the tray icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayLook {
    /// Connected, ready for calls.
    Available,
    /// Connected, do-not-disturb on.
    DoNotDisturb,
    /// Connected, on a call.
    OnCall,
    /// Not connected: no popups will come.
    Disconnected,
}

impl TrayLook {
    /// The tooltip and menu text for this look.
    pub fn describe(self, detail: Option<&str>) -> String {
        match self {
            TrayLook::Available => "Ringside: available".into(),
            TrayLook::DoNotDisturb => "Ringside: do not disturb".into(),
            TrayLook::OnCall => "Ringside: on a call".into(),
            TrayLook::Disconnected => match detail {
                Some(detail) => format!("Ringside: not connected ({detail})"),
                None => "Ringside: not connected".into(),
            },
        }
    }
}
