//! The app's shared state: the preferences, the embedded hub, and the session with the hub
//! (`ringside_client::session`), which the shell shows through [`crate::display`]. Finding
//! the hub is the shell's part: the embedded one is started here, the remote one's token
//! comes from the keyring.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ringside_client::endpoint::{HubEndpoint, PlainHttp};
use ringside_client::session::{EndpointLookup, HubMode, Session, SessionConfig};
use ringside_clock::SystemClock;
use ringside_hub::embedded::{self, EmbeddedHub, LocalAgent};
use tauri::AppHandle;

use crate::display::TauriDisplay;
use crate::error::UiError;
use crate::secret;
use ringside_client::preferences::{Preferences, PreferencesFile};

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct AppDirs {
    /// The preferences file's directory.
    pub config: PathBuf,
    /// The embedded hub's directory (configuration and database).
    pub hub: PathBuf,
}

/// The embedded hub, once started; shared with the connection task that starts it.
type EmbeddedSlot = Arc<tokio::sync::Mutex<Option<EmbeddedHub>>>;

/// Everything the commands share, managed by Tauri.
pub struct Desktop {
    dirs: AppDirs,
    preferences_file: PreferencesFile,
    preferences: Mutex<Preferences>,
    embedded: EmbeddedSlot,
    /// Whether the agent opted in to a plain `http://` hub on another machine.
    plain_http: PlainHttp,
    /// The session with the hub.
    pub session: Session,
}

/// Locks a mutex, shrugging off poisoning: the preferences are replaced whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Desktop {
    /// The state for an app whose files live in `dirs`; `plain_http` is the agent's choice
    /// about plain `http://` hubs on other machines.
    pub fn new(app: &AppHandle, dirs: AppDirs, plain_http: PlainHttp) -> Desktop {
        let preferences_file = PreferencesFile::in_dir(&dirs.config);
        let preferences = preferences_file.load();
        let session = Session::new(
            Arc::new(TauriDisplay::new(app.clone())),
            Arc::new(SystemClock),
            tauri::async_runtime::handle().inner().clone(),
            SessionConfig::default(),
            preferences.session_settings(),
            preferences.mode,
        );
        Desktop {
            preferences: Mutex::new(preferences),
            preferences_file,
            dirs,
            embedded: EmbeddedSlot::default(),
            plain_http,
            session,
        }
    }

    /// Whether a plain `http://` hub on another machine is accepted.
    pub fn plain_http(&self) -> PlainHttp {
        self.plain_http
    }

    /// The current preferences.
    pub fn preferences(&self) -> Preferences {
        lock(&self.preferences).clone()
    }

    /// Stores new preferences and applies those that need no reconnection.
    pub fn set_preferences(&self, preferences: Preferences) -> Result<(), UiError> {
        self.preferences_file.save(&preferences)?;
        self.session.set_settings(preferences.session_settings());
        *lock(&self.preferences) = preferences;
        Ok(())
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

    /// Drops the current connection and connects anew with the current preferences.
    pub fn reconnect(&self) {
        let preferences = self.preferences();
        let mode = preferences.mode;
        let found = endpoint(
            self.embedded.clone(),
            self.dirs.hub.clone(),
            preferences,
            self.plain_http,
        );
        self.session.connect(mode, async move {
            match found.await {
                Ok(Some(endpoint)) => EndpointLookup::Found(endpoint),
                Ok(None) => EndpointLookup::Unconfigured,
                Err(e) => EndpointLookup::Failed(e.message),
            }
        });
    }
}

/// The hub to talk to: the embedded one (started on first use) or the remote one with
/// the token from the keyring. `None` when remote mode lacks a URL or token.
async fn endpoint(
    embedded: EmbeddedSlot,
    hub_dir: PathBuf,
    preferences: Preferences,
    plain_http: PlainHttp,
) -> Result<Option<HubEndpoint>, UiError> {
    let mut embedded = embedded.lock().await;
    match preferences.mode {
        HubMode::Embedded => {
            if embedded.is_none() {
                let hub = embedded::start(&hub_dir, &LocalAgent::from_environment())
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
                    plain_http,
                )?)),
                None => Ok(None),
            }
        }
    }
}
