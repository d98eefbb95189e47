//! The caller popup window: small, always on top, never taking the keyboard focus. It is
//! made for a call and, when the session hides it, kept for a while (the session closes it
//! after the preferences' keep-warm time, 30 s by default), so that a busy line pops at
//! once and an idle app holds no web view.

use ringside_client::session::PopupView;
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};

/// The popup window's label.
pub const LABEL: &str = "popup";
const WIDTH: f64 = 380.0;
const HEIGHT: f64 = 280.0;
const MARGIN: f64 = 16.0;

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
    let window = builder.build()?;
    window.on_window_event(|event| {
        if let WindowEvent::Destroyed = event {
            tracing::info!("popup window closed");
        }
    });
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

/// Shows `view` in the popup window, making the window when there is none (about a quarter
/// second; its page asks for the call when it loads). A warm hidden window shows it in a
/// few milliseconds. Nothing here waits for the main thread.
pub fn show(app: &AppHandle, view: &PopupView) {
    let done = match app.get_webview_window(LABEL) {
        Some(window) => app
            .emit_to(LABEL, "popup", view)
            .and_then(|()| window.show()),
        None => create(app),
    };
    if let Err(e) = done {
        tracing::warn!("updating the popup window: {e}");
    }
}

/// Empties and hides the popup window, when there is one.
pub fn hide(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(LABEL) {
        let _ = app.emit_to(LABEL, "popup", None::<PopupView>);
        if let Err(e) = window.hide() {
            tracing::warn!("hiding the popup window: {e}");
        }
    }
}

/// Closes the hidden popup window, when there is one.
pub fn close(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(LABEL) {
        let _ = window.destroy();
    }
}
