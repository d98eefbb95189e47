//! The stack of open caller popups: one per call ringing for the agent, the newest shown.
//! The window that shows them is the shell's.

use std::collections::BTreeMap;
use std::time::Duration;

use ringside_core::call::Call;
use serde::Serialize;

/// How long a hidden popup window waits for the next call before it is closed, unless the
/// agent's preferences say otherwise: a busy line pops at once, an idle app holds no web
/// view.
pub const DEFAULT_KEEP_WARM: Duration = Duration::from_secs(30);

/// The longest keep-warm time the preferences may ask for: a window kept longer is as good
/// as one kept for ever, which costs its memory all day.
pub const MAX_KEEP_WARM: Duration = Duration::from_secs(3600);

/// What the popup shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PopupView {
    /// The call as it now is.
    pub call: Call,
    /// The name of the agent who answered, when someone did.
    pub answered_by_name: Option<String>,
    /// Where "new ticket" leads, when a help desk is configured.
    pub new_ticket_url: Option<String>,
    /// The help desk the hub syncs callers from, when it does: the popup offers to create
    /// an unknown caller's customer there.
    pub helpdesk_url: Option<String>,
}

/// The calls whose popup is open; the window shows the newest.
#[derive(Debug, Default)]
pub struct OpenPopups {
    views: BTreeMap<i64, PopupView>,
    /// Counts the popups opened, so that a hidden window's closing timer can tell that a
    /// call came (and perhaps went) since it was set.
    opened: u64,
}

impl OpenPopups {
    /// Opens the popup of a call (or refreshes it).
    pub fn open(&mut self, view: PopupView) {
        self.opened += 1;
        self.views.insert(view.call.id, view);
    }

    /// Refreshes the popup of a call if it is open: one the agent closed stays closed.
    pub fn refresh(&mut self, view: PopupView) {
        if let Some(open) = self.views.get_mut(&view.call.id) {
            *open = view;
        }
    }

    /// Closes the popup of a call.
    pub fn remove(&mut self, id: i64) {
        self.views.remove(&id);
    }

    /// Closes them all.
    pub fn clear(&mut self) {
        self.views.clear();
    }

    /// What the window shows: the newest call's popup.
    pub fn current(&self) -> Option<&PopupView> {
        self.views.values().next_back()
    }

    /// How many popups were opened so far.
    pub fn opened(&self) -> u64 {
        self.opened
    }
}
