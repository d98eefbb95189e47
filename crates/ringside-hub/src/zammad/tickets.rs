//! A customer's latest tickets, fetched from Zammad when a call rings: the profile's list
//! (`GET /api/v1/ticket_customer?customer_id=…`, which works without Elasticsearch), the
//! newest [`MAX_TICKETS`] by last change, each with its number, title, state name (from
//! `ticket_states`, kept and read again when a ticket names a state not seen yet) and link.
//!
//! Bounded three ways: at most [`MAX_FETCHES`] fetches at once, each with a deadline
//! (`[zammad] ticket_timeout_ms`) that covers the tries and the waits between them, and a
//! fetch that waits longer than the deadline for its turn is dropped. What each fetch finds
//! feeds [`ZammadHealth`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_clock::Clock;
use ringside_core::caller::{TicketSummary, MAX_TICKETS};
use ringside_core::limits;
use ringside_providers::zammad::links;
use ringside_providers::zammad::tickets::{self as wire, Ticket};
use tokio::sync::Semaphore;

use super::check::TICKET_READ;
use super::client::{Retry, ZammadClient, ZammadError};
use super::health::{Finding, ZammadHealth};
use crate::config::ZammadSettings;
use crate::store::zammad::FetchedTicket;

/// The most ticket fetches in flight at once, over all calls: a burst of calls costs
/// Zammad no more than a few agents opening profiles.
pub const MAX_FETCHES: usize = 4;

/// Tries of one fetch; the waits between them (an eighth of the deadline, doubling) leave
/// room for the last try within the deadline.
const ATTEMPTS: u32 = 3;

/// Fetches customers' tickets within a deadline.
#[derive(Debug)]
pub struct TicketFetcher {
    client: ZammadClient,
    deadline: Duration,
    permits: Semaphore,
    /// State names by id, as `ticket_states` last listed them.
    states: Mutex<HashMap<u64, String>>,
    health: Arc<ZammadHealth>,
    clock: Arc<dyn Clock>,
}

impl TicketFetcher {
    /// A fetcher of the configured Zammad that reports to `health`.
    pub fn new(
        settings: &ZammadSettings,
        health: Arc<ZammadHealth>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ZammadError> {
        let deadline = Duration::from_millis(settings.ticket_timeout_ms);
        let retry = Retry {
            attempts: ATTEMPTS,
            first_wait: deadline / 8,
        };
        Ok(TicketFetcher {
            client: ZammadClient::new(settings, retry)?,
            deadline,
            permits: Semaphore::new(MAX_FETCHES),
            states: Mutex::default(),
            health,
            clock,
        })
    }

    /// Zammad user `user`'s newest tickets, newest first; `None` when Zammad did not give
    /// them in time, failed or refused (its state says why), or when too many fetches
    /// were waiting.
    pub async fn latest(&self, user: u64) -> Option<Vec<FetchedTicket>> {
        let Ok(Ok(_permit)) = tokio::time::timeout(self.deadline, self.permits.acquire()).await
        else {
            tracing::debug!("zammad: too many ticket fetches waiting; user {user}'s skipped");
            return None;
        };
        let finding = match tokio::time::timeout(self.deadline, self.fetch(user)).await {
            Ok(Ok(tickets)) => {
                self.health.fetched(Finding::Answered, self.clock.now());
                return Some(tickets);
            }
            Ok(Err(e)) => Finding::of_error(&e).ok_or(e),
            Err(_) => Ok(Finding::Slow(format!(
                "Zammad at {} did not give a customer's tickets within {} ms \
                 (zammad.ticket_timeout_ms)",
                self.client.url(),
                self.deadline.as_millis()
            ))),
        };
        match finding {
            Ok(finding) => self.health.fetched(finding, self.clock.now()),
            // Zammad answered, so it is up; this request alone went wrong.
            Err(e) => tracing::warn!("zammad: the tickets of user {user}: {e}"),
        }
        None
    }

    async fn fetch(&self, user: u64) -> Result<Vec<FetchedTicket>, ZammadError> {
        let query = [("customer_id", user.to_string())];
        let body = self
            .client
            .get("ticket_customer", &query, TICKET_READ)
            .await?;
        let found = wire::customer(&body).map_err(|cause| ZammadError::Wire {
            what: "GET /api/v1/ticket_customer".into(),
            cause,
        })?;
        let newest = newest(found.open.into_iter().chain(found.closed).collect());
        let unknown = newest
            .iter()
            .filter_map(|t| t.state_id)
            .any(|id| !self.lock_states().contains_key(&id));
        if unknown {
            self.read_states().await?;
        }
        let states = self.lock_states();
        Ok(newest
            .into_iter()
            .map(|ticket| {
                let state = ticket
                    .state
                    .clone()
                    .or_else(|| ticket.state_id.and_then(|id| states.get(&id).cloned()));
                FetchedTicket {
                    zammad_id: ticket.id,
                    summary: TicketSummary {
                        url: Some(links::ticket(self.client.url(), ticket.id)),
                        id: ticket.number,
                        title: ticket.title,
                        state,
                        updated_at: ticket.updated_at.filter(|at| limits::time_in_range(*at)),
                    },
                }
            })
            .collect())
    }

    /// Reads the state names again (a ticket named a state the hub had not seen).
    async fn read_states(&self) -> Result<(), ZammadError> {
        let body = self.client.get("ticket_states", &[], TICKET_READ).await?;
        let states = wire::states(&body).map_err(|cause| ZammadError::Wire {
            what: "GET /api/v1/ticket_states".into(),
            cause,
        })?;
        *self.lock_states() = states.into_iter().map(|s| (s.id, s.name)).collect();
        Ok(())
    }

    fn lock_states(&self) -> std::sync::MutexGuard<'_, HashMap<u64, String>> {
        self.states.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The [`MAX_TICKETS`] tickets changed last, newest first (those with no time last), each
/// once. Then their times are cut to the second, as the directory keeps them, so that the
/// tickets kept are exactly what the next fetch brings when nothing changed.
fn newest(mut tickets: Vec<Ticket>) -> Vec<Ticket> {
    tickets.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    tickets.dedup_by_key(|t| t.id);
    tickets.truncate(MAX_TICKETS);
    for ticket in &mut tickets {
        ticket.updated_at = ticket
            .updated_at
            .map(|at| at.replace_nanosecond(0).unwrap_or(at));
    }
    tickets
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn ticket(id: u64, updated: Option<i64>) -> Ticket {
        Ticket {
            id,
            number: format!("{}", 53000 + id),
            title: format!("Ticket {id}"),
            state_id: Some(2),
            state: None,
            customer_id: Some(2),
            organization_id: None,
            created_at: None,
            updated_at: updated.map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap()),
        }
    }

    #[test]
    fn the_newest_five_by_last_change_whether_open_or_closed() {
        let tickets = vec![
            ticket(1, Some(10)),
            ticket(2, None),
            ticket(3, Some(30)),
            ticket(4, Some(20)),
            ticket(5, Some(50)),
            ticket(6, Some(40)),
            ticket(7, Some(5)),
            ticket(3, Some(30)),
        ];
        let ids: Vec<u64> = newest(tickets).iter().map(|t| t.id).collect();
        assert_eq!(ids, [5, 6, 3, 4, 1]);
    }
}
