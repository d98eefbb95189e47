//! The session's [`Display`] on the desktop: the windows' events, the tray, the popup
//! window, the notification daemon and the link opener. Each method only hands the thing
//! to Tauri.

use ringside_client::call_notification::NotificationAction;
use ringside_client::dial_prompt::DialPrompt;
use ringside_client::session::{AppStatus, Display, Notice, PopupView};
use ringside_core::agent::Presence;
use serde::Serialize;
use tauri::{AppHandle, Emitter};
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::notification::Notifier;
use crate::{popup, tray};

/// The event that tells the main window which prompt to show.
const PROMPT_EVENT: &str = "dial-prompt";

/// Shows the session in the app's windows, tray and notifications.
pub struct TauriDisplay {
    app: AppHandle,
    notifier: Notifier,
}

impl TauriDisplay {
    /// The display of `app`, with its notification thread started.
    pub fn new(app: AppHandle) -> TauriDisplay {
        TauriDisplay {
            app,
            notifier: Notifier::start(),
        }
    }

    /// Sends `event` to every window.
    fn emit(&self, event: &str, payload: impl Serialize + Clone) {
        if let Err(e) = self.app.emit(event, payload) {
            tracing::warn!("sending {event} to the windows: {e}");
        }
    }

    /// Brings the main window forward and sends it `event`.
    fn tell_main_window(&self, event: &str, payload: impl Serialize + Clone) {
        crate::main_window::show(&self.app);
        if let Err(e) = self.app.emit_to(crate::main_window::MAIN, event, payload) {
            tracing::warn!("sending {event} to the main window: {e}");
        }
    }
}

impl Display for TauriDisplay {
    fn show_status(&self, status: &AppStatus) {
        self.emit("status", status);
        tray::show(&self.app, status);
    }

    fn show_popup(&self, view: &PopupView) {
        popup::show(&self.app, view);
    }

    fn hide_popup(&self) {
        popup::hide(&self.app);
    }

    fn close_popup(&self) {
        popup::close(&self.app);
    }

    fn notify(&self, action: NotificationAction) {
        self.notifier.carry_out(action);
    }

    fn journal_changed(&self) {
        self.emit("journal-changed", ());
    }

    fn team_changed(&self, team: &[Presence]) {
        self.emit("team-changed", team);
    }

    fn show_dial_prompt(&self, prompt: Option<&DialPrompt>) {
        self.tell_main_window(PROMPT_EVENT, prompt);
    }

    fn show_notice(&self, notice: &Notice) {
        self.tell_main_window("notice", notice);
    }

    fn is_phone_link_handler(&self) -> bool {
        crate::link_handler::is_handler(&self.app)
    }

    fn open_softphone(&self, link: &Url) -> Result<(), String> {
        self.app
            .opener()
            .open_url(link.as_str(), None::<&str>)
            .map_err(|e| e.to_string())
    }
}
