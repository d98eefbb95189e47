//! What every fuzz target checks beyond "does not panic, hang or exhaust memory": that what
//! a parser lets through stays within the bounds of [`ringside_core::limits`], so that no
//! input can make the hub store more than a real record holds.

use ringside_core::call::CallEvent;
use ringside_core::directory::{ContactRecord, TicketRecord};
use ringside_core::limits::*;
use ringside_core::number::{DefaultCountry, E164};
use time::format_description::well_known::Rfc3339;

/// The country the importers and number targets normalize with: Germany has a trunk prefix
/// and a bracketed trunk zero, the rules with the most branches.
pub fn country() -> DefaultCountry {
    DefaultCountry::from_iso("DE").expect("DE is a country")
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn at_most(what: &str, text: Option<&str>, limit: usize) {
    if let Some(text) = text {
        assert!(
            chars(text) <= limit,
            "{what} has {} characters",
            chars(text)
        );
    }
}

/// A core event a provider made: every field within its bound.
pub fn check_event(event: &CallEvent) {
    at_most("call_id", Some(&event.call_id), MAX_CALL_ID_CHARS);
    at_most("from", event.from.as_deref(), MAX_NUMBER_CHARS);
    at_most("to", event.to.as_deref(), MAX_NUMBER_CHARS);
    // Several users are joined with ", ".
    let users = MAX_USERS_PER_EVENT * (MAX_NAME_CHARS + 2);
    at_most("user", event.user.as_deref(), users);
    at_most("queue", event.queue.as_deref(), MAX_NAME_CHARS);
    at_most("cause", event.cause.as_deref(), MAX_WORD_CHARS);
    at_most(
        "answering_number",
        event.answering_number.as_deref(),
        MAX_NUMBER_CHARS,
    );
    at_most(
        "answering_user",
        event.answering_user.as_deref(),
        MAX_NAME_CHARS.max(MAX_NUMBER_CHARS),
    );
    assert!(event.offered_users.len() <= MAX_USERS_PER_EVENT);
    for user in &event.offered_users {
        at_most("offered user", Some(user), MAX_NAME_CHARS);
    }
}

/// A number a parser produced: `+` and 6 to 15 digits, and parseable again.
pub fn check_number(number: &E164) {
    assert_eq!(E164::parse(number.as_str()).as_ref(), Ok(number));
}

/// A contact an importer produced: within every bound.
pub fn check_contact(contact: &ContactRecord) {
    at_most("name", Some(&contact.name), MAX_NAME_CHARS);
    assert!(!contact.name.trim().is_empty());
    at_most(
        "organization",
        contact.organization.as_deref(),
        MAX_NAME_CHARS,
    );
    assert!(contact.emails.len() <= MAX_PHONES_PER_CONTACT);
    for email in &contact.emails {
        at_most("email", Some(email), MAX_EMAIL_CHARS);
    }
    assert!(contact.phones.len() <= MAX_PHONES_PER_CONTACT);
    for phone in &contact.phones {
        at_most("phone", Some(phone), MAX_NUMBER_CHARS);
    }
    at_most("note", contact.note.as_deref(), MAX_TEXT_CHARS);
    at_most("profile_url", contact.profile_url.as_deref(), MAX_URL_CHARS);
    assert!(contact.numbers.len() <= MAX_NUMBERS_PER_RECORD);
    contact.numbers.iter().for_each(check_number);
}

/// A ticket an importer produced: within every bound, its time writable as RFC 3339.
pub fn check_ticket(ticket: &TicketRecord) {
    at_most("id", Some(&ticket.id), MAX_TICKET_ID_CHARS);
    at_most("title", Some(&ticket.title), MAX_TITLE_CHARS);
    at_most("state", ticket.state.as_deref(), MAX_NAME_CHARS);
    at_most("email", ticket.customer_email.as_deref(), MAX_EMAIL_CHARS);
    at_most("url", ticket.url.as_deref(), MAX_URL_CHARS);
    at_most("text", ticket.text.as_deref(), MAX_TEXT_CHARS);
    assert!(ticket.maybe_numbers.len() <= MAX_NUMBERS_PER_RECORD);
    ticket.maybe_numbers.iter().for_each(check_number);
    ticket.customer_phone.iter().for_each(check_number);
    if let Some(at) = ticket.updated_at {
        assert!(time_in_range(at));
        let utc = at.to_offset(time::UtcOffset::UTC);
        utc.format(&Rfc3339).expect("a stored time is writable");
    }
}
