//! Zammad's users and organizations, as `GET /api/v1/users`, `/organizations` and
//! `/users/search` send them (arrays of objects, one per record).

use ringside_core::limits::{MAX_EMAIL_CHARS, MAX_NAME_CHARS};
use ringside_core::number::{DefaultCountry, E164};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::{array_of_objects, id, json, numbers, text, time, ZammadWireError};

/// A Zammad user (customer or agent: Zammad's caller ID indexes every user as `known`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Zammad's id of the user.
    pub id: u64,
    /// First and last name; the e-mail address, login or phone when both are empty.
    pub name: String,
    /// The e-mail address.
    pub email: Option<String>,
    /// The user's (primary) organization.
    pub organization_id: Option<u64>,
    /// Whether the user is active; inactive users stay callers, as in Zammad.
    pub active: bool,
    /// When Zammad last changed the user.
    pub updated_at: Option<OffsetDateTime>,
    /// The numbers Zammad's caller ID would find, in E.164.
    pub numbers: Vec<E164>,
}

/// A Zammad organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Zammad's id of the organization.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Whether it is active.
    pub active: bool,
    /// When Zammad last changed it.
    pub updated_at: Option<OffsetDateTime>,
    /// Numbers in its text attributes (its note, custom phone attributes), in E.164.
    pub numbers: Vec<E164>,
}

/// Reads a page of users (`GET /api/v1/users?page=N&per_page=M`, or `users/search`).
/// A record without an id is refused; anything else missing reads as empty.
pub fn users(body: &[u8], country: &DefaultCountry) -> Result<Vec<User>, ZammadWireError> {
    array_of_objects(&json(body)?, "an array of users")?
        .iter()
        .map(|map| user(map, country))
        .collect()
}

/// Reads a page of organizations (`GET /api/v1/organizations?page=N&per_page=M`).
pub fn organizations(
    body: &[u8],
    country: &DefaultCountry,
) -> Result<Vec<Organization>, ZammadWireError> {
    array_of_objects(&json(body)?, "an array of organizations")?
        .iter()
        .map(|map| organization(map, country))
        .collect()
}

/// Reads one user record.
pub(super) fn user(
    map: &Map<String, Value>,
    country: &DefaultCountry,
) -> Result<User, ZammadWireError> {
    let id = id(map, "id").ok_or_else(|| missing_id("a user with an id"))?;
    let email = text(map, "email", MAX_EMAIL_CHARS);
    let full = [
        text(map, "firstname", MAX_NAME_CHARS),
        text(map, "lastname", MAX_NAME_CHARS),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let name = if full.is_empty() {
        // Zammad makes up a login (`auto-…`) for a user created with a phone only: the
        // phone names them better.
        let login = text(map, "login", MAX_NAME_CHARS).filter(|l| !l.starts_with("auto-"));
        email
            .clone()
            .or(login)
            .or_else(|| text(map, "phone", MAX_NAME_CHARS))
            .unwrap_or_else(|| format!("Zammad user {id}"))
    } else {
        ringside_core::limits::cut(&full, MAX_NAME_CHARS)
            .0
            .to_owned()
    };
    Ok(User {
        id,
        name,
        email,
        organization_id: super::id(map, "organization_id"),
        active: map.get("active").and_then(Value::as_bool).unwrap_or(true),
        updated_at: time(map, "updated_at"),
        numbers: numbers::of_record(map, country),
    })
}

fn organization(
    map: &Map<String, Value>,
    country: &DefaultCountry,
) -> Result<Organization, ZammadWireError> {
    let id = id(map, "id").ok_or_else(|| missing_id("an organization with an id"))?;
    Ok(Organization {
        id,
        name: text(map, "name", MAX_NAME_CHARS)
            .unwrap_or_else(|| format!("Zammad organization {id}")),
        active: map.get("active").and_then(Value::as_bool).unwrap_or(true),
        updated_at: time(map, "updated_at"),
        numbers: numbers::of_record(map, country),
    })
}

fn missing_id(expected: &'static str) -> ZammadWireError {
    ZammadWireError::Shape {
        expected,
        found: "a record without a positive id".into(),
    }
}
