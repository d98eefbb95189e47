//! The caller directory: contacts, tickets and the numbers that identify callers.
//!
//! Numbers are normalized once, when contacts and tickets are imported; a lookup is an index
//! search on the E.164 string.

use crate::store::{Db, PgSession};
use ringside_core::caller::{
    CallerMatch, ContactCard, ContactSource, MatchLevel, TicketSummary, MAX_CONTACTS, MAX_TICKETS,
};
use ringside_core::directory::{ContactRecord, TicketRecord};
use ringside_core::limits;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use time::OffsetDateTime;

use super::{Store, StoreError};

/// How many records one import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Contacts or tickets written (new or updated).
    pub records: u64,
    /// Caller numbers indexed.
    pub numbers: u64,
}

/// Why an import stopped: a record that could not be read, or the store.
#[derive(Debug, thiserror::Error)]
pub enum ImportError<E> {
    /// A record of the file is wrong; nothing was imported.
    #[error(transparent)]
    Record(E),
    /// The store failed; nothing was imported.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<rusqlite::Error> for ImportError<E> {
    fn from(e: rusqlite::Error) -> Self {
        ImportError::Store(e.into())
    }
}

/// Imports contacts in one transaction: a failing record leaves the directory unchanged.
pub fn import_contacts<E>(
    db: &mut Db<'_>,
    records: impl Iterator<Item = Result<ContactRecord, E>>,
) -> Result<ImportCounts, ImportError<E>> {
    db.in_write(|db| {
        let mut counts = ImportCounts::default();
        for record in records {
            let record = record.map_err(ImportError::Record)?;
            counts.numbers += upsert_contact(db, &record)?;
            counts.records += 1;
        }
        Ok(counts)
    })
}

/// Imports tickets in one transaction: a failing record leaves the directory unchanged.
pub fn import_tickets<E>(
    db: &mut Db<'_>,
    records: impl Iterator<Item = Result<TicketRecord, E>>,
) -> Result<ImportCounts, ImportError<E>> {
    db.in_write(|db| {
        let mut counts = ImportCounts::default();
        for record in records {
            let record = record.map_err(ImportError::Record)?;
            counts.numbers += upsert_ticket(db, &record)?;
            counts.records += 1;
        }
        Ok(counts)
    })
}

/// The key that makes a re-import update a contact instead of adding it again.
fn contact_key(record: &ContactRecord) -> String {
    match record.emails.first() {
        Some(email) => email.to_lowercase(),
        None => {
            let first = record.numbers.first().map(|n| n.as_str()).unwrap_or("");
            format!("{}|{}", record.name, first)
        }
    }
}

fn upsert_contact(db: &mut Db<'_>, record: &ContactRecord) -> Result<u64, StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return upsert_contact_pg(pg, record),
    };
    let email = record.emails.first().map(|e| e.to_lowercase());
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO contacts (key, name, organization, email, profile_url, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (key) DO UPDATE SET name = excluded.name,
               organization = excluded.organization, email = excluded.email,
               profile_url = excluded.profile_url, note = excluded.note
             RETURNING id",
        )?
        .query_row(
            params![
                contact_key(record),
                record.name,
                record.organization,
                email,
                record.profile_url,
                record.note
            ],
            |row| row.get(0),
        )?;
    conn.prepare_cached("DELETE FROM caller_numbers WHERE contact_id = ?1 AND level = 'known'")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO caller_numbers (e164, level, contact_id) VALUES (?1, 'known', ?2)",
    )?;
    for number in &record.numbers {
        insert.execute(params![number.as_str(), id])?;
    }
    let numbers: Vec<&str> = record.numbers.iter().map(|n| n.as_str()).collect();
    let linked = conn
        .prepare_cached(
            "UPDATE tickets SET contact_id = ?1 WHERE contact_id IS NULL
               AND (customer_email = ?2 OR customer_e164 IN (SELECT value FROM json_each(?3)))",
        )?
        .execute(params![id, email, serde_json::to_string(&numbers)?])?;
    if linked > 0 {
        conn.prepare_cached(
            "UPDATE caller_numbers SET contact_id = ?1 WHERE contact_id IS NULL
               AND ticket_id IN (SELECT id FROM tickets WHERE contact_id = ?1)",
        )?
        .execute([id])?;
    }
    Ok(record.numbers.len() as u64)
}

/// [`upsert_contact`] on PostgreSQL.
fn upsert_contact_pg(pg: &mut PgSession, record: &ContactRecord) -> Result<u64, StoreError> {
    let email = record.emails.first().map(|e| e.to_lowercase());
    let id: i64 = pg
        .query_one(
            "INSERT INTO contacts (key, name, organization, email, profile_url, note)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (key) DO UPDATE SET name = excluded.name,
               organization = excluded.organization, email = excluded.email,
               profile_url = excluded.profile_url, note = excluded.note
             RETURNING id",
            &[
                &contact_key(record),
                &record.name,
                &record.organization,
                &email,
                &record.profile_url,
                &record.note,
            ],
        )?
        .try_get(0)?;
    pg.execute(
        "DELETE FROM caller_numbers WHERE contact_id = $1 AND level = 'known'",
        &[&id],
    )?;
    let numbers: Vec<&str> = record.numbers.iter().map(|n| n.as_str()).collect();
    // One statement for all the numbers, given ids in the record's order, as SQLite's
    // insert per number does.
    pg.execute(
        "INSERT INTO caller_numbers (e164, level, contact_id)
         SELECT n.e164, 'known', $2::bigint
         FROM unnest($1::text[]) WITH ORDINALITY AS n (e164, i) ORDER BY n.i",
        &[&numbers, &id],
    )?;
    let linked = pg.execute(
        "UPDATE tickets SET contact_id = $1 WHERE contact_id IS NULL
           AND (customer_email = $2 OR customer_e164 = ANY($3))",
        &[&id, &email, &numbers],
    )?;
    if linked > 0 {
        pg.execute(
            "UPDATE caller_numbers SET contact_id = $1 WHERE contact_id IS NULL
               AND ticket_id IN (SELECT id FROM tickets WHERE contact_id = $1)",
            &[&id],
        )?;
    }
    Ok(record.numbers.len() as u64)
}

fn upsert_ticket(db: &mut Db<'_>, record: &TicketRecord) -> Result<u64, StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return upsert_ticket_pg(pg, record),
    };
    let email = record.customer_email.as_ref().map(|e| e.to_lowercase());
    let phone = record.customer_phone.as_ref().map(|n| n.as_str());
    let contact_id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM contacts WHERE email = ?1
             UNION ALL
             SELECT contact_id FROM caller_numbers WHERE e164 = ?2 AND level = 'known'
             LIMIT 1",
        )?
        .query_row(params![email, phone], |row| row.get(0))
        .optional()?;
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO tickets (external_id, title, state, customer_email, customer_e164, url,
               updated_at, contact_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (external_id) DO UPDATE SET title = excluded.title,
               state = excluded.state, customer_email = excluded.customer_email,
               customer_e164 = excluded.customer_e164, url = excluded.url,
               updated_at = excluded.updated_at, contact_id = excluded.contact_id
             RETURNING id",
        )?
        .query_row(
            params![
                record.id,
                record.title,
                record.state,
                email,
                phone,
                record.url,
                record.updated_at.map(OffsetDateTime::unix_timestamp),
                contact_id
            ],
            |row| row.get(0),
        )?;
    conn.prepare_cached("DELETE FROM caller_numbers WHERE ticket_id = ?1")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO caller_numbers (e164, level, contact_id, ticket_id) VALUES (?1, 'maybe', ?2, ?3)",
    )?;
    for number in &record.maybe_numbers {
        insert.execute(params![number.as_str(), contact_id, id])?;
    }
    Ok(record.maybe_numbers.len() as u64)
}

/// [`upsert_ticket`] on PostgreSQL.
fn upsert_ticket_pg(pg: &mut PgSession, record: &TicketRecord) -> Result<u64, StoreError> {
    let email = record.customer_email.as_ref().map(|e| e.to_lowercase());
    let phone = record.customer_phone.as_ref().map(|n| n.as_str());
    // The contact SQLite's union finds: the first by id of each part, as it reads them from
    // its indexes (which end with the row id); a known number of no contact gives none.
    let contact_id: Option<i64> = pg
        .query_one(
            "SELECT COALESCE(
               (SELECT id FROM contacts WHERE email = $1 ORDER BY id LIMIT 1),
               (SELECT contact_id FROM caller_numbers WHERE e164 = $2 AND level = 'known'
                ORDER BY id LIMIT 1))",
            &[&email, &phone],
        )?
        .try_get(0)?;
    let id: i64 = pg
        .query_one(
            "INSERT INTO tickets (external_id, title, state, customer_email, customer_e164, url,
               updated_at, contact_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (external_id) DO UPDATE SET title = excluded.title,
               state = excluded.state, customer_email = excluded.customer_email,
               customer_e164 = excluded.customer_e164, url = excluded.url,
               updated_at = excluded.updated_at, contact_id = excluded.contact_id
             RETURNING id",
            &[
                &record.id,
                &record.title,
                &record.state,
                &email,
                &phone,
                &record.url,
                &record.updated_at.map(OffsetDateTime::unix_timestamp),
                &contact_id,
            ],
        )?
        .try_get(0)?;
    pg.execute("DELETE FROM caller_numbers WHERE ticket_id = $1", &[&id])?;
    let numbers: Vec<&str> = record.maybe_numbers.iter().map(|n| n.as_str()).collect();
    pg.execute(
        "INSERT INTO caller_numbers (e164, level, contact_id, ticket_id)
         SELECT n.e164, 'maybe', $2::bigint, $3::bigint
         FROM unnest($1::text[]) WITH ORDINALITY AS n (e164, i) ORDER BY n.i",
        &[&numbers, &contact_id, &id],
    )?;
    Ok(record.maybe_numbers.len() as u64)
}

/// A candidate before its details are read: a contact, or a ticket with no known contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Contact(i64),
    Ticket(i64),
}

/// Reads a ticket summary from columns `first..first + 5` of a row:
/// external_id, title, state, updated_at, url. A time that cannot be written as RFC 3339
/// (stored before imports checked it) reads as none, so that it can never fail a lookup.
fn ticket_summary(row: &Row, first: usize) -> rusqlite::Result<TicketSummary> {
    Ok(TicketSummary {
        id: row.get(first)?,
        title: row.get(first + 1)?,
        state: row.get(first + 2)?,
        updated_at: row
            .get::<_, Option<i64>>(first + 3)?
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .filter(|at| limits::time_in_range(*at)),
        url: row.get(first + 4)?,
    })
}

/// [`ticket_summary`] from a PostgreSQL row.
fn ticket_summary_pg(row: &postgres::Row, first: usize) -> Result<TicketSummary, postgres::Error> {
    Ok(TicketSummary {
        id: row.try_get(first)?,
        title: row.try_get(first + 1)?,
        state: row.try_get(first + 2)?,
        updated_at: row
            .try_get::<_, Option<i64>>(first + 3)?
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .filter(|at| limits::time_in_range(*at)),
        url: row.try_get(first + 4)?,
    })
}

/// A contact with its newest tickets.
fn contact_card(db: &mut Db<'_>, id: i64) -> Result<Option<ContactCard>, StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return contact_card_pg(pg, id),
    };
    let Some(mut card) = conn
        .prepare_cached(
            "SELECT id, name, organization, email, profile_url, source, new_ticket_url
             FROM contacts WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok(ContactCard {
                id: Some(row.get(0)?),
                name: row.get(1)?,
                organization: row.get(2)?,
                email: row.get(3)?,
                profile_url: row.get(4)?,
                new_ticket_url: row.get(6)?,
                source: match row.get_ref(5)?.as_str()? {
                    "zammad" => ContactSource::Zammad,
                    _ => ContactSource::Import,
                },
                tickets: Vec::new(),
            })
        })
        .optional()?
    else {
        return Ok(None);
    };
    let mut tickets = conn.prepare_cached(
        "SELECT external_id, title, state, updated_at, url FROM tickets WHERE contact_id = ?1
         ORDER BY updated_at DESC, id DESC LIMIT ?2",
    )?;
    card.tickets = tickets
        .query_map(params![id, MAX_TICKETS as i64], |row| {
            ticket_summary(row, 0)
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(card))
}

/// [`contact_card`] on PostgreSQL.
fn contact_card_pg(pg: &mut PgSession, id: i64) -> Result<Option<ContactCard>, StoreError> {
    let Some(row) = pg.query_opt(
        "SELECT id, name, organization, email, profile_url, source, new_ticket_url
         FROM contacts WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let mut card = ContactCard {
        id: Some(row.try_get(0)?),
        name: row.try_get(1)?,
        organization: row.try_get(2)?,
        email: row.try_get(3)?,
        profile_url: row.try_get(4)?,
        new_ticket_url: row.try_get(6)?,
        source: match row.try_get::<_, &str>(5)? {
            "zammad" => ContactSource::Zammad,
            _ => ContactSource::Import,
        },
        tickets: Vec::new(),
    };
    // SQLite sorts a missing time lowest, so last when newest come first.
    card.tickets = pg
        .query(
            "SELECT external_id, title, state, updated_at, url FROM tickets WHERE contact_id = $1
             ORDER BY updated_at DESC NULLS LAST, id DESC LIMIT $2",
            &[&id, &(MAX_TICKETS as i64)],
        )?
        .iter()
        .map(|row| ticket_summary_pg(row, 0))
        .collect::<Result<_, _>>()?;
    Ok(Some(card))
}

/// A candidate known only from a ticket: the ticket's customer, with that ticket.
fn ticket_card(db: &mut Db<'_>, id: i64) -> Result<Option<ContactCard>, StoreError> {
    let found = match db {
        Db::Sqlite(conn) => ticket_row(conn, id)?,
        Db::Postgres(pg) => ticket_row_pg(pg, id)?,
    };
    Ok(found.map(|(email, ticket)| ContactCard {
        id: None,
        name: email
            .clone()
            .unwrap_or_else(|| format!("Ticket {}", ticket.id)),
        organization: None,
        email,
        profile_url: None,
        new_ticket_url: None,
        source: ContactSource::Import,
        tickets: vec![ticket],
    }))
}

/// The customer's address and the summary of a ticket, on SQLite.
fn ticket_row(
    conn: &rusqlite::Connection,
    id: i64,
) -> Result<Option<(Option<String>, TicketSummary)>, StoreError> {
    let found = conn
        .prepare_cached(
            "SELECT customer_email, external_id, title, state, updated_at, url
             FROM tickets WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok((row.get::<_, Option<String>>(0)?, ticket_summary(row, 1)?))
        })
        .optional()?;
    Ok(found)
}

/// [`ticket_row`] on PostgreSQL.
fn ticket_row_pg(
    pg: &mut PgSession,
    id: i64,
) -> Result<Option<(Option<String>, TicketSummary)>, StoreError> {
    let Some(row) = pg.query_opt(
        "SELECT customer_email, external_id, title, state, updated_at, url
         FROM tickets WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    Ok(Some((row.try_get(0)?, ticket_summary_pg(&row, 1)?)))
}

/// Who has this number: known contacts, or else maybe-matches from ticket text.
pub(crate) fn lookup(db: &mut Db<'_>, e164: &str) -> Result<Option<CallerMatch>, StoreError> {
    let mut found = None;
    for level in [MatchLevel::Known, MatchLevel::Maybe] {
        let candidates = candidates(db, e164, level)?;
        if !candidates.is_empty() {
            found = Some((level, candidates));
            break;
        }
    }
    let Some((level, candidates)) = found else {
        return Ok(None);
    };
    let mut contacts = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let card = match candidate {
            Candidate::Contact(id) => contact_card(db, id)?,
            Candidate::Ticket(id) => ticket_card(db, id)?,
        };
        contacts.extend(card);
    }
    Ok(Some(CallerMatch {
        number: e164.to_owned(),
        level,
        contacts,
    }))
}

/// The most index rows of one level of a number a lookup reads: a switchboard number that
/// thousands of tickets mention costs no more than this, and rows naming one contact twice
/// still leave room for [`MAX_CONTACTS`] of them.
const LOOKUP_ROWS: i64 = 1_000;

/// The contacts and tickets with `e164` at `level`, newest first, distinct, at most
/// [`MAX_CONTACTS`], from at most [`LOOKUP_ROWS`] rows.
const CANDIDATES_SQL: &str = "SELECT contact_id, ticket_id FROM caller_numbers \
     WHERE e164 = ?1 AND level = ?2 ORDER BY id DESC LIMIT ?3";

fn candidates(
    db: &mut Db<'_>,
    e164: &str,
    level: MatchLevel,
) -> Result<Vec<Candidate>, StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return candidates_pg(pg, e164, level),
    };
    let mut statement = conn.prepare_cached(CANDIDATES_SQL)?;
    let mut rows = statement.query(params![e164, level.as_str(), LOOKUP_ROWS])?;
    let mut candidates: Vec<Candidate> = Vec::new();
    while let Some(row) = rows.next()? {
        if add_candidate(&mut candidates, row.get(0)?, row.get(1)?) {
            break;
        }
    }
    Ok(candidates)
}

/// Adds the candidate of a `caller_numbers` row (its contact, else its ticket) unless it is
/// there; true once there are [`MAX_CONTACTS`].
fn add_candidate(
    candidates: &mut Vec<Candidate>,
    contact: Option<i64>,
    ticket: Option<i64>,
) -> bool {
    let candidate = match (contact, ticket) {
        (Some(contact), _) => Candidate::Contact(contact),
        (None, Some(ticket)) => Candidate::Ticket(ticket),
        (None, None) => return false,
    };
    if !candidates.contains(&candidate) {
        candidates.push(candidate);
    }
    candidates.len() == MAX_CONTACTS
}

/// [`candidates`] on PostgreSQL, through the same index, read backwards.
fn candidates_pg(
    pg: &mut PgSession,
    e164: &str,
    level: MatchLevel,
) -> Result<Vec<Candidate>, StoreError> {
    let rows = pg.query(
        "SELECT contact_id, ticket_id FROM caller_numbers \
         WHERE e164 = $1 AND level = $2 ORDER BY id DESC LIMIT $3",
        &[&e164, &level.as_str(), &LOOKUP_ROWS],
    )?;
    let mut candidates: Vec<Candidate> = Vec::new();
    for row in &rows {
        if add_candidate(&mut candidates, row.try_get(0)?, row.try_get(1)?) {
            break;
        }
    }
    Ok(candidates)
}

/// The full-text query for `query`: every word of it (runs of letters and digits) as a
/// prefix of a word of the name or organization; `None` when it has no word.
fn prefix_query(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{word}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// [`prefix_query`] as a PostgreSQL `tsquery`: `'word1':* & 'word2':*`. A word holds no
/// quote, backslash or operator, so it needs no escaping.
fn prefix_tsquery(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| format!("'{word}':*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

/// The most matches of a search that are sorted by name: beyond them, a search that a large
/// part of the directory matches would sort all of it for ten suggestions.
const SEARCH_CANDIDATES: u32 = 1000;

/// The search: contacts matching the full-text query `?1` (at most [`SEARCH_CANDIDATES`] of
/// them, by id), with their numbers, by name; `?2` hits.
const SEARCH_SQL: &str = "SELECT DISTINCT c.name, c.organization, n.e164 \
     FROM (SELECT rowid FROM contacts_search WHERE contacts_search MATCH ?1 LIMIT ?3) s \
     JOIN contacts c ON c.id = s.rowid \
     JOIN caller_numbers n ON n.contact_id = c.id \
     ORDER BY c.name, n.e164 LIMIT ?2";

/// Contacts with a word of their name or organization starting with each word of `query`,
/// with each of their numbers, through the full-text index `contacts_search`. When more than
/// [`SEARCH_CANDIDATES`] contacts match, the hits come from the first of them by id.
fn search(
    db: &mut Db<'_>,
    query: &str,
    limit: u32,
) -> Result<Vec<(String, Option<String>, String)>, StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return search_pg(pg, query, limit),
    };
    let Some(matching) = prefix_query(query) else {
        return Ok(Vec::new());
    };
    let mut statement = conn.prepare_cached(SEARCH_SQL)?;
    let rows = statement.query_map(params![matching, limit, SEARCH_CANDIDATES], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// [`search`] on PostgreSQL, through the schema's GIN index `contacts_search` on
/// `contacts_search_words(name, organization)` (the same words as FTS5's: runs of letters
/// and digits, lower-cased, without accents). The first [`SEARCH_CANDIDATES`] matches by id,
/// as FTS5 gives its matches in row id order; names and numbers in SQLite's byte order
/// (`COLLATE "C"`), not the database's collation.
fn search_pg(
    pg: &mut PgSession,
    query: &str,
    limit: u32,
) -> Result<Vec<(String, Option<String>, String)>, StoreError> {
    let Some(matching) = prefix_tsquery(query) else {
        return Ok(Vec::new());
    };
    let rows = pg.query(
        r#"SELECT DISTINCT c.name COLLATE "C" AS name, c.organization,
             n.e164 COLLATE "C" AS e164
           FROM (SELECT id, name, organization FROM contacts
                 WHERE contacts_search_words(name, organization)
                   @@ to_tsquery('ringside_search', $1)
                 ORDER BY id LIMIT $3) c
           JOIN caller_numbers n ON n.contact_id = c.id
           ORDER BY 1, 3 LIMIT $2"#,
        &[&matching, &i64::from(limit), &i64::from(SEARCH_CANDIDATES)],
    )?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect()
}

impl Store {
    /// Contacts by word prefix of name or organization (case- and accent-insensitive), each
    /// with one of its numbers, alphabetically: the dial field's suggestions. A query matching
    /// many contacts sorts them all, so it runs on a blocking thread.
    pub async fn search_contacts(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Vec<(String, Option<String>, String)>, StoreError> {
        let query = query.to_owned();
        self.read(move |db| search(db, &query, limit)).await
    }

    /// Who has this number: known contacts, or else maybe-matches from ticket text.
    pub fn lookup(&self, e164: &str) -> Result<Option<CallerMatch>, StoreError> {
        self.read_inline(|db| lookup(db, e164))
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use ringside_core::number::E164;

    use super::*;

    fn contact(name: &str, organization: Option<&str>, number: &str) -> ContactRecord {
        ContactRecord {
            name: name.to_owned(),
            organization: organization.map(str::to_owned),
            emails: vec![format!(
                "{}@example.com",
                name.replace(' ', ".").to_lowercase()
            )],
            phones: vec![number.to_owned()],
            note: None,
            profile_url: None,
            numbers: vec![E164::parse(number).expect("E.164")],
            warnings: Vec::new(),
        }
    }

    fn store_with(records: Vec<ContactRecord>) -> (tempfile::TempDir, Store, rusqlite::Connection) {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, writer) = Store::open(dir.path()).expect("store");
        import_contacts(
            &mut Db::Sqlite(&writer),
            records.into_iter().map(Ok::<_, Infallible>),
        )
        .expect("import");
        (dir, store, writer)
    }

    #[test]
    fn a_lookup_is_planned_once_whatever_number_it_reads() {
        let (_dir, store, _writer) = store_with(vec![contact("Anna", None, "+4930609854180")]);
        store
            .read_inline(|db| {
                for number in ["+4930609854180", "+4930609854181", "+4930609854180"] {
                    lookup(db, number)?;
                }
                let replanned = db
                    .sqlite()?
                    .prepare_cached(CANDIDATES_SQL)?
                    .get_status(rusqlite::StatementStatus::RePrepare);
                // `caller_numbers` has a partial index: without the planner's stability
                // guarantee, every new number bound would plan the statement again.
                assert_eq!(replanned, 0, "the candidates' statement was planned again");
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn an_import_waits_for_the_running_hubs_write_instead_of_failing() {
        let (dir, _store, _writer) = store_with(vec![]);
        let (_other_store, hub) = Store::open(dir.path()).expect("second connection");
        hub.execute_batch("BEGIN IMMEDIATE")
            .expect("the hub writes");
        let (started, starting) = std::sync::mpsc::channel();
        let path = dir.path().to_owned();
        let import = std::thread::spawn(move || {
            let (_store, writer) = Store::open(&path).expect("store");
            started.send(()).expect("main thread waits");
            import_contacts(
                &mut Db::Sqlite(&writer),
                std::iter::once(Ok::<_, Infallible>(contact(
                    "Carla",
                    None,
                    "+4930609854180",
                ))),
            )
        });
        starting.recv().expect("import started");
        // Let the import meet the lock; it must wait for the hub's commit, not give up.
        std::thread::sleep(std::time::Duration::from_millis(200));
        hub.execute_batch("COMMIT").expect("the hub commits");
        let counts = import
            .join()
            .expect("import thread")
            .expect("import waited");
        assert_eq!(counts.records, 1);
    }

    #[test]
    fn a_lookup_reads_one_level_of_a_number_by_the_index() {
        let (_dir, store, _writer) =
            store_with(vec![contact("Carla Customer", None, "+4930609854180")]);
        let plan: Vec<String> = store
            .read_inline(|db| {
                let mut explain = db
                    .sqlite()?
                    .prepare(&format!("EXPLAIN QUERY PLAN {CANDIDATES_SQL}"))?;
                let rows = explain
                    .query_map(params!["+4930609854180", "known", LOOKUP_ROWS], |row| {
                        row.get(3)
                    })?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            })
            .expect("plan");
        assert_eq!(
            plan,
            ["SEARCH caller_numbers USING COVERING INDEX caller_numbers_e164 (e164=? AND level=?)"]
        );
    }

    #[test]
    fn a_known_contact_behind_thousands_of_maybe_rows_is_still_known() {
        let (_dir, store, writer) =
            store_with(vec![contact("Carla Customer", None, "+4930609854180")]);
        let number = E164::parse("+4930609854180")
            .expect("E.164")
            .as_str()
            .to_owned();
        writer
            .execute_batch(&format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) \
                 INSERT INTO caller_numbers (e164, level, contact_id) \
                 SELECT '{number}', 'maybe', (SELECT id FROM contacts) FROM n"
            ))
            .expect("maybe rows");
        let found = store.lookup(&number).expect("lookup").expect("a match");
        assert_eq!(found.level, MatchLevel::Known);
        assert_eq!(found.contacts.len(), 1);
        assert_eq!(found.contacts[0].name, "Carla Customer");
    }

    fn names(store: &Store, query: &str) -> Vec<String> {
        store
            .read_inline(|db| search(db, query, 50))
            .expect("search")
            .into_iter()
            .map(|(name, _, _)| name)
            .collect()
    }

    #[test]
    fn search_reads_an_index_not_the_contacts_table() {
        let (_dir, store, _writer) =
            store_with(vec![contact("Carla Customer", None, "+4930609854180")]);
        let plan: Vec<String> = store
            .read_inline(|db| {
                let mut explain = db
                    .sqlite()?
                    .prepare(&format!("EXPLAIN QUERY PLAN {SEARCH_SQL}"))?;
                let rows = explain.query_map(params!["\"car\"*", 10, 1000], |row| row.get(3))?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            })
            .expect("plan");
        assert!(
            plan.iter().any(|step| step.contains("VIRTUAL TABLE INDEX")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH c USING INTEGER PRIMARY KEY")),
            "{plan:?}"
        );
    }

    #[test]
    fn search_finds_word_prefixes_of_name_or_organization() {
        let (_dir, store, _writer) = store_with(vec![
            contact("Carla Customer", Some("Acme GmbH"), "+4930609854180"),
            contact("Dieter Müller", Some("Zweirad KG"), "+491712223334"),
            contact("Anna Andersen", None, "+4940555666777"),
        ]);
        assert_eq!(names(&store, "acme"), vec!["Carla Customer"]);
        assert_eq!(names(&store, "CUST"), vec!["Carla Customer"]);
        assert_eq!(names(&store, "muell"), Vec::<String>::new());
        assert_eq!(names(&store, "MÜLL"), vec!["Dieter Müller"]);
        assert_eq!(
            names(&store, "mull"),
            vec!["Dieter Müller"],
            "accents aside"
        );
        assert_eq!(names(&store, "dieter zwei"), vec!["Dieter Müller"]);
        assert_eq!(names(&store, "an"), vec!["Anna Andersen"]);
        assert_eq!(names(&store, "nna"), Vec::<String>::new(), "prefixes only");
        assert_eq!(names(&store, "%\"*"), Vec::<String>::new());
    }

    #[test]
    fn a_search_most_contacts_match_answers_from_a_bounded_set_by_name() {
        let many = SEARCH_CANDIDATES as usize + 100;
        let records = (0..many)
            .rev()
            .map(|n| contact(&format!("Anna {n:04}"), None, &format!("+49301000{n:04}")))
            .collect();
        let (_dir, store, _writer) = store_with(records);
        let hits = store
            .read_inline(|db| search(db, "ann", 10))
            .expect("search");
        let names: Vec<&str> = hits.iter().map(|(name, _, _)| name.as_str()).collect();
        assert_eq!(names.len(), 10);
        assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "{names:?}");
    }

    #[test]
    fn a_reimported_contact_is_found_by_its_new_name_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, writer) = Store::open(dir.path()).expect("store");
        let mut record = contact("Carla Customer", Some("Acme GmbH"), "+4930609854180");
        import_contacts(
            &mut Db::Sqlite(&writer),
            [Ok::<_, Infallible>(record.clone())].into_iter(),
        )
        .expect("import");
        record.name = "Carla Client".into();
        record.organization = None;
        import_contacts(
            &mut Db::Sqlite(&writer),
            [Ok::<_, Infallible>(record)].into_iter(),
        )
        .expect("import");
        assert_eq!(names(&store, "client"), vec!["Carla Client"]);
        assert_eq!(names(&store, "customer"), Vec::<String>::new());
        assert_eq!(names(&store, "acme"), Vec::<String>::new());
    }

    #[test]
    fn contacts_of_an_older_database_are_indexed_when_it_is_opened() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let (_store, writer) = Store::open(dir.path()).expect("store");
            import_contacts(
                &mut Db::Sqlite(&writer),
                [Ok::<_, Infallible>(contact(
                    "Carla Customer",
                    None,
                    "+4930609854180",
                ))]
                .into_iter(),
            )
            .expect("import");
            // Back to the schema before the search index (and before the contacts'
            // sources, links, the tickets fetched from Zammad and those read for maybe
            // numbers, which came later).
            writer
                .execute_batch(
                    "DROP INDEX caller_numbers_zammad_ticket;
                     ALTER TABLE caller_numbers DROP COLUMN zammad_ticket_id;
                     DROP TABLE zammad_ticket_scans;
                     DROP INDEX tickets_zammad; ALTER TABLE tickets DROP COLUMN zammad_ticket_id;
                     DROP INDEX contacts_zammad_user; DROP INDEX contacts_zammad_organization;
                     ALTER TABLE contacts DROP COLUMN source;
                     ALTER TABLE contacts DROP COLUMN zammad_user_id;
                     ALTER TABLE contacts DROP COLUMN zammad_organization_id;
                     ALTER TABLE contacts DROP COLUMN new_ticket_url;
                     DROP TABLE zammad_sync;
                     DROP TABLE contacts_search; DROP TRIGGER IF EXISTS contacts_search_insert;
                     DROP TRIGGER IF EXISTS contacts_search_delete;
                     DROP TRIGGER IF EXISTS contacts_search_update;
                     UPDATE meta SET value = '4' WHERE key = 'schema_version';",
                )
                .expect("downgrade");
        }
        let (store, _writer) = Store::open(dir.path()).expect("store");
        assert_eq!(names(&store, "carla"), vec!["Carla Customer"]);
    }
}
