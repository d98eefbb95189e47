//! Fresh tickets at ring time. The webhook is answered and the ringing event published at
//! once, with the tickets the directory kept for the candidates; then this asks Zammad for
//! each candidate customer's latest tickets and, through the writer, gives the call the
//! fresh ones (an update of the call on the stream, so that an open popup refreshes in
//! place) and keeps them as the cache the next ring starts with. While Zammad is slow or
//! down no update comes, the cached tickets stay, and its state says so.
//!
//! Only Zammad users are asked about: an organization has no customer ticket list
//! (`ticket_customer` takes a user), and listing its tickets would need a ticket search,
//! which needs Elasticsearch. Its card keeps what the directory has.

use std::sync::Arc;

use ringside_clock::Clock;
use ringside_core::call::{Call, Direction};
use ringside_core::caller::{ContactSource, MAX_TICKETS, MAX_TICKETS_PER_CALL};
use tokio::task::JoinSet;

use super::tickets::TicketFetcher;
use crate::recorder::Recorder;
use crate::store::{self, Store};

/// The most customers asked about per call: the first ones fill every ticket a call
/// carries.
const CUSTOMERS_PER_CALL: usize = MAX_TICKETS_PER_CALL / MAX_TICKETS;

/// Fetches and records fresh tickets for ringing calls.
#[derive(Debug)]
pub struct LiveTickets {
    fetcher: TicketFetcher,
    recorder: Recorder,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl LiveTickets {
    /// Fetches with `fetcher`, reads the directory from `store`, records through `recorder`.
    pub fn new(
        fetcher: TicketFetcher,
        recorder: Recorder,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> Self {
        LiveTickets {
            fetcher,
            recorder,
            store,
            clock,
        }
    }

    /// After a new inbound call was recorded and published: starts fetching its Zammad
    /// candidates' tickets in the background, if it has any. Returns at once.
    pub fn after_ring(self: &Arc<Self>, call: &Call) {
        if call.direction != Direction::In {
            return;
        }
        let Some(caller) = &call.caller else {
            return;
        };
        let contacts: Vec<i64> = caller
            .contacts
            .iter()
            .filter(|c| c.source == ContactSource::Zammad)
            .filter_map(|c| c.id)
            .collect();
        if contacts.is_empty() {
            return;
        }
        let live = self.clone();
        let call_id = call.id;
        tokio::spawn(async move { live.refresh(call_id, contacts).await });
    }

    async fn refresh(self: Arc<Self>, call_id: i64, contacts: Vec<i64>) {
        let customers = match self
            .store
            .read(move |db| store::zammad::customers(db, &contacts))
            .await
        {
            Ok(customers) => customers,
            Err(e) => {
                tracing::warn!("zammad: call {call_id}'s customers: {e}");
                return;
            }
        };
        let mut fetches = JoinSet::new();
        for (contact, user) in customers.into_iter().take(CUSTOMERS_PER_CALL) {
            let live = self.clone();
            fetches.spawn(async move { (contact, live.fetcher.latest(user).await) });
        }
        let mut fetched = Vec::new();
        while let Some(done) = fetches.join_next().await {
            if let Ok((contact, Some(tickets))) = done {
                fetched.push((contact, tickets));
            }
        }
        if fetched.is_empty() {
            return;
        }
        if let Err(e) = self
            .recorder
            .live_tickets(call_id, fetched, self.clock.now())
            .await
        {
            tracing::warn!("zammad: call {call_id}'s fresh tickets not recorded: {e}");
        }
    }
}
