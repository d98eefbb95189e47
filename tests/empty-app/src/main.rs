//! An empty Tauri window of the main window's size, for the desktop bench to compare the
//! app's memory with: what WebKitGTK holds for a window before Ringside adds its UI. It
//! prints `empty page loaded` when the page has loaded.

use tauri::webview::PageLoadEvent;

fn main() {
    // As the app does (see its `main.rs`): the comparison is with the same renderer.
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
    tauri::Builder::default()
        .on_page_load(|_, payload| {
            if payload.event() == PageLoadEvent::Finished {
                println!("empty page loaded");
            }
        })
        .run(tauri::generate_context!())
        .expect("running the empty app");
}
