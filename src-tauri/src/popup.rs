//! The caller popup: a small always-on-top window that never takes the keyboard focus. It
//! is made for a call and kept hidden for a while after, so that a busy line pops at once
//! and an idle app holds no web view.

use std::collections::BTreeMap;
use std::time::Duration;

use ringside_core::call::Call;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};
use ts_rs::TS;

/// The popup window's label.
pub const LABEL: &str = "popup";
const WIDTH: f64 = 380.0;
const HEIGHT: f64 = 280.0;
const MARGIN: f64 = 16.0;

/// How long a hidden popup window waits for the next call before it is closed.
pub const KEEP_WARM: Duration = Duration::from_secs(30);

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
}

/// Makes the popup window, shown at once (its page asks for the call when it loads). Its
/// place comes from the monitor the app saw at start: asking the main thread for it here
/// could wait on a thread that waits for the popups' lock.
fn create(app: &AppHandle) -> tauri::Result<()> {
    let mut builder = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App("popup.html".into()))
        .title("Ringside: incoming call")
        .inner_size(WIDTH, HEIGHT)
        .resizable(false)
        .decorations(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .focused(false)
        .focusable(false);
    if let Some((x, y)) = app.try_state::<PopupPlace>().and_then(|place| place.0) {
        builder = builder.position(x, y);
    }
    builder.build()?;
    Ok(())
}

/// Where the popup goes: the bottom right of the primary monitor, clear of the
/// notifications, which most desktops show top right. Worked out on the main thread.
#[derive(Debug, Default)]
pub struct PopupPlace(Option<(f64, f64)>);

impl PopupPlace {
    /// The place on the primary monitor as it is now.
    pub fn measure(app: &AppHandle) -> PopupPlace {
        let place = app.primary_monitor().ok().flatten().map(|monitor| {
            let scale = monitor.scale_factor();
            let origin = monitor.position().to_logical::<f64>(scale);
            let size = monitor.size().to_logical::<f64>(scale);
            (
                origin.x + size.width - WIDTH - MARGIN,
                origin.y + size.height - HEIGHT - MARGIN * 4.0,
            )
        });
        PopupPlace(place)
    }
}

/// Shows `popups`' current call in the popup window, making the window when there is none
/// (about a quarter second), or hides it when there is nothing to show. A hidden window is
/// kept [`KEEP_WARM`] for the next call (shown in a few milliseconds), then closed: an app
/// idle in the tray keeps no web view alive. Called with the popups locked, so that the
/// window follows them in order; nothing here waits for the main thread.
pub fn present(app: &AppHandle, popups: &OpenPopups) {
    let window = app.get_webview_window(LABEL);
    let done = match (window, popups.current()) {
        (Some(window), Some(view)) => app
            .emit_to(LABEL, "popup", view)
            .and_then(|()| window.show()),
        (None, Some(_)) => create(app),
        (Some(window), None) => {
            let _ = app.emit_to(LABEL, "popup", None::<PopupView>);
            close_when_cold(app.clone(), popups.opened);
            window.hide()
        }
        (None, None) => Ok(()),
    };
    if let Err(e) = done {
        tracing::warn!("updating the popup window: {e}");
    }
}

/// Closes the hidden popup window after [`KEEP_WARM`] unless a popup opened meanwhile
/// (`opened` is the count when the window was hidden).
fn close_when_cold(app: AppHandle, opened: u64) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(KEEP_WARM).await;
        let desktop = app.state::<crate::desktop::Desktop>();
        desktop.with_popups(|popups| {
            if popups.opened == opened && popups.current().is_none() {
                if let Some(window) = app.get_webview_window(LABEL) {
                    let _ = window.destroy();
                }
            }
        });
    });
}
