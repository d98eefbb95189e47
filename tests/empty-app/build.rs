//! Builds the Tauri context from `tauri.conf.json`: one window, the empty page in `page/`.

fn main() {
    tauri_build::build();
}
