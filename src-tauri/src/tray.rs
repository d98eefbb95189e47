//! The tray icon: its look says the state, its menu toggles do-not-disturb, opens the
//! window and quits.

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use ringside_client::session::{AppStatus, TrayLook};

const TRAY_ID: &str = "ringside";

/// The menu items the app updates.
pub struct TrayItems {
    state: MenuItem<Wry>,
    dnd: CheckMenuItem<Wry>,
}

fn icon(look: TrayLook) -> Image<'static> {
    let bytes: &'static [u8] = match look {
        TrayLook::Available => include_bytes!("../../icons/tray-available.png"),
        TrayLook::DoNotDisturb => include_bytes!("../../icons/tray-dnd.png"),
        TrayLook::OnCall => include_bytes!("../../icons/tray-on-call.png"),
        TrayLook::Disconnected => include_bytes!("../../icons/tray-disconnected.png"),
    };
    Image::from_bytes(bytes).expect("the tray icons are PNG files")
}

/// Creates the tray icon with its menu; `on_dnd` runs when the agent toggles
/// do-not-disturb there.
pub fn create(
    app: &AppHandle,
    on_dnd: impl Fn(&AppHandle, bool) + Send + Sync + 'static,
) -> tauri::Result<TrayItems> {
    let look = TrayLook::Disconnected;
    let state = MenuItem::with_id(app, "state", look.describe(None), false, None::<&str>)?;
    let dnd = CheckMenuItem::with_id(app, "dnd", "Do not disturb", false, false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Ringside", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &state,
            &PredefinedMenuItem::separator(app)?,
            &dnd,
            &open,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let dnd_item = dnd.clone();
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(look))
        .tooltip(look.describe(None))
        .menu(&menu)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            "dnd" => on_dnd(app, dnd_item.is_checked().unwrap_or(false)),
            "open" => crate::main_window::show(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    Ok(TrayItems { state, dnd })
}

/// Makes the tray show `status`.
pub fn show(app: &AppHandle, status: &AppStatus) {
    let look = status.tray_look();
    let text = look.describe(status.detail.as_deref());
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_icon(Some(icon(look)));
        let _ = tray.set_tooltip(Some(&text));
    }
    if let Some(items) = app.try_state::<TrayItems>() {
        let _ = items.state.set_text(&text);
        let connected = look != TrayLook::Disconnected;
        let _ = items.dnd.set_enabled(connected);
        let _ = items
            .dnd
            .set_checked(status.me.as_ref().is_some_and(|me| me.dnd));
    }
}
