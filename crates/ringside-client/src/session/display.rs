//! What the session asks of the desktop shell: the only way out of the session. The shell
//! implements it with its windows, tray, notification daemon and link opener, and nothing
//! else; tests implement it with a recorder.

use ringside_core::agent::Presence;
use url::Url;

use super::notice::Notice;
use super::popups::PopupView;
use super::status::AppStatus;
use crate::call_notification::NotificationAction;
use crate::dial_prompt::DialPrompt;

/// The shell's side of the session. The popup, status, notification and window-event
/// methods are called by the session's task, one at a time and in order, so the windows
/// follow the session as it changed; each returns quickly (the task shows nothing else
/// meanwhile). The phone-link methods are called beside it.
pub trait Display: Send + Sync + 'static {
    /// The status changed: show it in the windows and the tray.
    fn show_status(&self, status: &AppStatus);
    /// Show this popup in the popup window, making the window when there is none.
    fn show_popup(&self, view: &PopupView);
    /// No popup is open any more: hide the popup window (it is kept warm for the next
    /// call).
    fn hide_popup(&self);
    /// The hidden popup window stayed unused for the keep-warm time
    /// ([`super::SessionSettings::popup_keep_warm`]): close it.
    fn close_popup(&self);
    /// Show, replace or withdraw a desktop notification.
    fn notify(&self, action: NotificationAction);
    /// Calls changed: the windows refresh the journal.
    fn journal_changed(&self);
    /// Someone's presence changed: the windows refresh the team.
    fn team_changed(&self, team: &[Presence]);
    /// Bring the main window forward with the phone link waiting for the agent's answer.
    fn show_dial_prompt(&self, prompt: Option<&DialPrompt>);
    /// Bring the main window forward with how a phone link went.
    fn show_notice(&self, notice: &Notice);
    /// Whether this app is the computer's handler of `tel:` links.
    fn is_phone_link_handler(&self) -> bool;
    /// Hand the hub's `tel:` link to the computer's softphone; the error says why not.
    fn open_softphone(&self, link: &Url) -> Result<(), String>;
}
