//! Zammad's REST API as the hub reads it (`/api/v1/users`, `/organizations`,
//! `/users/search`, `/ticket_states`, `/ticket_customer`, `/tickets/search`,
//! `/ticket_articles/by_ticket`): the JSON Zammad
//! sends, read tolerantly (extra fields are ignored, every text is cut to its bound in
//! [`ringside_core::limits`]), and the numbers of a user or organization as Zammad's own
//! caller ID finds them. Pure: the hub does the HTTP.
//!
//! - [`records`]: users and organizations, with their caller numbers.
//! - [`numbers`]: which attributes hold numbers and how they are normalized.
//! - [`tickets`]: tickets, ticket states and the profile's ticket list.
//! - [`links`]: links into Zammad's web UI.
//! - [`call_log`]: calls logged as tickets: what is posted, and finding it again.
//! - [`customer`]: creating a customer for an unknown caller.
//! - [`articles`]: the first article of a ticket, for `maybe` numbers.

pub mod articles;
pub mod call_log;
pub mod customer;
pub mod links;
pub mod numbers;
pub mod records;
pub mod tickets;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use articles::CustomerArticle;
pub use records::{Organization, User};
pub use tickets::{Ticket, TicketState};

/// The most records one answer may hold: Zammad caps `per_page` far lower (its hard caps
/// cannot be raised), so more means the answer is not what the hub asked for.
pub const MAX_RECORDS_PER_PAGE: usize = 1_000;

/// Why an answer of Zammad could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ZammadWireError {
    /// The body is not JSON.
    #[error("Zammad's answer is not JSON: {0}")]
    NotJson(String),
    /// The JSON does not have the expected shape.
    #[error("Zammad's answer is not {expected}: {found}")]
    Shape {
        /// What was expected, in words.
        expected: &'static str,
        /// What was found instead.
        found: String,
    },
    /// More records than [`MAX_RECORDS_PER_PAGE`].
    #[error("Zammad's answer holds {0} records, more than the {MAX_RECORDS_PER_PAGE} a page may")]
    TooMany(usize),
}

/// Reads a JSON body.
pub(crate) fn json(body: &[u8]) -> Result<Value, ZammadWireError> {
    serde_json::from_slice(body).map_err(|e| ZammadWireError::NotJson(e.to_string()))
}

/// The objects of a JSON array (a page of a list or a search), at most
/// [`MAX_RECORDS_PER_PAGE`].
pub(crate) fn array_of_objects(
    value: &Value,
    expected: &'static str,
) -> Result<Vec<Map<String, Value>>, ZammadWireError> {
    let Value::Array(items) = value else {
        return Err(shape(expected, value));
    };
    if items.len() > MAX_RECORDS_PER_PAGE {
        return Err(ZammadWireError::TooMany(items.len()));
    }
    items
        .iter()
        .map(|item| match item {
            Value::Object(map) => Ok(map.clone()),
            other => Err(shape(expected, other)),
        })
        .collect()
}

/// A shape error naming the JSON type found.
pub(crate) fn shape(expected: &'static str, found: &Value) -> ZammadWireError {
    let found = match found {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::String(_) => "a string".to_owned(),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Object(_) => "an object".to_owned(),
    };
    ZammadWireError::Shape { expected, found }
}

/// A record's id: a positive whole number (Zammad's ids are database ids).
pub(crate) fn id(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key)?.as_u64().filter(|id| *id > 0)
}

/// A text attribute cut to `limit` characters; `None` when absent, null or blank.
pub(crate) fn text(map: &Map<String, Value>, key: &str, limit: usize) -> Option<String> {
    let value = map.get(key)?.as_str()?.trim();
    (!value.is_empty()).then(|| ringside_core::limits::cut(value, limit).0.to_owned())
}

/// A time attribute (`2021-07-26T14:25:53.073Z`); `None` when absent, unreadable or outside
/// the years the store keeps.
pub(crate) fn time(map: &Map<String, Value>, key: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(map.get(key)?.as_str()?, &Rfc3339)
        .ok()
        .filter(|at| ringside_core::limits::time_in_range(*at))
}

/// The `users/search` query of an incremental pass: users changed within the last `secs`
/// seconds on Zammad's clock, in Elasticsearch's date math (`updated_at:>now-1h` in the
/// reference); needs Elasticsearch, since the SQL fallback searches names and e-mail only.
pub fn updated_within_query(secs: u64) -> String {
    format!("updated_at:>now-{secs}s")
}

/// The `tickets/search` query for tickets created within the last `secs` seconds on
/// Zammad's clock (Elasticsearch's date math, as for users); the tickets whose first
/// article gives `maybe` numbers.
pub fn created_within_query(secs: u64) -> String {
    format!("created_at:>now-{secs}s")
}
