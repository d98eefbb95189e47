//! Builds the Tauri context from the top-level `tauri.conf.json` (through the symlink next
//! to this file) and declares the app's commands, so that each window's capability can
//! allow only the commands that window needs.

/// Every command the UI may call; a window can call only those its capability allows.
const COMMANDS: &[&str] = &[
    "status",
    "preferences",
    "save_preferences",
    "embedded_info",
    "send_test_call",
    "journal",
    "set_done",
    "mark_all_done",
    "create_ticket",
    "team",
    "set_dnd",
    "dial",
    "pending_dial",
    "answer_dial",
    "search_contacts",
    "helpdesk",
    "open_link",
    "create_customer",
    "popup_current",
    "popup_dismiss",
    "popup_shown",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("building the Tauri context");
}
