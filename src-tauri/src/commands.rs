//! The commands the UI calls: a few lines each over [`Desktop`], its session and the hub
//! client.

use ringside_client::dial_prompt::DialPrompt;
use ringside_client::links::{self, Link};
use ringside_client::rest::{
    ContactHit, DialResult, HelpdeskStatus, JournalFilter, JournalPage, JournalQuery,
};
use ringside_client::session::{AppStatus, HubMode, PopupView};
use ringside_core::agent::Presence;
use ringside_core::api::WebhookUrl;
use ringside_core::call::{Call, CallTicket};
use ringside_core::caller::ContactCard;
use ringside_core::number;
use serde::Serialize;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;

use crate::desktop::Desktop;
use crate::error::UiError;
use crate::secret;
use ringside_client::preferences::{Preferences, PreferencesUpdate};

/// How many journal entries a page holds.
const JOURNAL_PAGE: i64 = 50;

/// What Settings shows about the embedded hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct EmbeddedInfo {
    /// The hub's address.
    pub hub_url: String,
    /// The URLs to paste into the PBX.
    pub webhooks: Vec<WebhookUrl>,
    /// Hints for the admin.
    pub notes: Vec<String>,
}

/// The connection and this agent's presence.
#[tauri::command]
pub async fn status(desktop: State<'_, Desktop>) -> Result<AppStatus, UiError> {
    Ok(desktop.session.status())
}

/// The settings.
#[tauri::command]
pub async fn preferences(desktop: State<'_, Desktop>) -> Result<Preferences, UiError> {
    Ok(desktop.preferences())
}

/// Saves the settings; reconnects when the hub or token changed.
#[tauri::command]
pub async fn save_preferences(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    update: PreferencesUpdate,
) -> Result<Preferences, UiError> {
    let current = desktop.preferences();
    let mut next = update.apply_to(&current, desktop.plain_http())?;
    let new_token = update.new_token();
    if next.mode == HubMode::Remote {
        let url = next.hub_url.clone();
        let token = new_token.map(str::to_owned);
        let kept_from = update
            .keeps_token_of(&current)
            .then(|| current.hub_url.clone());
        next.has_token = tauri::async_runtime::spawn_blocking(move || {
            if let Some(token) = token {
                secret::store(&url, &token)?;
            } else if let Some(kept) = kept_from.and_then(|old| secret::load(&old).transpose()) {
                secret::store(&url, &kept?)?;
            }
            Ok::<_, UiError>(secret::load(&url)?.is_some())
        })
        .await
        .map_err(|e| UiError::new("keyring", e.to_string()))??;
    }
    if next.start_at_login != current.start_at_login {
        let autostart = app.autolaunch();
        let changed = if next.start_at_login {
            autostart.enable()
        } else {
            autostart.disable()
        };
        changed.map_err(|e| UiError::new("desktop", format!("start at login: {e}")))?;
    }
    let reconnect = update.reconnects(&current);
    desktop.set_preferences(next.clone())?;
    if reconnect {
        desktop.reconnect();
    }
    Ok(next)
}

/// The embedded hub's URLs for the PBX; `None` in remote mode.
#[tauri::command]
pub async fn embedded_info(desktop: State<'_, Desktop>) -> Result<Option<EmbeddedInfo>, UiError> {
    Ok(desktop
        .with_embedded(|hub| EmbeddedInfo {
            hub_url: hub.running.url(),
            webhooks: hub.webhooks(),
            notes: vec![
                format!(
                    "The embedded hub listens on this computer only. Its settings \
                     (providers, tokens, blocked callers) are in {}.",
                    hub.config_path.display()
                ),
                "A PBX on another machine needs a hub it can reach: run ringside-hub on a \
                 server and switch to remote mode."
                    .into(),
            ],
        })
        .await)
}

/// Plays a test call through the embedded hub's generic webhook.
#[tauri::command]
pub async fn send_test_call(desktop: State<'_, Desktop>) -> Result<String, UiError> {
    desktop.send_test_call().await?;
    let from = number::E164::parse(ringside_hub::embedded::TEST_CALL_FROM)
        .map(|n| number::pretty(&n))
        .unwrap_or_else(|_| ringside_hub::embedded::TEST_CALL_FROM.to_owned());
    Ok(format!(
        "Test call from {from}: it rings for {} seconds, then shows as missed.",
        ringside_hub::embedded::TEST_CALL_RINGS_FOR.as_secs()
    ))
}

/// One page of the journal.
#[tauri::command]
pub async fn journal(
    desktop: State<'_, Desktop>,
    filter: JournalFilter,
    before: Option<i64>,
) -> Result<JournalPage, UiError> {
    let query = JournalQuery {
        limit: Some(JOURNAL_PAGE),
        before,
        filter,
    };
    Ok(desktop.session.client()?.journal(&query).await?)
}

/// Marks one entry done or not done.
#[tauri::command]
pub async fn set_done(desktop: State<'_, Desktop>, id: i64, done: bool) -> Result<Call, UiError> {
    Ok(desktop.session.client()?.set_done(id, done).await?)
}

/// Logs a call as a help-desk ticket now (or gets the one it has), for the app to open.
#[tauri::command]
pub async fn create_ticket(desktop: State<'_, Desktop>, id: i64) -> Result<CallTicket, UiError> {
    Ok(desktop.session.client()?.create_ticket(id).await?)
}

/// Marks several entries done; returns how many changed.
#[tauri::command]
pub async fn mark_all_done(desktop: State<'_, Desktop>, ids: Vec<i64>) -> Result<u64, UiError> {
    Ok(desktop.session.client()?.mark_done(&ids).await?)
}

/// Everyone's presence.
#[tauri::command]
pub async fn team(desktop: State<'_, Desktop>) -> Result<Vec<Presence>, UiError> {
    Ok(desktop.session.client()?.agents().await?)
}

/// Turns do-not-disturb on or off at the hub (which the other agents and the PBX see).
#[tauri::command]
pub async fn set_dnd(desktop: State<'_, Desktop>, dnd: bool) -> Result<Presence, UiError> {
    let me = desktop.session.client()?.set_dnd(dnd).await?;
    desktop.session.show_my_presence(me.clone());
    Ok(me)
}

/// Dials a number the agent typed or picked in the window or the popup.
#[tauri::command]
pub async fn dial(desktop: State<'_, Desktop>, number: String) -> Result<DialResult, UiError> {
    Ok(desktop.session.dial(&number).await?)
}

/// The phone link waiting for the agent's confirmation, for a main window that just opened.
#[tauri::command]
pub async fn pending_dial(desktop: State<'_, Desktop>) -> Result<Option<DialPrompt>, UiError> {
    Ok(desktop.session.pending_dial())
}

/// The agent's answer to dial prompt `id` (Enter: `dial`, Esc: not); returns the next
/// prompt, if any.
#[tauri::command]
pub async fn answer_dial(
    desktop: State<'_, Desktop>,
    id: u64,
    dial: bool,
) -> Result<Option<DialPrompt>, UiError> {
    Ok(desktop.session.answer_dial(id, dial))
}

/// Contacts by name or organization, for the dial field.
#[tauri::command]
pub async fn search_contacts(
    desktop: State<'_, Desktop>,
    query: String,
) -> Result<Vec<ContactHit>, UiError> {
    Ok(desktop.session.client()?.search_contacts(&query).await?)
}

/// The help desk's connection, last sync and relay backlog, as the hub reports them.
#[tauri::command]
pub async fn helpdesk(desktop: State<'_, Desktop>) -> Result<HelpdeskStatus, UiError> {
    Ok(desktop.session.client()?.helpdesk().await?)
}

/// Creates the customer of call `call_id`'s unknown caller in the hub's help desk, known
/// by their number (the popup takes no typing; the agent names them in the profile); their
/// card, whose profile link the popup opens next.
#[tauri::command]
pub async fn create_customer(
    desktop: State<'_, Desktop>,
    call_id: i64,
) -> Result<ContactCard, UiError> {
    Ok(desktop
        .session
        .client()?
        .create_customer(call_id, None)
        .await?)
}

/// Opens a help-desk link in the browser, or follows a phone link (asking the agent first
/// unless that is turned off); refuses anything else.
#[tauri::command]
pub async fn open_link(app: AppHandle, url: String) -> Result<(), UiError> {
    let desktop = app.state::<Desktop>();
    let settings = desktop.preferences().helpdesk();
    let hubs = desktop
        .session
        .status()
        .helpdesk_url
        .and_then(|url| url::Url::parse(&url).ok());
    let helpdesks: Vec<&url::Url> = settings.iter().chain(hubs.iter()).collect();
    match links::check(&url, &helpdesks)? {
        Link::Helpdesk(url) => app
            .opener()
            .open_url(url.as_str(), None::<&str>)
            .map_err(|e| UiError::new("desktop", format!("opening {url}: {e}"))),
        Link::Phone(number) => {
            desktop.session.follow_link(number).await?;
            Ok(())
        }
    }
}

/// What the popup shows now, as the session last published it. (Async, like the other
/// commands over the session: none runs on the main thread, which the session's task may
/// wait for while it updates the windows.)
#[tauri::command]
pub async fn popup_current(desktop: State<'_, Desktop>) -> Result<Option<PopupView>, UiError> {
    Ok(desktop.session.current_popup())
}

/// Closes the popup of call `call_id`, the one the agent saw.
#[tauri::command]
pub async fn popup_dismiss(desktop: State<'_, Desktop>, call_id: i64) -> Result<(), UiError> {
    desktop.session.dismiss_popup(call_id);
    Ok(())
}

/// The popup painted a new call. Logged with the call's id, so that the time from the
/// webhook to the popup on screen can be measured (`docs/benchmarks.md`).
#[tauri::command]
pub fn popup_shown(call_id: i64) {
    tracing::info!(call = call_id, "popup on screen");
}
