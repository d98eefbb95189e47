//! Whether the desktop hands `tel:` and `callto:` links to this app, and making it so for
//! a build run from the source tree (an installed package declares it in its desktop entry).

use tauri::AppHandle;
use tauri_plugin_deep_link::DeepLinkExt;

/// The desktop entry the app's Debian package installs (the bundler names it after the
/// product); it declares the app the handler of `tel:` and `callto:` links.
#[cfg(target_os = "linux")]
const PACKAGED_ENTRY: &str = "Ringside.desktop";

/// Makes the app the handler of phone links for this user where no package did: a build
/// run from the source tree. An installed package declares it system-wide, and claiming
/// it again per user at every start would override a user's later choice of another
/// handler and outlive the package.
pub fn register(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    if installed_by_package() {
        return;
    }
    #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
    if let Err(e) = app.deep_link().register_all() {
        tracing::warn!("registering as the handler of tel: links: {e}");
    }
    #[cfg(not(any(target_os = "linux", all(debug_assertions, windows))))]
    let _ = app;
}

/// Whether this binary is the one the Debian package installed, beside its desktop entry.
#[cfg(target_os = "linux")]
fn installed_by_package() -> bool {
    std::env::current_exe().is_ok_and(|exe| exe == std::path::Path::new("/usr/bin/ringside"))
        && std::path::Path::new("/usr/share/applications")
            .join(PACKAGED_ENTRY)
            .is_file()
}

/// Whether the desktop hands `tel:` links to this app: registered for the user (a build
/// from the source tree), or the package's entry is the desktop's handler.
pub fn is_handler(app: &AppHandle) -> bool {
    if app.deep_link().is_registered("tel").unwrap_or(false) {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        std::process::Command::new("xdg-mime")
            .args(["query", "default", "x-scheme-handler/tel"])
            .output()
            .is_ok_and(|output| {
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .next()
                    .map(str::trim)
                    == Some(PACKAGED_ENTRY)
            })
    }
    #[cfg(not(target_os = "linux"))]
    false
}
