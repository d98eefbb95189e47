//! The session task: the one owner of the connection, the status, the popup stack and the
//! notifications. It waits on the shell's commands and on the connection's phase, one at a
//! time, so that everything it shows is shown in order and nothing stale survives a new
//! connection.

use std::future::pending;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ringside_core::agent::Presence;
use ringside_core::api::Me;
use ringside_core::call::Call;
use tokio::sync::{mpsc, watch};

use super::display::Display;
use super::phase::{Checking, Event, Live, Pending, Phase};
use super::popups::{OpenPopups, PopupView};
use super::settings::{EndpointLookup, SessionConfig, SessionSettings};
use super::status::{AppStatus, ConnectionState, HubMode};
use crate::backoff::Backoff;
use crate::call_notification::CallNotifications;
use crate::error::ClientError;
use crate::hub_version;
use crate::rest::HubClient;
use crate::state::{ClientState, Effect};
use crate::stream::{subscribe, StreamUpdate};
use ringside_clock::{Clock, Sleep};

/// What the shell asks of the session task.
pub(super) enum Command {
    /// Drop the connection and connect anew in `mode` to the hub `endpoint` finds.
    Connect {
        /// Embedded or remote, for the status.
        mode: HubMode,
        /// Finds the hub.
        endpoint: Pending<EndpointLookup>,
    },
    /// The settings changed (they are in the settings watch).
    SettingsChanged,
    /// The agent closed the popup of this call.
    Dismiss(i64),
    /// The hub just returned the agent's own presence.
    MyPresence(Presence),
    /// Reconnect the stream at once (after a sleep of the computer).
    ReconnectStreamNow,
}

/// What the task publishes for those who read without asking it.
pub(super) struct Published {
    /// The status.
    pub(super) status: watch::Sender<AppStatus>,
    /// The REST client of the live connection.
    pub(super) client: watch::Sender<Option<HubClient>>,
    /// The popup shown now.
    pub(super) popup: watch::Sender<Option<PopupView>>,
}

/// Everything the session task owns.
pub(super) struct Owner {
    /// Where everything is shown.
    pub(super) display: Arc<dyn Display>,
    /// The time and the sleeps.
    pub(super) clock: Arc<dyn Clock>,
    /// The timers and limits.
    pub(super) config: SessionConfig,
    /// The agent's settings, as the shell last set them.
    pub(super) settings: watch::Receiver<SessionSettings>,
    /// What readers see.
    pub(super) published: Published,
    /// Where the connection stands.
    pub(super) phase: Phase,
    /// The open popups.
    pub(super) popups: OpenPopups,
    /// Which call has a notification.
    pub(super) notifications: CallNotifications,
    /// Whether the popup window shows a popup (so that closing the last one hides it).
    pub(super) showing: bool,
    /// The hidden popup window's closing timer, with the popup count when it was hidden.
    pub(super) cold: Option<(u64, Sleep)>,
}

/// What woke the task.
enum Woken {
    Command(Option<Command>),
    Phase(Event),
    Cold,
}

/// Locks the reduced state, shrugging off poisoning: `apply` leaves it consistent.
fn lock(state: &Mutex<ClientState>) -> std::sync::MutexGuard<'_, ClientState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Owner {
    /// Runs until the session's handle is dropped.
    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            let woken = {
                let phase = &mut self.phase;
                let cold = &mut self.cold;
                tokio::select! {
                    command = commands.recv() => Woken::Command(command),
                    event = phase.next() => Woken::Phase(event),
                    () = async {
                        match cold {
                            Some((_, sleep)) => sleep.as_mut().await,
                            None => pending().await,
                        }
                    } => Woken::Cold,
                }
            };
            match woken {
                Woken::Command(None) => return,
                Woken::Command(Some(command)) => self.on_command(command),
                Woken::Phase(event) => self.on_event(event),
                Woken::Cold => self.on_cold(),
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Connect { mode, endpoint } => {
                // Dropping the live connection's stream handle ends the stream.
                self.phase = Phase::Idle;
                self.published.client.send_replace(None);
                self.popups.clear();
                self.present();
                for action in self.notifications.clear() {
                    self.display.notify(action);
                }
                self.update_status(|status| *status = AppStatus::starting(mode));
                self.phase = Phase::Finding(endpoint);
            }
            Command::SettingsChanged => {
                if let Phase::Live(live) = &self.phase {
                    let popup_on = self.settings.borrow().popup_on;
                    lock(&live.state).set_popup_on(popup_on);
                }
            }
            Command::Dismiss(id) => {
                self.popups.remove(id);
                self.present();
                if let Some(action) = self.notifications.popup_closed(id) {
                    self.display.notify(action);
                }
            }
            Command::MyPresence(me) => self.update_status(|status| status.me = Some(me)),
            Command::ReconnectStreamNow => {
                if let Phase::Live(live) = &self.phase {
                    live.stream.reconnect_now();
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Found(lookup) => self.on_found(lookup),
            Event::Checked(checked) => self.on_checked(checked),
            Event::Update(update) => self.on_update(update),
            Event::StreamEnded => self.phase = Phase::Idle,
        }
    }

    /// The shell found the hub (or not): check the token.
    fn on_found(&mut self, lookup: EndpointLookup) {
        self.phase = Phase::Idle;
        let endpoint = match lookup {
            EndpointLookup::Found(endpoint) => endpoint,
            EndpointLookup::Unconfigured => {
                return self.update_status(|status| {
                    status.connection = ConnectionState::Unconfigured;
                    status.detail = Some("set the hub URL and token in Settings".into());
                });
            }
            EndpointLookup::Failed(detail) => {
                return self.update_status(|status| {
                    status.connection = ConnectionState::Offline;
                    status.detail = Some(detail);
                });
            }
        };
        let hub_url = endpoint.base_url().to_string();
        self.update_status(|status| status.hub_url = Some(hub_url));
        match HubClient::new(endpoint.clone(), self.config.request_timeout) {
            Ok(client) => {
                let backoff = Backoff::new(self.config.me_retry);
                self.phase = Phase::Checking(Box::new(Checking::start(endpoint, client, backoff)));
            }
            Err(e) => self.offline(&e),
        }
    }

    /// `GET /me` answered: subscribe, or retry after the backoff's delay while the hub is
    /// unreachable, or give up when the token was refused.
    fn on_checked(&mut self, checked: Result<Me, ClientError>) {
        let Phase::Checking(checking) = std::mem::replace(&mut self.phase, Phase::Idle) else {
            return;
        };
        let mut checking = *checking;
        match checked {
            Ok(me) => {
                let mut reducer =
                    ClientState::new(me.presence.login.clone(), self.config.popup_window);
                reducer.set_popup_on(self.settings.borrow().popup_on);
                let state = Arc::new(Mutex::new(reducer));
                let (stream, updates) = subscribe(
                    checking.endpoint.clone(),
                    self.config.stream.clone(),
                    state.clone(),
                );
                self.published.client.send_replace(Some(checking.client));
                self.phase = Phase::Live(Live {
                    endpoint: checking.endpoint,
                    state,
                    stream,
                    updates,
                });
                self.update_status(|status| {
                    status.me = Some(me.presence);
                    status.helpdesk_url = me.helpdesk_url;
                    status.hub_warning = hub_version::warning(me.hub_version.as_deref());
                    status.hub_version = me.hub_version;
                });
            }
            Err(e) if e.is_terminal() => self.offline(&e),
            Err(e) => {
                // Every node is tried in turn at once; the backoff waits between rounds.
                checking.failed += 1;
                let endpoint = &checking.endpoint;
                let delay = if endpoint.fail_over(checking.failed) {
                    Duration::ZERO
                } else {
                    checking.backoff.next_jittered()
                };
                let hub_url = endpoint.base_url().to_string();
                self.update_status(|status| {
                    status.connection = ConnectionState::Reconnecting;
                    status.detail = Some(retrying(&e, delay));
                    status.hub_url = Some(hub_url);
                });
                let retry = checking.retry(self.clock.as_ref(), delay);
                self.phase = Phase::Checking(Box::new(retry));
            }
        }
    }

    /// Carries out one stream update.
    fn on_update(&mut self, update: StreamUpdate) {
        match update {
            StreamUpdate::Connecting => self.update_status(|status| {
                if status.connection == ConnectionState::Connected {
                    status.connection = ConnectionState::Reconnecting;
                }
            }),
            StreamUpdate::Connected => {
                // With several nodes, the one the stream reached.
                let hub_url = match &self.phase {
                    Phase::Live(live) => Some(live.endpoint.base_url().to_string()),
                    _ => None,
                };
                self.update_status(|status| {
                    status.connection = ConnectionState::Connected;
                    status.detail = None;
                    if hub_url.is_some() {
                        status.hub_url = hub_url;
                    }
                });
            }
            StreamUpdate::Disconnected { reason, retry_in } => self.update_status(|status| {
                status.connection = ConnectionState::Reconnecting;
                status.detail = Some(retrying(&reason, retry_in));
            }),
            StreamUpdate::Terminated(error) => self.offline(&error),
            StreamUpdate::Message(message) => {
                let Phase::Live(live) = &self.phase else {
                    return;
                };
                let state = live.state.clone();
                let effects = lock(&state).apply(message, self.clock.now());
                for effect in effects {
                    self.carry_out(&state, effect);
                }
            }
        }
    }

    fn offline(&mut self, error: &ClientError) {
        self.update_status(|status| {
            status.connection = ConnectionState::Offline;
            status.detail = Some(error.to_string());
        });
    }

    /// Changes the status, publishes it and shows it.
    fn update_status(&mut self, change: impl FnOnce(&mut AppStatus)) {
        self.published.status.send_modify(change);
        let status = self.published.status.borrow().clone();
        self.display.show_status(&status);
    }

    /// Does what one effect of the reducer asks.
    fn carry_out(&mut self, state: &Mutex<ClientState>, effect: Effect) {
        let settings = self.settings.borrow().clone();
        if let Some(action) = self
            .notifications
            .on_effect(&effect, settings.notifications)
        {
            self.display.notify(action);
        }
        match effect {
            Effect::ShowPopup(call) => {
                let helpdesk = self.published.status.borrow().helpdesk_url.clone();
                self.popups
                    .open(popup_view(state, &settings, helpdesk, *call));
                self.present();
            }
            Effect::UpdatePopup(call) => {
                let helpdesk = self.published.status.borrow().helpdesk_url.clone();
                self.popups
                    .refresh(popup_view(state, &settings, helpdesk, *call));
                self.present();
            }
            Effect::ClosePopup(id) => {
                self.popups.remove(id);
                self.present();
            }
            Effect::JournalChanged => self.display.journal_changed(),
            Effect::PresenceChanged => {
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
        }
    }

    /// Shows the stack's current popup, or hides the window when there is none; a hidden
    /// window is closed after the settings' keep-warm time unless a popup opened meanwhile.
    fn present(&mut self) {
        let current = self.popups.current().cloned();
        self.published.popup.send_replace(current.clone());
        match current {
            Some(view) => {
                self.showing = true;
                self.display.show_popup(&view);
            }
            None if self.showing => {
                self.showing = false;
                self.display.hide_popup();
                let keep_warm = self.settings.borrow().popup_keep_warm;
                self.cold = Some((self.popups.opened(), self.clock.sleep(keep_warm)));
            }
            None => {}
        }
    }

    /// The hidden window's timer ran out: close it unless a popup opened meanwhile.
    fn on_cold(&mut self) {
        if let Some((opened, _)) = self.cold.take() {
            if self.popups.opened() == opened && self.popups.current().is_none() {
                self.display.close_popup();
            }
        }
    }
}

/// What the popup shows for `call`: with the answering agent's name, the help desk's
/// "new ticket" address and the help desk the hub syncs from (`helpdesk`).
fn popup_view(
    state: &Mutex<ClientState>,
    settings: &SessionSettings,
    helpdesk: Option<String>,
    call: Call,
) -> PopupView {
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
        helpdesk_url: helpdesk,
    }
}

/// What the status says while the connection is retried after `error`: the next server at
/// once (another node of the hub), or the wait before the next attempt.
fn retrying(error: &ClientError, delay: Duration) -> String {
    if delay.is_zero() {
        format!("{error}; trying the hub's next server")
    } else {
        format!("{error}; retrying in {} s", delay.as_secs() + 1)
    }
}
