//! Phone links through the session: a link waits for the agent's confirmation (or is
//! dialed at once when it needs none), the hub dials, and the hub's `tel:` link goes to the
//! softphone unless it would come straight back to this app ([`links::after_dial`]).

use std::sync::Arc;

use tokio::sync::watch;

use super::error::SessionError;
use super::notice::Notice;
use super::shared::{lock, Shared};
use super::status::AppStatus;
use crate::dial_prompt::{self, DialPrompt, LinkOrigin};
use crate::links::{self, AfterDial};
use crate::rest::{DialResult, HubClient};

/// Waits until the session is connected (for a phone link clicked while the app starts),
/// giving up at once when it will not connect without new settings, or after the
/// configured patience. Wakes on each status change: the connection is installed before
/// the status that follows it.
pub(super) async fn wait_for_client(shared: &Shared) -> Result<HubClient, SessionError> {
    let mut status: watch::Receiver<AppStatus> = shared.watch_status();
    let mut patience = shared.clock.sleep(shared.config.link_patience);
    loop {
        let given_up = status.borrow_and_update().given_up();
        match shared.client() {
            Ok(client) => return Ok(client),
            Err(e) if given_up => return Err(e),
            Err(_) => {}
        }
        tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    return Err(SessionError::NotConnected);
                }
            }
            () = &mut patience => return shared.client(),
        }
    }
}

/// Puts a phone link from `origin` before the agent, or dials it at once when it needs no
/// confirmation (then the hub's answer is returned).
pub(super) async fn follow(
    shared: &Shared,
    number: String,
    origin: LinkOrigin,
) -> Result<Option<DialResult>, SessionError> {
    let client = wait_for_client(shared)
        .await
        .map_err(|e| SessionError::CouldNotDial {
            number: number.clone(),
            reason: Box::new(e),
        })?;
    if !dial_prompt::needs_confirmation(origin, shared.settings().confirm_app_links) {
        return place(shared, &client, &number, origin).await.map(Some);
    }
    // Who it is, when the hub can say; the prompt shows the number alone otherwise.
    let lookup = client.lookup_caller(&number).await.ok();
    let current = {
        let mut pending = lock(&shared.pending_dials);
        pending.ask(&number, lookup.as_ref(), origin)?;
        pending.current().cloned()
    };
    shared.display.show_dial_prompt(current.as_ref());
    Ok(None)
}

/// Follows a link the desktop handed to the app, in the background; a failure is told in
/// a notice.
pub(super) fn follow_from_desktop(shared: &Arc<Shared>, number: String) {
    let shared = Arc::clone(shared);
    shared.runtime.clone().spawn(async move {
        if let Err(e) = follow(&shared, number, LinkOrigin::Desktop).await {
            shared.display.show_notice(&Notice::of(Err(e.to_string())));
        }
    });
}

/// The agent answered prompt `id`: dials its number when `dial`, in the background (the
/// notice tells how it went). Returns the next prompt to show.
pub(super) fn answer(shared: &Arc<Shared>, id: u64, dial: bool) -> Option<DialPrompt> {
    let (answered, next) = {
        let mut pending = lock(&shared.pending_dials);
        let answered = pending.answer(id);
        (answered, pending.current().cloned())
    };
    if let Some(prompt) = answered.filter(|_| dial) {
        let shared = Arc::clone(shared);
        shared.runtime.clone().spawn(async move {
            let placed = async {
                let client = shared.client()?;
                place(&shared, &client, &prompt.number, prompt.origin).await
            };
            let told = placed
                .await
                .map(|dialed| dial_prompt::placed_message(&dialed))
                .map_err(|e| format!("Could not dial {}: {e}", prompt.number));
            shared.display.show_notice(&Notice::of(told));
        });
    }
    next
}

/// Dials `number` through the hub and, when no provider dials for the agent, hands the
/// hub's `tel:` link to the softphone, unless it would come straight back to this app.
pub(super) async fn place(
    shared: &Shared,
    client: &HubClient,
    number: &str,
    origin: LinkOrigin,
) -> Result<DialResult, SessionError> {
    let dialed = client.dial(number).await?;
    let handler = || shared.display.is_phone_link_handler();
    if let AfterDial::OpenSoftphone(link) = links::after_dial(&dialed, origin, handler)? {
        shared
            .display
            .open_softphone(&link)
            .map_err(|reason| SessionError::Desktop {
                link: link.to_string(),
                reason,
            })?;
    }
    Ok(dialed)
}
