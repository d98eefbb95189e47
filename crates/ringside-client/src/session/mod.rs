//! The app's session with its hub: one task per connection that checks the token with
//! `GET /me` (retrying with [`crate::backoff`] while the hub is unreachable), subscribes to
//! the stream, reduces it ([`crate::state::ClientState`]), keeps the connection status, the
//! popup stack and the notifications, and follows phone links. It shows everything
//! through a [`Display`] the shell implements, and takes its time from a
//! [`crate::clock::Clock`].
//!
//! A [`Session`] lives as long as the app; [`Session::connect`] starts a connection (a
//! new generation): the previous one, its popups and its notifications go, and a task of
//! an older generation never installs its connection or shows anything again.

mod connection;
mod dial;
mod display;
mod error;
mod notice;
mod popups;
mod settings;
mod shared;
mod status;

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use display::Display;
pub use error::SessionError;
pub use notice::{Notice, NoticeLevel};
pub use popups::{PopupView, KEEP_WARM};
pub use settings::{EndpointLookup, SessionConfig, SessionSettings};
pub use status::{AppStatus, ConnectionState, HubMode, TrayLook};

use crate::clock::Clock;
use crate::dial_prompt::{DialPrompt, LinkOrigin};
use crate::rest::{DialResult, HubClient};
use ringside_core::agent::Presence;
use shared::{lock, Shared};

/// The app's session: cheap to share behind the shell's state; every method returns at
/// once except those that talk to the hub.
pub struct Session {
    shared: Arc<Shared>,
    /// The task of the current connection.
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Session {
    /// A session that shows itself on `display`, reads time from `clock` and runs its tasks
    /// on `runtime`. It does not connect until [`Session::connect`]; its status until then
    /// is "connecting" in `mode`.
    pub fn new(
        display: Arc<dyn Display>,
        clock: Arc<dyn Clock>,
        runtime: Handle,
        config: SessionConfig,
        settings: SessionSettings,
        mode: HubMode,
    ) -> Session {
        let status = AppStatus::starting(mode);
        Session {
            shared: Arc::new(Shared::new(
                display, clock, runtime, config, settings, status,
            )),
            task: Mutex::new(None),
        }
    }

    /// Drops the current connection (its popups and notifications too) and connects anew in
    /// `mode` to the hub `endpoint` finds.
    pub fn connect(
        &self,
        mode: HubMode,
        endpoint: impl Future<Output = EndpointLookup> + Send + 'static,
    ) {
        // Held throughout, so that two connections in a row cannot both start a task.
        let mut task = lock(&self.task);
        if let Some(old) = task.take() {
            old.abort();
        }
        let generation = self.shared.next_generation(mode);
        let shared = Arc::clone(&self.shared);
        *task = Some(
            self.shared
                .runtime
                .spawn(connection::run(shared, generation, endpoint)),
        );
    }

    /// Applies new settings; none needs a reconnection.
    pub fn set_settings(&self, settings: SessionSettings) {
        self.shared.set_settings(settings);
    }

    /// The current status.
    pub fn status(&self) -> AppStatus {
        self.shared.status()
    }

    /// Every change of the status, for those who wait for one.
    pub fn watch_status(&self) -> watch::Receiver<AppStatus> {
        self.shared.watch_status()
    }

    /// Shows the agent's own presence as the hub just returned it (after do-not-disturb).
    pub fn show_my_presence(&self, me: Presence) {
        self.shared.update_status(|status| status.me = Some(me));
    }

    /// The REST client of the live connection.
    pub fn client(&self) -> Result<HubClient, SessionError> {
        self.shared.client()
    }

    /// Waits until the session is connected, without polling: see [`SessionConfig`] for
    /// the patience. Gives up at once when the session will not connect without new
    /// settings.
    pub async fn wait_for_client(&self) -> Result<HubClient, SessionError> {
        dial::wait_for_client(&self.shared).await
    }

    /// Asks the stream to reconnect now (after a sleep of the computer).
    pub fn reconnect_stream_now(&self) {
        self.shared.reconnect_stream_now();
    }

    /// The popup the window shows now.
    pub fn current_popup(&self) -> Option<PopupView> {
        self.shared.current_popup()
    }

    /// The agent closed the popup of call `id`: the next open one, if any, takes its place,
    /// and its notification goes.
    pub fn dismiss_popup(&self, id: i64) {
        self.shared.dismiss_popup(id);
    }

    /// Dials `number` the agent typed or picked in the app's windows.
    pub async fn dial(&self, number: &str) -> Result<DialResult, SessionError> {
        let client = self.shared.client()?;
        dial::place(&self.shared, &client, number, LinkOrigin::AppWindow).await
    }

    /// Follows a phone link clicked in the app's windows: it waits for the agent's
    /// confirmation (`None`), unless that is turned off (the hub's answer).
    pub async fn follow_link(&self, number: String) -> Result<Option<DialResult>, SessionError> {
        dial::follow(&self.shared, number, LinkOrigin::AppWindow).await
    }

    /// Follows a phone link the desktop handed to the app, in the background.
    pub fn follow_desktop_link(&self, number: String) {
        dial::follow_from_desktop(&self.shared, number);
    }

    /// The phone link waiting for the agent's confirmation.
    pub fn pending_dial(&self) -> Option<DialPrompt> {
        lock(&self.shared.pending_dials).current().cloned()
    }

    /// The agent's answer to dial prompt `id`; returns the next prompt, if any.
    pub fn answer_dial(&self, id: u64, dial: bool) -> Option<DialPrompt> {
        dial::answer(&self.shared, id, dial)
    }
}

impl Drop for Session {
    /// Ends the connection's task with the session.
    fn drop(&mut self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }
}
