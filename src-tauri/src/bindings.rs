//! Writes the TypeScript declarations of every type the UI receives or sends into
//! `ui/src/bindings/`, so that the UI and the app share one definition. `make test` fails
//! when the committed files differ from what this writes.

use std::path::Path;

use ts_rs::{Config, TS};

#[test]
fn export_typescript_bindings() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
    let config = Config::new().with_large_int("number").with_out_dir(&out);
    ringside_client::session::AppStatus::export_all(&config).unwrap();
    crate::preferences::Preferences::export_all(&config).unwrap();
    crate::preferences::PreferencesUpdate::export_all(&config).unwrap();
    crate::commands::EmbeddedInfo::export_all(&config).unwrap();
    ringside_client::session::PopupView::export_all(&config).unwrap();
    ringside_client::session::Notice::export_all(&config).unwrap();
    crate::error::UiError::export_all(&config).unwrap();
    ringside_client::rest::DialResult::export_all(&config).unwrap();
    ringside_client::dial_prompt::DialPrompt::export_all(&config).unwrap();
    ringside_client::rest::ContactHit::export_all(&config).unwrap();
    ringside_core::listing::JournalPage::export_all(&config).unwrap();
    ringside_core::listing::JournalFilter::export_all(&config).unwrap();
    ringside_core::agent::Presence::export_all(&config).unwrap();
}
