//! Zammad's users and organizations in the caller directory: contacts whose `source` is
//! `zammad`, keyed by their id in Zammad, with their numbers as `known` numbers; the
//! tickets fetched for them when a call rang, kept for the next call's first popup; and the
//! sync's state (one row of `zammad_sync`).

use crate::store::Db;
use ringside_core::api::{ZammadSyncMode, ZammadSyncState};
use ringside_core::caller::TicketSummary;
use ringside_providers::zammad::{Organization, User};
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::StoreError;

/// The contacts key of a Zammad user: distinct from imported keys (e-mail addresses and
/// `name|number`) and stable across syncs.
fn user_key(id: u64) -> String {
    format!("zammad:user:{id}")
}

fn organization_key(id: u64) -> String {
    format!("zammad:organization:{id}")
}

/// A Zammad user's links into Zammad's web UI, kept with the contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLinks {
    /// The user's profile.
    pub profile: String,
    /// The "new ticket" screen with the user as the customer.
    pub new_ticket: String,
}

/// Writes a user as a contact (its organization's name from the organizations synced),
/// replacing its numbers; returns the contact's id.
pub fn put_user(db: &mut Db<'_>, user: &User, links: &UserLinks) -> Result<i64, StoreError> {
    let organization: Option<String> = match (user.organization_id, &mut *db) {
        (Some(org), Db::Sqlite(conn)) => conn
            .prepare_cached("SELECT name FROM contacts WHERE zammad_organization_id = ?1")?
            .query_row([org as i64], |row| row.get(0))
            .optional()?,
        (Some(org), Db::Postgres(pg)) => pg
            .query_opt(
                "SELECT name FROM contacts WHERE zammad_organization_id = $1",
                &[&(org as i64)],
            )?
            .map(|row| row.try_get(0))
            .transpose()?,
        (None, _) => None,
    };
    let id: i64 = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached(
                "INSERT INTO contacts (key, name, organization, email, profile_url, source,
               zammad_user_id, new_ticket_url)
             VALUES (?1, ?2, ?3, ?4, ?5, 'zammad', ?6, ?7)
             ON CONFLICT (key) DO UPDATE SET name = excluded.name,
               organization = excluded.organization, email = excluded.email,
               profile_url = excluded.profile_url, new_ticket_url = excluded.new_ticket_url
             RETURNING id",
            )?
            .query_row(
                params![
                    user_key(user.id),
                    user.name,
                    organization,
                    user.email.as_ref().map(|e| e.to_lowercase()),
                    links.profile,
                    user.id as i64,
                    links.new_ticket
                ],
                |row| row.get(0),
            )?,
        Db::Postgres(pg) => pg
            .query_one(
                "INSERT INTO contacts (key, name, organization, email, profile_url, source,
                   zammad_user_id, new_ticket_url)
                 VALUES ($1, $2, $3, $4, $5, 'zammad', $6, $7)
                 ON CONFLICT (key) DO UPDATE SET name = excluded.name,
                   organization = excluded.organization, email = excluded.email,
                   profile_url = excluded.profile_url, new_ticket_url = excluded.new_ticket_url
                 RETURNING id",
                &[
                    &user_key(user.id),
                    &user.name,
                    &organization,
                    &user.email.as_ref().map(|e| e.to_lowercase()),
                    &links.profile,
                    &(user.id as i64),
                    &links.new_ticket,
                ],
            )?
            .try_get(0)?,
    };
    replace_numbers(db, id, user.numbers.iter().map(|n| n.as_str()))?;
    Ok(id)
}

/// Writes an organization as a contact, replacing its numbers; returns how many it has.
pub fn put_organization(db: &mut Db<'_>, org: &Organization) -> Result<u64, StoreError> {
    let id: i64 = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached(
                "INSERT INTO contacts (key, name, organization, source, zammad_organization_id)
             VALUES (?1, ?2, ?2, 'zammad', ?3)
             ON CONFLICT (key) DO UPDATE SET name = excluded.name,
               organization = excluded.organization
             RETURNING id",
            )?
            .query_row(
                params![organization_key(org.id), org.name, org.id as i64],
                |row| row.get(0),
            )?,
        Db::Postgres(pg) => pg
            .query_one(
                "INSERT INTO contacts (key, name, organization, source, zammad_organization_id)
                 VALUES ($1, $2, $2, 'zammad', $3)
                 ON CONFLICT (key) DO UPDATE SET name = excluded.name,
                   organization = excluded.organization
                 RETURNING id",
                &[&organization_key(org.id), &org.name, &(org.id as i64)],
            )?
            .try_get(0)?,
    };
    replace_numbers(db, id, org.numbers.iter().map(|n| n.as_str()))
}

fn replace_numbers<'a>(
    db: &mut Db<'_>,
    contact: i64,
    numbers: impl Iterator<Item = &'a str>,
) -> Result<u64, StoreError> {
    match db {
        Db::Sqlite(conn) => {
            conn.prepare_cached(
                "DELETE FROM caller_numbers WHERE contact_id = ?1 AND level = 'known'",
            )?
            .execute([contact])?;
            let mut insert = conn.prepare_cached(
                "INSERT INTO caller_numbers (e164, level, contact_id) VALUES (?1, 'known', ?2)",
            )?;
            let mut count = 0;
            for number in numbers {
                insert.execute(params![number, contact])?;
                count += 1;
            }
            Ok(count)
        }
        Db::Postgres(pg) => {
            pg.execute(
                "DELETE FROM caller_numbers WHERE contact_id = $1 AND level = 'known'",
                &[&contact],
            )?;
            // One statement for all the numbers, inserted (and given their ids) in order.
            let numbers: Vec<&str> = numbers.collect();
            if numbers.is_empty() {
                return Ok(0);
            }
            pg.execute(
                "INSERT INTO caller_numbers (e164, level, contact_id)
                 SELECT e164, 'known', $2 FROM unnest($1::text[]) WITH ORDINALITY AS n (e164, at)
                 ORDER BY at",
                &[&numbers, &contact],
            )
        }
    }
}

/// Removes the Zammad users and organizations a full pass did not see (deleted in Zammad,
/// or merged into another user); returns how many contacts went.
pub fn remove_unseen(
    db: &mut Db<'_>,
    users: &[u64],
    organizations: &[u64],
) -> Result<u64, StoreError> {
    let removed = match db {
        Db::Sqlite(conn) => {
            let users = serde_json::to_string(users)?;
            let organizations = serde_json::to_string(organizations)?;
            conn.execute(
                "DELETE FROM contacts WHERE source = 'zammad' AND (
           (zammad_user_id IS NOT NULL
              AND zammad_user_id NOT IN (SELECT value FROM json_each(?1)))
           OR (zammad_organization_id IS NOT NULL
              AND zammad_organization_id NOT IN (SELECT value FROM json_each(?2))))",
                params![users, organizations],
            )? as u64
        }
        // `NOT IN (SELECT unnest(…))` is a hashed subplan; `<> ALL($1)` would compare each
        // row with the whole list under a generic plan (seconds at 100,000 users).
        Db::Postgres(pg) => {
            let users: Vec<i64> = users.iter().map(|&u| u as i64).collect();
            let organizations: Vec<i64> = organizations.iter().map(|&o| o as i64).collect();
            pg.execute(
                "DELETE FROM contacts WHERE source = 'zammad' AND (
                   (zammad_user_id IS NOT NULL
                      AND zammad_user_id NOT IN (SELECT unnest($1::bigint[])))
                   OR (zammad_organization_id IS NOT NULL
                      AND zammad_organization_id NOT IN (SELECT unnest($2::bigint[]))))",
                &[&users, &organizations],
            )?
        }
    };
    Ok(removed)
}

/// The Zammad users among these contacts, in the order given: each as its contact id and
/// its user id in Zammad. Organizations and imported contacts are left out.
pub fn customers(db: &mut Db<'_>, contacts: &[i64]) -> Result<Vec<(i64, u64)>, StoreError> {
    match db {
        Db::Sqlite(conn) => {
            let mut select = conn.prepare_cached(
                "SELECT zammad_user_id FROM contacts WHERE id = ?1 AND zammad_user_id IS NOT NULL",
            )?;
            let mut found = Vec::new();
            for &contact in contacts {
                let user: Option<i64> = select.query_row([contact], |row| row.get(0)).optional()?;
                if let Some(user) = user.and_then(|u| u64::try_from(u).ok()) {
                    found.push((contact, user));
                }
            }
            Ok(found)
        }
        // One statement for all the contacts, in the order given (repeats included).
        Db::Postgres(pg) => {
            let rows = pg.query(
                "SELECT c.id, c.zammad_user_id
                 FROM unnest($1::bigint[]) WITH ORDINALITY AS given (id, at)
                 JOIN contacts c ON c.id = given.id
                 WHERE c.zammad_user_id IS NOT NULL
                 ORDER BY given.at",
                &[&contacts],
            )?;
            let mut found = Vec::new();
            for row in rows {
                let user: i64 = row.try_get(1)?;
                if let Ok(user) = u64::try_from(user) {
                    found.push((row.try_get(0)?, user));
                }
            }
            Ok(found)
        }
    }
}

/// A ticket fetched from Zammad: its id there (which its link and the cache are keyed by)
/// and what a popup shows (`id` is the ticket number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedTicket {
    /// Zammad's database id of the ticket.
    pub zammad_id: u64,
    /// The ticket as a popup lists it.
    pub summary: TicketSummary,
}

/// Makes `tickets`, just fetched (newest first), the contact's Zammad tickets: those it had
/// go, these are written oldest first, so that tickets changed in the same second are read
/// back newest first (the directory orders by time, then by row). A ticket that moved from
/// another customer moves here; keyed by the ticket number, an imported ticket with the same
/// number becomes Zammad's. False when the contact is gone (a sync pass removed it
/// meanwhile).
pub fn put_tickets(
    db: &mut Db<'_>,
    contact: i64,
    tickets: &[FetchedTicket],
) -> Result<bool, StoreError> {
    let exists: bool = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM contacts WHERE id = ?1)")?
            .query_row([contact], |row| row.get(0))?,
        Db::Postgres(pg) => pg
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM contacts WHERE id = $1)",
                &[&contact],
            )?
            .try_get(0)?,
    };
    if !exists {
        return Ok(false);
    }
    match db {
        Db::Sqlite(conn) => {
            conn.prepare_cached(
                "DELETE FROM tickets WHERE contact_id = ?1 AND zammad_ticket_id IS NOT NULL",
            )?
            .execute([contact])?;
        }
        Db::Postgres(pg) => {
            pg.execute(
                "DELETE FROM tickets WHERE contact_id = $1 AND zammad_ticket_id IS NOT NULL",
                &[&contact],
            )?;
        }
    }
    for ticket in tickets.iter().rev() {
        let summary = &ticket.summary;
        let zammad_id = ticket.zammad_id as i64;
        let updated_at = summary.updated_at.map(OffsetDateTime::unix_timestamp);
        match db {
            Db::Sqlite(conn) => {
                // Zammad never renumbers a ticket; this only guards the unique index.
                conn.prepare_cached(
                    "DELETE FROM tickets WHERE zammad_ticket_id = ?1 AND external_id != ?2",
                )?
                .execute(params![zammad_id, summary.id])?;
                conn.prepare_cached(
                    "INSERT INTO tickets (external_id, title, state, url, updated_at, contact_id,
               zammad_ticket_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (external_id) DO UPDATE SET title = excluded.title,
               state = excluded.state, url = excluded.url, updated_at = excluded.updated_at,
               contact_id = excluded.contact_id, zammad_ticket_id = excluded.zammad_ticket_id",
                )?
                .execute(params![
                    summary.id,
                    summary.title,
                    summary.state,
                    summary.url,
                    updated_at,
                    contact,
                    zammad_id
                ])?;
            }
            Db::Postgres(pg) => {
                // Zammad never renumbers a ticket; this only guards the unique index.
                pg.execute(
                    "DELETE FROM tickets WHERE zammad_ticket_id = $1 AND external_id <> $2",
                    &[&zammad_id, &summary.id],
                )?;
                pg.execute(
                    "INSERT INTO tickets (external_id, title, state, url, updated_at, contact_id,
                       zammad_ticket_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (external_id) DO UPDATE SET title = excluded.title,
                       state = excluded.state, url = excluded.url, updated_at = excluded.updated_at,
                       contact_id = excluded.contact_id, zammad_ticket_id = excluded.zammad_ticket_id",
                    &[
                        &summary.id,
                        &summary.title,
                        &summary.state,
                        &summary.url,
                        &updated_at,
                        &contact,
                        &zammad_id,
                    ],
                )?;
            }
        }
    }
    Ok(true)
}

/// Which pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// All users and organizations.
    Full(ZammadSyncMode),
    /// Users changed since the last pass.
    Incremental,
}

/// Records a pass that succeeded at `at` and clears the last error.
pub fn record_pass(db: &mut Db<'_>, pass: Pass, at: OffsetDateTime) -> Result<(), StoreError> {
    let at = millis(at);
    match (pass, db) {
        (Pass::Full(mode), Db::Sqlite(conn)) => {
            conn.execute(
                "UPDATE zammad_sync SET mode = ?1, last_full_at = ?2, last_error = NULL,
               last_error_at = NULL WHERE id = 1",
                params![mode_name(mode), at],
            )?;
        }
        (Pass::Incremental, Db::Sqlite(conn)) => {
            conn.execute(
                "UPDATE zammad_sync SET last_incremental_at = ?1, last_error = NULL,
               last_error_at = NULL WHERE id = 1",
                [at],
            )?;
        }
        (Pass::Full(mode), Db::Postgres(pg)) => {
            pg.execute(
                "UPDATE zammad_sync SET mode = $1, last_full_at = $2, last_error = NULL,
                   last_error_at = NULL WHERE id = 1",
                &[&mode_name(mode), &at],
            )?;
        }
        (Pass::Incremental, Db::Postgres(pg)) => {
            pg.execute(
                "UPDATE zammad_sync SET last_incremental_at = $1, last_error = NULL,
                   last_error_at = NULL WHERE id = 1",
                &[&at],
            )?;
        }
    }
    Ok(())
}

/// Counts the directory's Zammad users, organizations and their numbers again, after a
/// pass that wrote some. The counts read every Zammad contact's index entries (tens of
/// milliseconds at 100,000 customers), so a pass that wrote none does not count.
pub fn recount(db: &mut Db<'_>) -> Result<(), StoreError> {
    // The same text on both engines.
    const RECOUNT: &str = "UPDATE zammad_sync SET
           users = (SELECT count(*) FROM contacts WHERE zammad_user_id IS NOT NULL),
           organizations = (SELECT count(*) FROM contacts
                              WHERE zammad_organization_id IS NOT NULL),
           numbers = (SELECT count(*) FROM caller_numbers WHERE contact_id IN
                        (SELECT id FROM contacts WHERE zammad_user_id IS NOT NULL
                         UNION ALL
                         SELECT id FROM contacts WHERE zammad_organization_id IS NOT NULL))
         WHERE id = 1";
    match db {
        Db::Sqlite(conn) => {
            conn.execute(RECOUNT, [])?;
        }
        Db::Postgres(pg) => {
            pg.execute(RECOUNT, &[])?;
        }
    }
    Ok(())
}

/// Records what went wrong in a pass that otherwise succeeded (its `maybe` numbers): the
/// words go into `last_error` with no time, since the pass itself did not fail (whoever
/// waits for a pass tells a failure by `last_error_at`). `None` leaves the state as it is.
pub fn record_note(db: &mut Db<'_>, note: Option<&str>) -> Result<(), StoreError> {
    match (note, db) {
        (Some(note), Db::Sqlite(conn)) => {
            conn.execute(
                "UPDATE zammad_sync SET last_error = ?1 WHERE id = 1",
                [note],
            )?;
        }
        (Some(note), Db::Postgres(pg)) => {
            pg.execute(
                "UPDATE zammad_sync SET last_error = $1 WHERE id = 1",
                &[&note],
            )?;
        }
        (None, _) => {}
    }
    Ok(())
}

/// Records why a pass failed.
pub fn record_error(db: &mut Db<'_>, error: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => {
            conn.execute(
                "UPDATE zammad_sync SET last_error = ?1, last_error_at = ?2 WHERE id = 1",
                params![error, millis(at)],
            )?;
        }
        Db::Postgres(pg) => {
            pg.execute(
                "UPDATE zammad_sync SET last_error = $1, last_error_at = $2 WHERE id = 1",
                &[&error, &millis(at)],
            )?;
        }
    }
    Ok(())
}

/// The time of the last pass of either kind, from which an incremental pass searches.
pub fn last_pass_at(db: &mut Db<'_>) -> Result<Option<OffsetDateTime>, StoreError> {
    let at: Option<i64> = match db {
        Db::Sqlite(conn) => conn.query_row(
            "SELECT max(coalesce(last_full_at, 0), coalesce(last_incremental_at, 0))
         FROM zammad_sync WHERE id = 1",
            [],
            |row| row.get(0),
        )?,
        // SQLite's max() of two arguments is PostgreSQL's greatest().
        Db::Postgres(pg) => pg
            .query_one(
                "SELECT greatest(coalesce(last_full_at, 0), coalesce(last_incremental_at, 0))
                 FROM zammad_sync WHERE id = 1",
                &[],
            )?
            .try_get(0)?,
    };
    Ok(at.filter(|at| *at > 0).and_then(from_millis))
}

/// The stored state; `enabled` and `syncing` are the running hub's to fill in.
pub fn state(db: &mut Db<'_>) -> Result<ZammadSyncState, StoreError> {
    let time = |at: Option<i64>| at.and_then(from_millis);
    match db {
        Db::Sqlite(conn) => Ok(conn.query_row(
            "SELECT mode, last_full_at, last_incremental_at, users, organizations, numbers,
           last_error, last_error_at FROM zammad_sync WHERE id = 1",
            [],
            |row| {
                Ok(ZammadSyncState {
                    enabled: false,
                    mode: mode_of(row.get::<_, Option<String>>(0)?.as_deref()),
                    syncing: false,
                    last_full_sync: time(row.get(1)?),
                    last_incremental_sync: time(row.get(2)?),
                    users: row.get(3)?,
                    organizations: row.get(4)?,
                    numbers: row.get(5)?,
                    last_error: row.get(6)?,
                    last_error_at: time(row.get(7)?),
                    connection: Default::default(),
                })
            },
        )?),
        Db::Postgres(pg) => {
            let row = pg.query_one(
                "SELECT mode, last_full_at, last_incremental_at, users, organizations, numbers,
                   last_error, last_error_at FROM zammad_sync WHERE id = 1",
                &[],
            )?;
            // BIGINT counters, never negative (rusqlite would refuse a negative one as u64).
            let count = |i: usize| -> Result<u64, postgres::Error> {
                Ok(u64::try_from(row.try_get::<_, i64>(i)?).unwrap_or(0))
            };
            Ok(ZammadSyncState {
                enabled: false,
                mode: mode_of(row.try_get::<_, Option<&str>>(0)?),
                syncing: false,
                last_full_sync: time(row.try_get(1)?),
                last_incremental_sync: time(row.try_get(2)?),
                users: count(3)?,
                organizations: count(4)?,
                numbers: count(5)?,
                last_error: row.try_get(6)?,
                last_error_at: time(row.try_get(7)?),
                connection: Default::default(),
            })
        }
    }
}

/// Times of passes are kept in milliseconds, so that two passes within a second (one at
/// start, one asked for) are told apart by whoever waits for the second one to end.
fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_millis(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// The mode a stored name stands for; `None` before the first full pass.
fn mode_of(name: Option<&str>) -> Option<ZammadSyncMode> {
    match name {
        Some("incremental") => Some(ZammadSyncMode::Incremental),
        Some("full_passes") => Some(ZammadSyncMode::FullPasses),
        _ => None,
    }
}

fn mode_name(mode: ZammadSyncMode) -> &'static str {
    match mode {
        ZammadSyncMode::Incremental => "incremental",
        ZammadSyncMode::FullPasses => "full_passes",
    }
}
