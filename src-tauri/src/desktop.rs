//! The app's shared state and the connection to the hub: starts the embedded hub or reads
//! the remote token, runs the stream, and carries out what the reducer says (popup,
//! notification, window events, tray).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ringside_client::backoff::{Backoff, BackoffPolicy};
use ringside_client::call_notification::CallNotifications;
use ringside_client::dial_prompt::PendingDials;
use ringside_client::endpoint::{HubEndpoint, PlainHttp};
use ringside_client::error::ClientError;
use ringside_client::rest::{HubClient, DEFAULT_REQUEST_TIMEOUT};
use ringside_client::state::{ClientState, Effect, DEFAULT_POPUP_WINDOW};
use ringside_client::stream::{subscribe, StreamConfig, StreamHandle, StreamUpdate};
use ringside_core::call::Call;
use ringside_hub::embedded::{self, EmbeddedHub, LocalAgent};
use serde::Serialize;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Manager};
use ts_rs::TS;

use crate::error::UiError;
use crate::notification::Notifier;
use crate::popup::{self, OpenPopups, PopupView};
use crate::preferences::{HubMode, Preferences, PreferencesFile};
use crate::status::{AppStatus, ConnectionState};
use crate::{secret, tray};

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppDirs {
    /// The preferences file's directory.
    pub config: PathBuf,
    /// The embedded hub's directory (configuration and database).
    pub hub: PathBuf,
}

/// A live connection: the REST client and the reduced state of the stream.
struct HubSession {
    client: HubClient,
    state: Arc<Mutex<ClientState>>,
    stream: StreamHandle,
}

/// A message for the agent in the main window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Notice {
    /// How it reads.
    pub level: NoticeLevel,
    /// The text.
    pub message: String,
}

/// Whether a notice reports success or a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum NoticeLevel {
    /// Something worked.
    Info,
    /// Something failed.
    Error,
}

/// Everything the commands and the connection share, managed by Tauri.
pub struct Desktop {
    dirs: AppDirs,
    preferences_file: PreferencesFile,
    preferences: Mutex<Preferences>,
    status: Mutex<AppStatus>,
    session: Mutex<Option<HubSession>>,
    connection_task: Mutex<Option<JoinHandle<()>>>,
    /// Counts the connections started; a task whose number is no longer current gives up
    /// instead of installing its session.
    connection_number: AtomicU64,
    embedded: tokio::sync::Mutex<Option<EmbeddedHub>>,
    popups: Mutex<OpenPopups>,
    /// Whether the agent opted in to a plain `http://` hub on another machine.
    plain_http: PlainHttp,
    /// Which call has a desktop notification.
    notifications: Mutex<CallNotifications>,
    notifier: Notifier,
    /// Phone links waiting for the agent's confirmation.
    pending_dials: Mutex<PendingDials>,
}

/// Locks a mutex, shrugging off poisoning: every critical section here leaves the data
/// consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Desktop {
    /// The state for an app whose files live in `dirs`; `plain_http` is the agent's choice
    /// about plain `http://` hubs on other machines.
    pub fn new(dirs: AppDirs, plain_http: PlainHttp) -> Desktop {
        let preferences_file = PreferencesFile::in_dir(&dirs.config);
        let preferences = preferences_file.load();
        Desktop {
            status: Mutex::new(AppStatus::starting(preferences.mode)),
            preferences: Mutex::new(preferences),
            preferences_file,
            dirs,
            session: Mutex::new(None),
            connection_task: Mutex::new(None),
            connection_number: AtomicU64::new(0),
            embedded: tokio::sync::Mutex::new(None),
            popups: Mutex::new(OpenPopups::default()),
            plain_http,
            notifications: Mutex::new(CallNotifications::default()),
            notifier: Notifier::start(),
            pending_dials: Mutex::new(PendingDials::default()),
        }
    }

    /// Whether a plain `http://` hub on another machine is accepted.
    pub fn plain_http(&self) -> PlainHttp {
        self.plain_http
    }

    /// Runs `f` with the phone links waiting for confirmation locked.
    pub fn with_pending_dials<T>(&self, f: impl FnOnce(&mut PendingDials) -> T) -> T {
        f(&mut lock(&self.pending_dials))
    }

    /// The current preferences.
    pub fn preferences(&self) -> Preferences {
        lock(&self.preferences).clone()
    }

    /// Stores new preferences and applies those that need no reconnection.
    pub fn set_preferences(&self, preferences: Preferences) -> Result<(), UiError> {
        self.preferences_file.save(&preferences)?;
        if let Some(session) = lock(&self.session).as_ref() {
            lock(&session.state).set_popup_on(preferences.popup_on);
        }
        *lock(&self.preferences) = preferences;
        Ok(())
    }

    /// The current status.
    pub fn status(&self) -> AppStatus {
        lock(&self.status).clone()
    }

    /// The REST client of the live connection.
    pub fn client(&self) -> Result<HubClient, UiError> {
        lock(&self.session)
            .as_ref()
            .map(|session| session.client.clone())
            .ok_or_else(UiError::not_connected)
    }

    /// The popup the window shows now.
    pub fn current_popup(&self) -> Option<PopupView> {
        lock(&self.popups).current().cloned()
    }

    /// Closes the popup of call `id` (the next open one, if any, takes its place), and its
    /// notification.
    pub fn dismiss_popup(&self, app: &AppHandle, id: i64) {
        {
            let mut popups = lock(&self.popups);
            popups.remove(id);
            popup::present(app, &popups);
        }
        if let Some(action) = lock(&self.notifications).popup_closed(id) {
            self.notifier.carry_out(action);
        }
    }

    /// Runs `f` with the open popups locked.
    pub fn with_popups<T>(&self, f: impl FnOnce(&mut OpenPopups) -> T) -> T {
        f(&mut lock(&self.popups))
    }

    /// Runs `f` with the embedded hub, when it runs.
    pub async fn with_embedded<T>(&self, f: impl FnOnce(&EmbeddedHub) -> T) -> Option<T> {
        self.embedded.lock().await.as_ref().map(f)
    }

    /// Sends the embedded hub's test call.
    pub async fn send_test_call(&self) -> Result<(), UiError> {
        let embedded = self.embedded.lock().await;
        let hub = embedded
            .as_ref()
            .ok_or_else(|| UiError::new("embedded_hub", "the test call needs the embedded hub"))?;
        hub.send_test_call()
            .await
            .map_err(|e| UiError::new("embedded_hub", format!("{e:#}")))
    }

    /// Asks the stream to reconnect now (after a sleep).
    pub fn reconnect_stream_now(&self) {
        if let Some(session) = lock(&self.session).as_ref() {
            session.stream.reconnect_now();
        }
    }

    /// Changes the status, then tells the window and the tray.
    pub fn update_status(&self, app: &AppHandle, change: impl FnOnce(&mut AppStatus)) {
        let status = {
            let mut status = lock(&self.status);
            change(&mut status);
            status.clone()
        };
        if let Err(e) = app.emit("status", &status) {
            tracing::warn!("sending the status to the window: {e}");
        }
        tray::show(app, &status);
    }
}

/// Drops the current connection and connects anew with the current preferences.
pub fn reconnect(app: &AppHandle) {
    let desktop = app.state::<Desktop>();
    // Held throughout, so that two reconnections in a row cannot both start a task.
    let mut task = lock(&desktop.connection_task);
    if let Some(old) = task.take() {
        old.abort();
    }
    let number = desktop.connection_number.fetch_add(1, Ordering::SeqCst) + 1;
    // Dropping the session's stream handle ends the stream.
    lock(&desktop.session).take();
    {
        let mut popups = lock(&desktop.popups);
        popups.clear();
        popup::present(app, &popups);
    }
    for action in lock(&desktop.notifications).clear() {
        desktop.notifier.carry_out(action);
    }
    let handle = app.clone();
    *task = Some(tauri::async_runtime::spawn(async move {
        connect(handle, number).await
    }));
}

/// Finds the hub, checks the token with `GET /me` (retrying while the hub is unreachable),
/// then follows the stream until it ends or connection `number` is no longer current.
async fn connect(app: AppHandle, number: u64) {
    let desktop = app.state::<Desktop>();
    let preferences = desktop.preferences();
    desktop.update_status(&app, |status| {
        *status = AppStatus::starting(preferences.mode);
    });
    let endpoint = match endpoint(&desktop, &preferences).await {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => {
            desktop.update_status(&app, |status| {
                status.connection = ConnectionState::Unconfigured;
                status.detail = Some("set the hub URL and token in Settings".into());
            });
            return;
        }
        Err(e) => {
            desktop.update_status(&app, |status| {
                status.connection = ConnectionState::Offline;
                status.detail = Some(e.message);
            });
            return;
        }
    };
    let hub_url = endpoint.base_url().to_string();
    desktop.update_status(&app, |status| status.hub_url = Some(hub_url));
    let client = match HubClient::new(endpoint.clone(), DEFAULT_REQUEST_TIMEOUT) {
        Ok(client) => client,
        Err(e) => return offline(&app, &e),
    };
    let mut backoff = Backoff::new(BackoffPolicy::default());
    let me = loop {
        match client.me().await {
            Ok(me) => break me,
            Err(e) if e.is_terminal() => return offline(&app, &e),
            Err(_) if desktop.connection_number.load(Ordering::SeqCst) != number => return,
            Err(e) => {
                let delay = backoff.next_jittered();
                desktop.update_status(&app, |status| {
                    status.connection = ConnectionState::Reconnecting;
                    status.detail = Some(format!("{e}; retrying in {} s", delay.as_secs() + 1));
                });
                tokio::time::sleep(delay).await;
            }
        }
    };
    let mut reducer = ClientState::new(me.login.clone(), DEFAULT_POPUP_WINDOW);
    reducer.set_popup_on(preferences.popup_on);
    let state = Arc::new(Mutex::new(reducer));
    let current = || desktop.connection_number.load(Ordering::SeqCst) == number;
    let mut updates = {
        let mut session = lock(&desktop.session);
        if !current() {
            return;
        }
        let (stream, updates) = subscribe(endpoint, StreamConfig::default(), state.clone());
        *session = Some(HubSession {
            client,
            state: state.clone(),
            stream,
        });
        updates
    };
    desktop.update_status(&app, |status| status.me = Some(me));
    while let Some(update) = updates.recv().await {
        if !current() {
            return;
        }
        on_update(&app, &desktop, &state, update);
    }
}

fn offline(app: &AppHandle, error: &ClientError) {
    app.state::<Desktop>().update_status(app, |status| {
        status.connection = ConnectionState::Offline;
        status.detail = Some(error.to_string());
    });
}

/// The hub to talk to: the embedded one (started on first use) or the remote one with
/// the token from the keyring. `None` when remote mode lacks a URL or token.
async fn endpoint(
    desktop: &Desktop,
    preferences: &Preferences,
) -> Result<Option<HubEndpoint>, UiError> {
    let mut embedded = desktop.embedded.lock().await;
    match preferences.mode {
        HubMode::Embedded => {
            if embedded.is_none() {
                let hub = embedded::start(&desktop.dirs.hub, &LocalAgent::from_environment())
                    .await
                    .map_err(|e| {
                        UiError::new("embedded_hub", format!("the embedded hub: {e:#}"))
                    })?;
                tracing::info!("embedded hub listening on {}", hub.running.url());
                *embedded = Some(hub);
            }
            let hub = embedded.as_ref().expect("started above");
            Ok(Some(HubEndpoint::new(
                &hub.running.url(),
                hub.token.clone(),
            )?))
        }
        HubMode::Remote => {
            if let Some(hub) = embedded.take() {
                if let Err(e) = hub.stop().await {
                    tracing::warn!("stopping the embedded hub: {e:#}");
                }
            }
            if preferences.hub_url.is_empty() {
                return Ok(None);
            }
            let url = preferences.hub_url.clone();
            let token = tauri::async_runtime::spawn_blocking(move || secret::load(&url))
                .await
                .map_err(|e| UiError::new("keyring", e.to_string()))??;
            match token {
                Some(token) => Ok(Some(HubEndpoint::with_plain_http(
                    &preferences.hub_url,
                    token,
                    desktop.plain_http,
                )?)),
                None => Ok(None),
            }
        }
    }
}

/// Carries out one stream update.
fn on_update(
    app: &AppHandle,
    desktop: &Desktop,
    state: &Arc<Mutex<ClientState>>,
    update: StreamUpdate,
) {
    match update {
        StreamUpdate::Connecting => desktop.update_status(app, |status| {
            if status.connection == ConnectionState::Connected {
                status.connection = ConnectionState::Reconnecting;
            }
        }),
        StreamUpdate::Connected => desktop.update_status(app, |status| {
            status.connection = ConnectionState::Connected;
            status.detail = None;
        }),
        StreamUpdate::Disconnected { reason, retry_in } => desktop.update_status(app, |status| {
            status.connection = ConnectionState::Reconnecting;
            status.detail = Some(format!(
                "{reason}; retrying in {} s",
                retry_in.as_secs() + 1
            ));
        }),
        StreamUpdate::Terminated(error) => offline(app, &error),
        StreamUpdate::Message(message) => {
            let now = time::OffsetDateTime::now_utc();
            let effects = lock(state).apply(message, now);
            for effect in effects {
                carry_out(app, desktop, state, effect);
            }
        }
    }
}

/// Does what one effect of the reducer asks.
fn carry_out(app: &AppHandle, desktop: &Desktop, state: &Arc<Mutex<ClientState>>, effect: Effect) {
    let enabled = desktop.preferences().notifications;
    if let Some(action) = lock(&desktop.notifications).on_effect(&effect, enabled) {
        desktop.notifier.carry_out(action);
    }
    match effect {
        Effect::ShowPopup(call) => {
            let view = popup_view(desktop, state, *call);
            let mut popups = lock(&desktop.popups);
            popups.open(view);
            popup::present(app, &popups);
        }
        Effect::UpdatePopup(call) => {
            let view = popup_view(desktop, state, *call);
            let mut popups = lock(&desktop.popups);
            popups.refresh(view);
            popup::present(app, &popups);
        }
        Effect::ClosePopup(id) => {
            let mut popups = lock(&desktop.popups);
            popups.remove(id);
            popup::present(app, &popups);
        }
        Effect::JournalChanged => {
            if let Err(e) = app.emit("journal-changed", ()) {
                tracing::warn!("telling the window about the journal: {e}");
            }
        }
        Effect::PresenceChanged => {
            let (team, me) = {
                let reduced = lock(state);
                let team: Vec<_> = reduced.presence().into_iter().cloned().collect();
                (team, reduced.my_presence().cloned())
            };
            if let Err(e) = app.emit("team-changed", &team) {
                tracing::warn!("telling the window about the team: {e}");
            }
            if me.is_some() {
                desktop.update_status(app, |status| status.me = me);
            }
        }
    }
}

/// What the popup shows for `call`: with the answering agent's name and the help desk's
/// "new ticket" address.
fn popup_view(desktop: &Desktop, state: &Arc<Mutex<ClientState>>, call: Call) -> PopupView {
    let answered_by_name = call.answered_by.as_deref().map(|login| {
        lock(state)
            .presence()
            .into_iter()
            .find(|agent| agent.login == login)
            .map_or_else(|| login.to_owned(), |agent| agent.name.clone())
    });
    PopupView {
        call,
        answered_by_name,
        new_ticket_url: desktop.preferences().new_ticket_url(),
    }
}

/// Waits until the app is connected (for a phone link clicked while it starts), giving up
/// at once when it will not connect without new settings.
pub async fn wait_for_client(desktop: &Desktop, patience: Duration) -> Result<HubClient, UiError> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let given_up = matches!(
            desktop.status().connection,
            ConnectionState::Offline | ConnectionState::Unconfigured
        );
        match desktop.client() {
            Ok(client) => return Ok(client),
            Err(e) if given_up || tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
