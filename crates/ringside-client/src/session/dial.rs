//! Phone links through the session: a link waits for the agent's confirmation (or is
//! dialed at once when it needs none), the hub dials, and the hub's `tel:` link goes to the
//! softphone unless it would come straight back to this app ([`links::after_dial`]). Runs
//! beside the session task, on what it publishes.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;

use super::display::Display;
use super::error::SessionError;
use super::notice::Notice;
use super::settings::SessionSettings;
use super::status::AppStatus;
use crate::dial_prompt::{self, DialPrompt, LinkOrigin, PendingDials};
use crate::links::{self, AfterDial};
use crate::rest::{DialResult, HubClient};
use ringside_clock::Clock;

/// What following a phone link needs.
pub(super) struct Dialer {
    /// Shows the prompts and notices, opens the softphone.
    pub(super) display: Arc<dyn Display>,
    /// Times the patience of a link clicked while the app starts.
    pub(super) clock: Arc<dyn Clock>,
    /// Where links are followed in the background.
    pub(super) runtime: Handle,
    /// How long a link waits for the connection.
    pub(super) patience: Duration,
    /// The session's status.
    pub(super) status: watch::Receiver<AppStatus>,
    /// The live connection's REST client.
    pub(super) client: watch::Receiver<Option<HubClient>>,
    /// The agent's settings.
    pub(super) settings: watch::Receiver<SessionSettings>,
    /// Phone links waiting for the agent's confirmation.
    pub(super) pending: Mutex<PendingDials>,
}

impl Dialer {
    /// The REST client of the live connection.
    pub(super) fn client(&self) -> Result<HubClient, SessionError> {
        self.client
            .borrow()
            .clone()
            .ok_or(SessionError::NotConnected)
    }

    /// The prompts, locked; every change to them leaves them consistent.
    pub(super) fn pending(&self) -> MutexGuard<'_, PendingDials> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the session is connected (for a phone link clicked while the app
    /// starts), giving up at once when it will not connect without new settings, or after
    /// the patience. Wakes when the client or the status changes, never polls.
    pub(super) async fn wait_for_client(&self) -> Result<HubClient, SessionError> {
        let mut status = self.status.clone();
        let mut client = self.client.clone();
        let mut patience = self.clock.sleep(self.patience);
        loop {
            let given_up = status.borrow_and_update().given_up();
            if let Some(client) = client.borrow_and_update().clone() {
                return Ok(client);
            }
            if given_up {
                return Err(SessionError::NotConnected);
            }
            tokio::select! {
                changed = status.changed() => changed.map_err(|_| SessionError::NotConnected)?,
                changed = client.changed() => changed.map_err(|_| SessionError::NotConnected)?,
                () = &mut patience => return self.client(),
            }
        }
    }

    /// Puts a phone link from `origin` before the agent, or dials it at once when it needs
    /// no confirmation (then the hub's answer is returned).
    pub(super) async fn follow(
        &self,
        number: String,
        origin: LinkOrigin,
    ) -> Result<Option<DialResult>, SessionError> {
        let client = self
            .wait_for_client()
            .await
            .map_err(|e| SessionError::CouldNotDial {
                number: number.clone(),
                reason: Box::new(e),
            })?;
        let confirm_app_links = self.settings.borrow().confirm_app_links;
        if !dial_prompt::needs_confirmation(origin, confirm_app_links) {
            return self.place(&client, &number, origin).await.map(Some);
        }
        // Who it is, when the hub can say; the prompt shows the number alone otherwise.
        let lookup = client.lookup_caller(&number).await.ok();
        let current = {
            let mut pending = self.pending();
            pending.ask(&number, lookup.as_ref(), origin)?;
            pending.current().cloned()
        };
        self.display.show_dial_prompt(current.as_ref());
        Ok(None)
    }

    /// Follows a link the desktop handed to the app, in the background; a failure is told
    /// in a notice.
    pub(super) fn follow_from_desktop(self: &Arc<Self>, number: String) {
        let dialer = Arc::clone(self);
        self.runtime.spawn(async move {
            if let Err(e) = dialer.follow(number, LinkOrigin::Desktop).await {
                dialer.display.show_notice(&Notice::of(Err(e.to_string())));
            }
        });
    }

    /// The agent answered prompt `id`: dials its number when `dial`, in the background
    /// (the notice tells how it went). Returns the next prompt to show.
    pub(super) fn answer(self: &Arc<Self>, id: u64, dial: bool) -> Option<DialPrompt> {
        let (answered, next) = {
            let mut pending = self.pending();
            let answered = pending.answer(id);
            (answered, pending.current().cloned())
        };
        if let Some(prompt) = answered.filter(|_| dial) {
            let dialer = Arc::clone(self);
            self.runtime.spawn(async move {
                let placed = async {
                    let client = dialer.client()?;
                    dialer.place(&client, &prompt.number, prompt.origin).await
                };
                let told = placed
                    .await
                    .map(|dialed| dial_prompt::placed_message(&dialed))
                    .map_err(|e| format!("Could not dial {}: {e}", prompt.number));
                dialer.display.show_notice(&Notice::of(told));
            });
        }
        next
    }

    /// Dials `number` through the hub and, when no provider dials for the agent, hands the
    /// hub's `tel:` link to the softphone, unless it would come straight back to this app.
    pub(super) async fn place(
        &self,
        client: &HubClient,
        number: &str,
        origin: LinkOrigin,
    ) -> Result<DialResult, SessionError> {
        let dialed = client.dial(number).await?;
        let handler = || self.display.is_phone_link_handler();
        if let AfterDial::OpenSoftphone(link) = links::after_dial(&dialed, origin, handler)? {
            self.display
                .open_softphone(&link)
                .map_err(|reason| SessionError::Desktop {
                    link: link.to_string(),
                    reason,
                })?;
        }
        Ok(dialed)
    }
}
