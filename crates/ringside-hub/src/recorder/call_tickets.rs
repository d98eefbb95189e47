//! Calls logged as Zammad tickets, on the writer's side: the ticket job is queued in the
//! transaction that records the call's end (or an agent's click), composed from the call
//! and the directory, at most once per call; the ticket Zammad made is written onto the
//! call and published as a call update.

use crate::store::Db;
use ringside_core::call::{Call, CallState, CallTicket};
use ringside_providers::zammad::call_log::{LogCalls, TicketJob};
use time::OffsetDateTime;

use crate::store::call_tickets::{self, Queued};
use crate::store::StoreError;

/// What the writer needs to log calls as tickets (`[zammad] log_calls`, `ticket_group`,
/// `ticket_window_hours`).
#[derive(Debug, Clone)]
pub struct CallTicketing {
    /// Which calls are logged when they end.
    pub log: LogCalls,
    /// The group tickets go to.
    pub group: String,
    /// Hours within which a call goes on the customer's open call ticket for the number.
    pub window_hours: u64,
}

/// What became of an agent's request for a call's ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketRequest {
    /// No such journal entry.
    NotFound,
    /// The call has its ticket already.
    Has(CallTicket),
    /// The caller is no Zammad customer the hub knows.
    UnknownCaller,
    /// The job is queued (now, or it was before): the relay delivers it.
    Queued,
    /// The outbox is full.
    Full,
}

impl CallTicketing {
    /// Queues the job for `call` if its change from `before` ended it and it is one to log.
    pub(crate) fn on_change(
        &self,
        db: &mut Db<'_>,
        before: Option<&Call>,
        call: &Call,
        cap: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let ended_now = call.state == CallState::Ended
            && before.is_none_or(|before| before.state != CallState::Ended);
        if !ended_now || call.ticket.is_some() || !self.log.logs(call) {
            return Ok(());
        }
        if self.queue(db, call, self.window_hours, cap, false, now)? == Some(Queued::Dropped) {
            tracing::error!(
                "the Zammad relay's outbox is full (zammad.relay_outbox_max): call {} will not \
                 be logged as a ticket; is Zammad reachable?",
                call.id
            );
        }
        Ok(())
    }

    /// An agent asks for call `id`'s ticket: queued now (always a new ticket), or what
    /// stands in the way.
    pub(crate) fn request(
        &self,
        db: &mut Db<'_>,
        id: i64,
        cap: u64,
        now: OffsetDateTime,
    ) -> Result<TicketRequest, StoreError> {
        let Some(call) = crate::store::calls::by_ids(db, &[id])?.pop() else {
            return Ok(TicketRequest::NotFound);
        };
        if let Some(ticket) = call.ticket {
            return Ok(TicketRequest::Has(ticket));
        }
        Ok(match self.queue(db, &call, 0, cap, true, now)? {
            None => TicketRequest::UnknownCaller,
            Some(Queued::Dropped) => TicketRequest::Full,
            Some(Queued::New | Queued::Already) => TicketRequest::Queued,
        })
    }

    /// Composes and queues `call`'s job; `None` when the caller is no known Zammad customer.
    fn queue(
        &self,
        db: &mut Db<'_>,
        call: &Call,
        window_hours: u64,
        cap: u64,
        revive: bool,
        now: OffsetDateTime,
    ) -> Result<Option<Queued>, StoreError> {
        let Some(customer) = call_tickets::customer(db, call)? else {
            return Ok(None);
        };
        let agents = call_tickets::agents(db, call)?;
        let job = TicketJob::compose(call, &customer, &agents, &self.group, window_hours, now);
        Ok(Some(call_tickets::enqueue(
            db,
            call.id,
            &job.to_json(),
            now,
            cap,
            revive,
        )?))
    }
}

/// Writes `ticket` onto call `id` (unless it has one) and returns the call as changed;
/// `None` when it had one or is gone.
pub(crate) fn record(
    db: &mut Db<'_>,
    id: i64,
    ticket: CallTicket,
    now: OffsetDateTime,
) -> Result<Option<Call>, StoreError> {
    let Some(mut call) = crate::store::calls::by_ids(db, &[id])?.pop() else {
        return Ok(None);
    };
    if call.ticket.is_some() {
        return Ok(None);
    }
    call.ticket = Some(ticket);
    call.updated_at = now;
    crate::store::calls::update(db, &call)?;
    Ok(Some(call))
}
