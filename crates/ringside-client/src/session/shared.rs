//! What the session's tasks and its handle share: the status, the live connection, the
//! popup stack with its notifications, the phone links waiting for an answer, and how
//! each of them is shown.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ringside_core::call::Call;
use tokio::runtime::Handle;
use tokio::sync::watch;

use super::display::Display;
use super::error::SessionError;
use super::popups::{OpenPopups, PopupView, KEEP_WARM};
use super::settings::{SessionConfig, SessionSettings};
use super::status::{AppStatus, HubMode};
use crate::call_notification::CallNotifications;
use crate::clock::Clock;
use crate::dial_prompt::PendingDials;
use crate::rest::HubClient;
use crate::state::{ClientState, Effect};
use crate::stream::StreamHandle;

/// Locks a mutex, shrugging off poisoning: every critical section here leaves the data
/// consistent.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A live connection: the REST client and the reduced state of the stream.
pub(super) struct Live {
    /// The agent API of the hub.
    pub(super) client: HubClient,
    /// What the stream has told, shared with the stream task (which resumes from it).
    pub(super) state: Arc<Mutex<ClientState>>,
    /// Dropping it ends the stream.
    pub(super) stream: StreamHandle,
}

/// The popups and their notifications, changed together.
#[derive(Default)]
struct Screen {
    popups: OpenPopups,
    notifications: CallNotifications,
    /// Whether the popup window shows a popup (so that closing the last one hides it).
    showing: bool,
}

/// Everything the session's parts share.
pub(super) struct Shared {
    /// Where everything is shown.
    pub(super) display: Arc<dyn Display>,
    /// The time and the sleeps.
    pub(super) clock: Arc<dyn Clock>,
    /// Where the session's tasks run (the shell may call from a thread outside it).
    pub(super) runtime: Handle,
    /// The timers and limits.
    pub(super) config: SessionConfig,
    settings: Mutex<SessionSettings>,
    status: watch::Sender<AppStatus>,
    live: Mutex<Option<Live>>,
    /// Counts the connections started; a task whose number is no longer current gives up
    /// instead of installing its connection or carrying out its updates.
    generation: AtomicU64,
    screen: Mutex<Screen>,
    /// Phone links waiting for the agent's confirmation.
    pub(super) pending_dials: Mutex<PendingDials>,
}

impl Shared {
    /// A session's state before its first connection.
    pub(super) fn new(
        display: Arc<dyn Display>,
        clock: Arc<dyn Clock>,
        runtime: Handle,
        config: SessionConfig,
        settings: SessionSettings,
        status: AppStatus,
    ) -> Shared {
        Shared {
            display,
            clock,
            runtime,
            config,
            settings: Mutex::new(settings),
            status: watch::Sender::new(status),
            live: Mutex::new(None),
            generation: AtomicU64::new(0),
            screen: Mutex::new(Screen::default()),
            pending_dials: Mutex::new(PendingDials::default()),
        }
    }

    /// The agent's settings as they are now.
    pub(super) fn settings(&self) -> SessionSettings {
        lock(&self.settings).clone()
    }

    /// Stores new settings; the popup rule applies to the live connection at once.
    pub(super) fn set_settings(&self, settings: SessionSettings) {
        if let Some(live) = lock(&self.live).as_ref() {
            lock(&live.state).set_popup_on(settings.popup_on);
        }
        *lock(&self.settings) = settings;
    }

    /// The status as it is now.
    pub(super) fn status(&self) -> AppStatus {
        self.status.borrow().clone()
    }

    /// A receiver that wakes on every status change.
    pub(super) fn watch_status(&self) -> watch::Receiver<AppStatus> {
        self.status.subscribe()
    }

    /// Changes the status, then shows it.
    pub(super) fn update_status(&self, change: impl FnOnce(&mut AppStatus)) {
        let mut shown = None;
        self.status.send_modify(|status| {
            change(status);
            shown = Some(status.clone());
        });
        if let Some(status) = shown {
            self.display.show_status(&status);
        }
    }

    /// The REST client of the live connection.
    pub(super) fn client(&self) -> Result<HubClient, SessionError> {
        lock(&self.live)
            .as_ref()
            .map(|live| live.client.clone())
            .ok_or(SessionError::NotConnected)
    }

    /// Asks the stream to reconnect now (after a sleep).
    pub(super) fn reconnect_stream_now(&self) {
        if let Some(live) = lock(&self.live).as_ref() {
            live.stream.reconnect_now();
        }
    }

    /// Starts a new generation in `mode`: the live connection, the popups and their
    /// notifications go, and the status starts over. Returns the new generation's number.
    pub(super) fn next_generation(self: &Arc<Self>, mode: HubMode) -> u64 {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        lock(&self.live).take();
        self.update_status(|status| *status = AppStatus::starting(mode));
        let mut screen = lock(&self.screen);
        screen.popups.clear();
        self.present(&mut screen);
        for action in screen.notifications.clear() {
            self.display.notify(action);
        }
        generation
    }

    /// Whether `generation` is still the current connection.
    pub(super) fn is_current(&self, generation: u64) -> bool {
        self.generation.load(Ordering::SeqCst) == generation
    }

    /// Installs the connection of `generation`, unless a newer one started (then it is
    /// dropped, which ends its stream). Says whether it was installed.
    pub(super) fn install(&self, generation: u64, live: Live) -> bool {
        let mut slot = lock(&self.live);
        if !self.is_current(generation) {
            return false;
        }
        *slot = Some(live);
        true
    }

    /// The popup shown now.
    pub(super) fn current_popup(&self) -> Option<PopupView> {
        lock(&self.screen).popups.current().cloned()
    }

    /// Closes the popup of call `id` (the next open one, if any, takes its place), and its
    /// notification.
    pub(super) fn dismiss_popup(self: &Arc<Self>, id: i64) {
        let mut screen = lock(&self.screen);
        screen.popups.remove(id);
        self.present(&mut screen);
        if let Some(action) = screen.notifications.popup_closed(id) {
            self.display.notify(action);
        }
    }

    /// Does what one effect of the reducer asks.
    pub(super) fn carry_out(self: &Arc<Self>, state: &Mutex<ClientState>, effect: Effect) {
        let settings = self.settings();
        let view = match &effect {
            Effect::ShowPopup(call) | Effect::UpdatePopup(call) => {
                Some(popup_view(state, &settings, (**call).clone()))
            }
            _ => None,
        };
        let mut screen = lock(&self.screen);
        if let Some(action) = screen
            .notifications
            .on_effect(&effect, settings.notifications)
        {
            self.display.notify(action);
        }
        match (effect, view) {
            (Effect::ShowPopup(_), Some(view)) => {
                screen.popups.open(view);
                self.present(&mut screen);
            }
            (Effect::UpdatePopup(_), Some(view)) => {
                screen.popups.refresh(view);
                self.present(&mut screen);
            }
            (Effect::ClosePopup(id), _) => {
                screen.popups.remove(id);
                self.present(&mut screen);
            }
            (Effect::JournalChanged, _) => {
                drop(screen);
                self.display.journal_changed();
            }
            (Effect::PresenceChanged, _) => {
                drop(screen);
                let (team, me) = {
                    let reduced = lock(state);
                    let team: Vec<_> = reduced.presence().into_iter().cloned().collect();
                    (team, reduced.my_presence().cloned())
                };
                self.display.team_changed(&team);
                if me.is_some() {
                    self.update_status(|status| status.me = me);
                }
            }
            (Effect::ShowPopup(_) | Effect::UpdatePopup(_), None) => {}
        }
    }

    /// Shows the stack's current popup, or hides the window when there is none; a hidden
    /// window is closed after [`KEEP_WARM`] unless a popup opened meanwhile. Called with
    /// the stack locked, so that the window follows it in order.
    fn present(self: &Arc<Self>, screen: &mut Screen) {
        match screen.popups.current() {
            Some(view) => {
                screen.showing = true;
                self.display.show_popup(view);
            }
            None if screen.showing => {
                screen.showing = false;
                self.display.hide_popup();
                let opened = screen.popups.opened();
                let shared = Arc::clone(self);
                let cold = self.clock.sleep(KEEP_WARM);
                self.runtime.spawn(async move {
                    cold.await;
                    let screen = lock(&shared.screen);
                    if screen.popups.opened() == opened && screen.popups.current().is_none() {
                        shared.display.close_popup();
                    }
                });
            }
            None => {}
        }
    }
}

/// What the popup shows for `call`: with the answering agent's name and the help desk's
/// "new ticket" address.
fn popup_view(state: &Mutex<ClientState>, settings: &SessionSettings, call: Call) -> PopupView {
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
        new_ticket_url: settings.new_ticket_url.clone(),
    }
}
