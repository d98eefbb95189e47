//! The caller popup: a small always-on-top window, made once at start and hidden between
//! calls so that it appears at once. It never takes the keyboard focus.

use std::collections::BTreeMap;

use ringside_core::call::Call;
use serde::Serialize;
use tauri::{AppHandle, Emitter, LogicalPosition, Manager, WebviewUrl, WebviewWindowBuilder};
use ts_rs::TS;

/// The popup window's label.
pub const LABEL: &str = "popup";
const WIDTH: f64 = 380.0;
const HEIGHT: f64 = 280.0;
const MARGIN: f64 = 16.0;

/// What the popup shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct PopupView {
    /// The call as it now is.
    pub call: Call,
    /// The name of the agent who answered, when someone did.
    pub answered_by_name: Option<String>,
    /// Where "new ticket" leads, when a help desk is configured.
    pub new_ticket_url: Option<String>,
}

/// The calls whose popup is open; the window shows the newest.
#[derive(Debug, Default)]
pub struct OpenPopups {
    views: BTreeMap<i64, PopupView>,
}

impl OpenPopups {
    /// Opens or refreshes the popup of a call.
    pub fn put(&mut self, view: PopupView) {
        self.views.insert(view.call.id, view);
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
}

/// Makes the hidden popup window.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let window = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("popup.html".into()))
        .title("Ringside: incoming call")
        .inner_size(WIDTH, HEIGHT)
        .resizable(false)
        .decorations(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .focused(false)
        .focusable(false)
        .visible(false)
        .build()?;
    if let Ok(Some(monitor)) = window.primary_monitor() {
        let scale = monitor.scale_factor();
        let origin = monitor.position().to_logical::<f64>(scale);
        let size = monitor.size().to_logical::<f64>(scale);
        let _ = window.set_position(LogicalPosition::new(
            origin.x + size.width - WIDTH - MARGIN,
            // Bottom right: clear of the notifications, which most desktops show top right.
            origin.y + size.height - HEIGHT - MARGIN * 4.0,
        ));
    }
    Ok(())
}

/// Shows `current` in the popup window, or hides the window when there is nothing to show.
pub fn present(app: &AppHandle, current: Option<&PopupView>) {
    let Some(window) = app.get_webview_window(LABEL) else {
        return;
    };
    if let Err(e) = app.emit_to(LABEL, "popup", current) {
        tracing::warn!("updating the popup: {e}");
    }
    let shown = match current {
        Some(_) => window.show(),
        None => window.hide(),
    };
    if let Err(e) = shown {
        tracing::warn!("showing or hiding the popup: {e}");
    }
}
