//! Ringside's desktop app: a thin Tauri shell over `ringside-client` (its session with the
//! hub: the stream, the reducer, the status, the popups, phone links) and `ringside-hub`
//! (embedded mode). It owns only what is desktop-specific: windows, tray, notifications,
//! keyring, deep links and settings.

mod commands;
mod desktop;
mod display;
mod error;
mod link_handler;
mod main_window;
mod notification;
mod phone_links;
mod popup;
mod secret;
mod tray;

#[cfg(test)]
mod bindings;

use std::path::PathBuf;

use ringside_client::endpoint::PlainHttp;
use tauri::{AppHandle, Manager, RunEvent};
use tauri_plugin_deep_link::DeepLinkExt;

use crate::desktop::{AppDirs, Desktop};

/// The environment variable that allows a plain `http://` hub on another machine (a
/// trusted network): set to `1`. Without it, remote mode refuses such a hub, so that the
/// agent token never crosses a network in clear.
const ALLOW_PLAIN_HTTP_HUB: &str = "RINGSIDE_ALLOW_PLAIN_HTTP_HUB";

/// The argument that starts the app in the tray, without its window (start at login).
const MINIMIZED: &str = "--minimized";

/// Starts the app; returns when it quits.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .init();
    tauri::Builder::default()
        // First: a second start (or a clicked tel: link) goes to the running app.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            main_window::show(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        // Started at login: straight to the tray.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![MINIMIZED]),
        ))
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::preferences,
            commands::save_preferences,
            commands::embedded_info,
            commands::send_test_call,
            commands::journal,
            commands::set_done,
            commands::mark_all_done,
            commands::create_ticket,
            commands::team,
            commands::set_dnd,
            commands::dial,
            commands::pending_dial,
            commands::answer_dial,
            commands::search_contacts,
            commands::helpdesk,
            commands::open_link,
            commands::create_customer,
            commands::popup_current,
            commands::popup_dismiss,
            commands::popup_shown,
        ])
        .setup(|app| {
            setup(app.handle())?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("building Ringside")
        .run(|_, event| {
            // Closing the main window frees its web view; the app stays in the tray, where
            // "Open" makes the window anew. Only "Quit" ends it.
            if let RunEvent::ExitRequested {
                code: None, api, ..
            } = event
            {
                api.prevent_exit();
            }
        });
}

/// Where the app's files go: `RINGSIDE_APP_DIR` when set (tests, portable use), else the
/// platform's config and data directories.
fn app_dirs(app: &AppHandle) -> anyhow::Result<AppDirs> {
    if let Some(dir) = std::env::var_os("RINGSIDE_APP_DIR") {
        let dir = PathBuf::from(dir);
        return Ok(AppDirs {
            config: dir.clone(),
            hub: dir.join("hub"),
        });
    }
    Ok(AppDirs {
        config: app.path().app_config_dir()?,
        hub: app.path().app_data_dir()?.join("hub"),
    })
}

fn setup(app: &AppHandle) -> anyhow::Result<()> {
    let plain_http = if std::env::var(ALLOW_PLAIN_HTTP_HUB).as_deref() == Ok("1") {
        tracing::warn!("{ALLOW_PLAIN_HTTP_HUB}=1: a remote hub may be reached over plain http");
        PlainHttp::Allowed
    } else {
        PlainHttp::LoopbackOnly
    };
    app.manage(Desktop::new(app, app_dirs(app)?, plain_http));
    app.manage(popup::PopupPlace::measure(app));
    let items = tray::create(app, |app, dnd| {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let desktop = app.state::<Desktop>();
            if let Err(e) = commands::set_dnd(desktop, dnd).await {
                tracing::warn!("do-not-disturb from the tray: {e}");
                let status = app.state::<Desktop>().session.status();
                tray::show(&app, &status);
            }
        });
    })?;
    app.manage(items);

    link_handler::register(app);
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        phone_links::open(&handle, event.urls());
    });
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        phone_links::open(app, urls);
    }

    let desktop = app.state::<Desktop>();
    desktop.session.watch_for_wake();
    desktop.reconnect();
    if !std::env::args().any(|arg| arg == MINIMIZED) {
        main_window::show(app);
    }
    Ok(())
}
