//! Phone links: `tel:` and `callto:` links clicked anywhere on the desktop (the app is their
//! handler) or in the app's windows. Whether one waits for the agent's confirmation, and
//! what the prompt says, is [`ringside_client::dial_prompt`]'s; what to do with the hub's
//! answer is [`ringside_client::links::after_dial`]'s. This carries it out: the prompt in
//! the main window, the dial, the notice.

use std::time::Duration;

use ringside_client::dial_prompt::{self, DialPrompt, LinkOrigin};
use ringside_client::links::{self, AfterDial};
use ringside_client::rest::{DialResult, HubClient};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::desktop::{self, Desktop, Notice, NoticeLevel};
use crate::error::UiError;

/// How long a link clicked while the app starts waits for the connection.
const PATIENCE: Duration = Duration::from_secs(15);

/// The event that tells the main window which prompt to show.
pub const PROMPT_EVENT: &str = "dial-prompt";

/// Follows every phone link among `urls` the desktop handed to the app.
pub fn open(app: &AppHandle, urls: Vec<Url>) {
    for url in urls {
        let Some(number) = links::phone_number(&url) else {
            tracing::info!("ignoring a link that is not a phone number: {url}");
            continue;
        };
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            if let Err(e) = follow(&app, number, LinkOrigin::Desktop).await {
                tell(&app, Err(e.message));
            }
        });
    }
}

/// Puts a phone link from `origin` before the agent, or dials it at once when it needs no
/// confirmation (then the hub's answer is returned).
pub async fn follow(
    app: &AppHandle,
    number: String,
    origin: LinkOrigin,
) -> Result<Option<DialResult>, UiError> {
    let desktop = app.state::<Desktop>();
    let client = desktop::wait_for_client(&desktop, PATIENCE)
        .await
        .map_err(|e| UiError::new(&e.code, format!("Could not dial {number}: {}", e.message)))?;
    if !dial_prompt::needs_confirmation(origin, desktop.preferences().confirm_app_links) {
        return place(app, &client, &number, origin).await.map(Some);
    }
    // Who it is, when the hub can say; the prompt shows the number alone otherwise.
    let lookup = client.lookup_caller(&number).await.ok();
    let current = desktop.with_pending_dials(|pending| {
        pending
            .ask(&number, lookup.as_ref(), origin)
            .map(|_| pending.current().cloned())
    });
    let current = current.map_err(|e| UiError::new("too_many_links", e.to_string()))?;
    crate::show_main_window(app);
    if let Err(e) = app.emit_to(crate::MAIN, PROMPT_EVENT, current) {
        tracing::warn!("showing the dial prompt: {e}");
    }
    Ok(None)
}

/// The agent answered prompt `id`: dials its number when `dial`, in the background (the
/// notice tells how it went). Returns the next prompt to show.
pub fn answer(app: &AppHandle, id: u64, dial: bool) -> Option<DialPrompt> {
    let desktop = app.state::<Desktop>();
    let (answered, next) = desktop.with_pending_dials(|pending| {
        let answered = pending.answer(id);
        (answered, pending.current().cloned())
    });
    if let Some(prompt) = answered.filter(|_| dial) {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let placed = async {
                let client = app.state::<Desktop>().client()?;
                place(&app, &client, &prompt.number, prompt.origin).await
            };
            let told = placed
                .await
                .map(|dialed| dial_prompt::placed_message(&dialed))
                .map_err(|e| format!("Could not dial {}: {}", prompt.number, e.message));
            tell(&app, told);
        });
    }
    next
}

/// Dials `number` through the hub and, when no provider dials for the agent, hands the
/// hub's `tel:` link to the softphone, unless it would come straight back to this app.
pub async fn place(
    app: &AppHandle,
    client: &HubClient,
    number: &str,
    origin: LinkOrigin,
) -> Result<DialResult, UiError> {
    let dialed = client.dial(number).await?;
    let handler = app.deep_link().is_registered("tel").unwrap_or(false);
    if let AfterDial::OpenSoftphone(link) = links::after_dial(&dialed, origin, handler)? {
        app.opener()
            .open_url(link.as_str(), None::<&str>)
            .map_err(|e| UiError::new("desktop", format!("opening {link}: {e}")))?;
    }
    Ok(dialed)
}

/// Shows how a link went in the main window.
fn tell(app: &AppHandle, told: Result<String, String>) {
    let notice = match told {
        Ok(message) => Notice {
            level: NoticeLevel::Info,
            message,
        },
        Err(message) => Notice {
            level: NoticeLevel::Error,
            message,
        },
    };
    crate::show_main_window(app);
    if let Err(e) = app.emit_to(crate::MAIN, "notice", &notice) {
        tracing::warn!("showing a notice: {e}");
    }
}
