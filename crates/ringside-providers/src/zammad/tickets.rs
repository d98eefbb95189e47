//! Zammad's tickets and ticket states: `GET /api/v1/ticket_states`,
//! `GET /api/v1/tickets/search?…&expand=true` and the profile's list
//! `GET /api/v1/ticket_customer?customer_id=…`.

use ringside_core::limits::{MAX_TICKET_ID_CHARS, MAX_TITLE_CHARS, MAX_WORD_CHARS};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::{array_of_objects, id, json, shape, text, time, ZammadWireError, MAX_RECORDS_PER_PAGE};

/// A ticket as Zammad sends it (the fields the hub reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Zammad's id (the one in `#ticket/zoom/{id}`).
    pub id: u64,
    /// The ticket number shown to people (a string, e.g. "53003").
    pub number: String,
    /// Its title.
    pub title: String,
    /// Its state's id, named by [`TicketState`].
    pub state_id: Option<u64>,
    /// Its state's name, when the answer was expanded (`expand=true`).
    pub state: Option<String>,
    /// The customer's user id.
    pub customer_id: Option<u64>,
    /// The organization's id.
    pub organization_id: Option<u64>,
    /// When it was created.
    pub created_at: Option<OffsetDateTime>,
    /// When it last changed.
    pub updated_at: Option<OffsetDateTime>,
}

/// A ticket state: its id and name ("new", "open", "closed", …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    /// Zammad's id of the state.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// The tickets of a customer's profile (`ticket_customer`): open and closed ids, newest
/// created first, at most 15 of each, and the tickets themselves from `assets.Ticket`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerTickets {
    /// The open tickets, in Zammad's order.
    pub open: Vec<Ticket>,
    /// The closed tickets, in Zammad's order.
    pub closed: Vec<Ticket>,
}

/// Reads `GET /api/v1/ticket_states`.
pub fn states(body: &[u8]) -> Result<Vec<TicketState>, ZammadWireError> {
    array_of_objects(&json(body)?, "an array of ticket states")?
        .iter()
        .map(|map| {
            Ok(TicketState {
                id: id(map, "id")
                    .ok_or_else(|| shape("a ticket state with an id", &Value::Null))?,
                name: text(map, "name", MAX_WORD_CHARS).unwrap_or_default(),
            })
        })
        .collect()
}

/// Reads an expanded ticket search (`tickets/search?…&expand=true`): an array of tickets.
pub fn search(body: &[u8]) -> Result<Vec<Ticket>, ZammadWireError> {
    array_of_objects(&json(body)?, "an array of tickets")?
        .iter()
        .map(ticket)
        .collect()
}

/// Reads `GET /api/v1/ticket_customer?customer_id=…`
/// (`{ticket_ids_open, ticket_ids_closed, assets: {Ticket: {id: {…}}}}`). An id whose
/// ticket is not among the assets is left out.
pub fn customer(body: &[u8]) -> Result<CustomerTickets, ZammadWireError> {
    let value = json(body)?;
    let Value::Object(root) = &value else {
        return Err(shape("the ticket_customer object", &value));
    };
    let assets = root
        .get("assets")
        .and_then(|a| a.get("Ticket"))
        .and_then(Value::as_object);
    let list = |key: &str| -> Result<Vec<Ticket>, ZammadWireError> {
        let ids = match root.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(ids)) => ids,
            Some(other) => return Err(shape("a list of ticket ids", other)),
        };
        if ids.len() > MAX_RECORDS_PER_PAGE {
            return Err(ZammadWireError::TooMany(ids.len()));
        }
        let mut tickets = Vec::new();
        for id in ids.iter().filter_map(Value::as_u64) {
            let found = assets.and_then(|assets| assets.get(&id.to_string()));
            if let Some(Value::Object(map)) = found {
                tickets.push(ticket(map)?);
            }
        }
        Ok(tickets)
    };
    Ok(CustomerTickets {
        open: list("ticket_ids_open")?,
        closed: list("ticket_ids_closed")?,
    })
}

pub(super) fn ticket(map: &Map<String, Value>) -> Result<Ticket, ZammadWireError> {
    let id = id(map, "id").ok_or_else(|| shape("a ticket with an id", &Value::Null))?;
    let number = match map.get("number") {
        Some(Value::String(s)) => ringside_core::limits::cut(s, MAX_TICKET_ID_CHARS)
            .0
            .to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => id.to_string(),
    };
    Ok(Ticket {
        id,
        number,
        title: text(map, "title", MAX_TITLE_CHARS).unwrap_or_default(),
        state_id: super::id(map, "state_id"),
        state: text(map, "state", MAX_WORD_CHARS),
        customer_id: super::id(map, "customer_id"),
        organization_id: super::id(map, "organization_id"),
        created_at: time(map, "created_at"),
        updated_at: time(map, "updated_at"),
    })
}
