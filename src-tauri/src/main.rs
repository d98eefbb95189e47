//! The desktop app's entry point: starts Ringside (see the `ringside` library).

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // WebKitGTK's DMA-BUF renderer doubles each web process's memory where there is no GPU
    // to share buffers with, and draws blank windows on some drivers; the shared-memory path
    // looks the same for this UI. Set the variable to 0 to use the renderer anyway.
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        std::env::set_var("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
    ringside_app::run();
}
