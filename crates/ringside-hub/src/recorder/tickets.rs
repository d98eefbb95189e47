//! Tickets fetched from the help desk after a call rang: the call's caller match gets
//! them, and they become the cache the directory answers the next ring with.

use crate::store::Db;
use ringside_core::call::Call;
use ringside_core::caller::CallerMatch;
use ringside_core::stream::EventBody;
use time::{Duration, OffsetDateTime};

use super::commit::EventSink;
use crate::store::zammad::{self as stored, FetchedTicket};
use crate::store::{self, StoreError};

/// One contact's tickets, just fetched.
pub type ContactTickets = (i64, Vec<FetchedTicket>);

/// Stores each contact's fetched tickets as its cache, then gives call `call_id` (as it is
/// now, whatever happened to it meanwhile) those tickets and appends it as a call event;
/// returns whether the call changed.
pub(super) fn apply(
    db: &mut Db<'_>,
    sink: &mut EventSink,
    call_id: i64,
    fetched: &[ContactTickets],
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    for (contact, tickets) in fetched {
        stored::put_tickets(db, *contact, tickets)?;
    }
    let Some(call) = store::calls::by_ids(db, &[call_id])?.pop() else {
        return Ok(false);
    };
    let Some(changed) = with_tickets(&call, fetched, now) else {
        return Ok(false);
    };
    store::calls::update(db, &changed)?;
    sink.append(
        db,
        now,
        EventBody::Call {
            call: Box::new(changed),
        },
    )?;
    Ok(true)
}

/// The call with each fetched contact's tickets in its match (cut to what a call
/// carries), or `None` when that changes nothing. Its `updated_at` moves forward even when
/// the clock did not, so that the apps take it as the newer version of the call.
fn with_tickets(call: &Call, fetched: &[ContactTickets], now: OffsetDateTime) -> Option<Call> {
    let caller = call.caller.as_ref()?;
    let mut matched: CallerMatch = caller.clone();
    for card in &mut matched.contacts {
        let fresh = fetched
            .iter()
            .find(|(contact, _)| Some(*contact) == card.id)
            .map(|(_, tickets)| tickets);
        if let Some(tickets) = fresh {
            card.tickets = tickets.iter().map(|t| t.summary.clone()).collect();
        }
    }
    let matched = matched.capped();
    if &matched == caller {
        return None;
    }
    let mut changed = call.clone();
    changed.caller = Some(matched);
    changed.updated_at = now.max(call.updated_at + Duration::milliseconds(1));
    Some(changed)
}

#[cfg(test)]
mod tests {
    use ringside_core::call::{CallState, Direction, Provider};
    use ringside_core::caller::{ContactCard, ContactSource, MatchLevel, TicketSummary};

    use super::*;

    fn ticket(number: &str, title: &str) -> TicketSummary {
        TicketSummary {
            id: number.into(),
            title: title.into(),
            state: Some("open".into()),
            updated_at: None,
            url: None,
        }
    }

    fn card(id: i64, tickets: Vec<TicketSummary>) -> ContactCard {
        ContactCard {
            id: Some(id),
            name: format!("Customer {id}"),
            organization: None,
            email: None,
            profile_url: None,
            new_ticket_url: None,
            source: ContactSource::Zammad,
            tickets,
        }
    }

    fn ringing(contacts: Vec<ContactCard>) -> Call {
        let at = OffsetDateTime::UNIX_EPOCH;
        Call {
            id: 1,
            provider: Provider::Generic,
            call_id: "c".into(),
            direction: Direction::In,
            state: CallState::Ringing,
            from: "+4930123456".into(),
            from_comment: None,
            from_pretty: String::new(),
            to: "+4930999".into(),
            to_comment: None,
            to_pretty: String::new(),
            queue: None,
            comment: None,
            done: false,
            initialized_at: Some(at),
            start_at: None,
            end_at: None,
            duration_waiting_time: None,
            duration_talking_time: None,
            answered_by: None,
            offered_to: None,
            caller: Some(CallerMatch {
                number: "+4930123456".into(),
                level: MatchLevel::Known,
                contacts,
            }),
            ticket: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn fetched(contact: i64, tickets: &[TicketSummary]) -> ContactTickets {
        let tickets = tickets
            .iter()
            .enumerate()
            .map(|(n, summary)| FetchedTicket {
                zammad_id: n as u64 + 1,
                summary: summary.clone(),
            })
            .collect();
        (contact, tickets)
    }

    #[test]
    fn fetched_tickets_replace_the_cached_ones_of_their_contact_only() {
        let call = ringing(vec![
            card(1, vec![ticket("1", "old")]),
            card(2, vec![ticket("2", "kept")]),
        ]);
        let now = OffsetDateTime::UNIX_EPOCH;
        let changed =
            with_tickets(&call, &[fetched(1, &[ticket("3", "new")])], now).expect("changed");
        let contacts = &changed.caller.as_ref().unwrap().contacts;
        assert_eq!(contacts[0].tickets, [ticket("3", "new")]);
        assert_eq!(contacts[1].tickets, [ticket("2", "kept")]);
        assert!(changed.updated_at > call.updated_at, "a newer version");
    }

    #[test]
    fn the_same_tickets_change_nothing() {
        let call = ringing(vec![card(1, vec![ticket("1", "same")])]);
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            with_tickets(&call, &[fetched(1, &[ticket("1", "same")])], now),
            None
        );
    }

    #[test]
    fn no_contact_gets_more_than_a_popup_shows() {
        let call = ringing(vec![card(1, vec![])]);
        let many: Vec<TicketSummary> = (0..9).map(|n| ticket(&n.to_string(), "t")).collect();
        let changed =
            with_tickets(&call, &[fetched(1, &many)], OffsetDateTime::UNIX_EPOCH).expect("changed");
        assert_eq!(
            changed.caller.unwrap().contacts[0].tickets.len(),
            ringside_core::caller::MAX_TICKETS
        );
    }
}
