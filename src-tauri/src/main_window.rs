//! The main window: its label, and bringing it to the front or making it anew (it is closed,
//! not hidden, when the agent closes it).

use tauri::{AppHandle, Manager};

/// The main window's label.
pub const MAIN: &str = "main";

/// Brings the main window to the front, making it anew when it was closed.
pub fn show(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == MAIN)
        .cloned();
    let made = config
        .ok_or_else(|| tauri::Error::WindowNotFound)
        .and_then(|config| tauri::WebviewWindowBuilder::from_config(app, &config)?.build());
    if let Err(e) = made {
        tracing::error!("opening the main window: {e}");
    }
}
