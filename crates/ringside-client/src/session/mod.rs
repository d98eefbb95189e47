//! The app's session with its hub: one task that owns the connection (it checks the token
//! with `GET /me`, retrying with [`crate::backoff`] while the hub is unreachable, then
//! subscribes to the stream and reduces it with [`crate::state::ClientState`]), the
//! connection status, the popup stack and the notifications; beside it, phone links follow
//! the dial-link policy on what the task publishes. It shows everything through a
//! [`Display`] the shell implements, and takes its time from a [`ringside_clock::Clock`].
//!
//! A [`Session`] lives as long as the app. [`Session::connect`] starts a connection: the
//! task drops the previous one with its popups and notifications before it looks at
//! anything else, so nothing of an older connection is shown again. Reads (the status,
//! the client, the popup) come from what the task publishes in `watch` channels, so that
//! waiting for the connection wakes on it instead of polling.

mod dial;
mod display;
mod error;
mod notice;
mod owner;
mod phase;
mod popups;
mod settings;
mod status;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use ringside_core::agent::Presence;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};

use crate::call_notification::CallNotifications;
use crate::dial_prompt::{DialPrompt, LinkOrigin, PendingDials};
use crate::rest::{DialResult, HubClient};
use crate::wake::{WakeDetector, WAKE_CHECK_INTERVAL};
use dial::Dialer;
pub use display::Display;
pub use error::SessionError;
pub use notice::{Notice, NoticeLevel};
use owner::{Command, Owner, Published};
use phase::Phase;
use popups::OpenPopups;
pub use popups::{PopupView, DEFAULT_KEEP_WARM, MAX_KEEP_WARM};
use ringside_clock::Clock;
pub use settings::{EndpointLookup, SessionConfig, SessionSettings};
pub use status::{AppStatus, ConnectionState, HubMode, TrayLook};

/// The shell's handle on the session task. Dropping it ends the task (and the stream).
pub struct Session {
    commands: mpsc::UnboundedSender<Command>,
    settings: watch::Sender<SessionSettings>,
    status: watch::Receiver<AppStatus>,
    popup: watch::Receiver<Option<PopupView>>,
    dialer: Arc<Dialer>,
}

impl Session {
    /// Starts the session task on `runtime`; it shows itself on `display` and reads time
    /// from `clock`. It does not connect until [`Session::connect`]; its status until then
    /// is "connecting" in `mode`.
    pub fn new(
        display: Arc<dyn Display>,
        clock: Arc<dyn Clock>,
        runtime: Handle,
        config: SessionConfig,
        settings: SessionSettings,
        mode: HubMode,
    ) -> Session {
        let (status, status_rx) = watch::channel(AppStatus::starting(mode));
        let (client, client_rx) = watch::channel(None);
        let (popup, popup_rx) = watch::channel(None);
        let (settings, settings_rx) = watch::channel(settings);
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let dialer = Arc::new(Dialer {
            display: display.clone(),
            clock: clock.clone(),
            runtime: runtime.clone(),
            patience: config.link_patience,
            status: status_rx.clone(),
            client: client_rx,
            settings: settings_rx.clone(),
            pending: Mutex::new(PendingDials::default()),
        });
        let owner = Owner {
            display,
            clock,
            config,
            settings: settings_rx,
            published: Published {
                status,
                client,
                popup,
            },
            phase: Phase::Idle,
            popups: OpenPopups::default(),
            notifications: CallNotifications::default(),
            showing: false,
            cold: None,
        };
        runtime.spawn(owner.run(commands_rx));
        Session {
            commands,
            settings,
            status: status_rx,
            popup: popup_rx,
            dialer,
        }
    }

    /// Asks the task; it runs as long as this handle.
    fn ask(&self, command: Command) {
        if self.commands.send(command).is_err() {
            tracing::error!("the session task has ended");
        }
    }

    /// Drops the current connection (its popups and notifications too) and connects anew in
    /// `mode` to the hub `endpoint` finds.
    pub fn connect(
        &self,
        mode: HubMode,
        endpoint: impl Future<Output = EndpointLookup> + Send + 'static,
    ) {
        self.ask(Command::Connect {
            mode,
            endpoint: Box::pin(endpoint),
        });
    }

    /// Applies new settings; none needs a reconnection.
    pub fn set_settings(&self, settings: SessionSettings) {
        self.settings.send_replace(settings);
        self.ask(Command::SettingsChanged);
    }

    /// The current status.
    pub fn status(&self) -> AppStatus {
        self.status.borrow().clone()
    }

    /// Every change of the status, for those who wait for one.
    pub fn watch_status(&self) -> watch::Receiver<AppStatus> {
        self.status.clone()
    }

    /// Shows the agent's own presence as the hub just returned it (after do-not-disturb).
    pub fn show_my_presence(&self, me: Presence) {
        self.ask(Command::MyPresence(me));
    }

    /// The REST client of the live connection.
    pub fn client(&self) -> Result<HubClient, SessionError> {
        self.dialer.client()
    }

    /// Waits until the session is connected, without polling (at most the
    /// [`SessionConfig::link_patience`]); gives up at once when the session will not
    /// connect without new settings.
    pub async fn wait_for_client(&self) -> Result<HubClient, SessionError> {
        self.dialer.wait_for_client().await
    }

    /// Asks the stream to reconnect now (after a sleep of the computer).
    pub fn reconnect_stream_now(&self) {
        self.ask(Command::ReconnectStreamNow);
    }

    /// Reconnects the stream as soon as the computer wakes from sleep (the wall clock ran
    /// ahead of the monotonic one, [`crate::wake`]), instead of waiting for the heartbeat to
    /// time out. Reads the computer's two clocks, which no other clock can stand in for;
    /// ends with the session.
    pub fn watch_for_wake(&self) {
        let commands = self.commands.downgrade();
        self.dialer.runtime.spawn(async move {
            let mut detector = WakeDetector::new(Instant::now(), SystemTime::now());
            loop {
                tokio::time::sleep(WAKE_CHECK_INTERVAL).await;
                let Some(commands) = commands.upgrade() else {
                    return;
                };
                if detector.woke(Instant::now(), SystemTime::now()) {
                    tracing::info!("the computer woke up: reconnecting");
                    let _ = commands.send(Command::ReconnectStreamNow);
                }
            }
        });
    }

    /// The popup the window shows now.
    pub fn current_popup(&self) -> Option<PopupView> {
        self.popup.borrow().clone()
    }

    /// The agent closed the popup of call `id`: the next open one, if any, takes its place,
    /// and its notification goes.
    pub fn dismiss_popup(&self, id: i64) {
        self.ask(Command::Dismiss(id));
    }

    /// Dials `number` the agent typed or picked in the app's windows.
    pub async fn dial(&self, number: &str) -> Result<DialResult, SessionError> {
        let client = self.dialer.client()?;
        self.dialer
            .place(&client, number, LinkOrigin::AppWindow)
            .await
    }

    /// Follows a phone link clicked in the app's windows: it waits for the agent's
    /// confirmation (`None`), unless that is turned off (the hub's answer).
    pub async fn follow_link(&self, number: String) -> Result<Option<DialResult>, SessionError> {
        self.dialer.follow(number, LinkOrigin::AppWindow).await
    }

    /// Follows a phone link the desktop handed to the app, in the background.
    pub fn follow_desktop_link(&self, number: String) {
        self.dialer.follow_from_desktop(number);
    }

    /// The phone link waiting for the agent's confirmation.
    pub fn pending_dial(&self) -> Option<DialPrompt> {
        self.dialer.pending().current().cloned()
    }

    /// The agent's answer to dial prompt `id`; returns the next prompt, if any.
    pub fn answer_dial(&self, id: u64, dial: bool) -> Option<DialPrompt> {
        self.dialer.answer(id, dial)
    }
}
