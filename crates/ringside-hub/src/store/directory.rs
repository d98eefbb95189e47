//! The caller directory: contacts, tickets and the numbers that identify callers.
//!
//! Numbers are normalized once, when contacts and tickets are imported; a lookup is an index
//! search on the E.164 string.

use ringside_core::caller::{
    CallerMatch, ContactCard, MatchLevel, TicketSummary, MAX_CONTACTS, MAX_TICKETS,
};
use ringside_core::directory::{ContactRecord, TicketRecord};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Connection, Row, SqliteExecutor};
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

/// Imports contacts in one transaction: a failing record leaves the directory unchanged.
pub async fn import_contacts<E>(
    conn: &mut SqliteConnection,
    records: impl Iterator<Item = Result<ContactRecord, E>>,
) -> Result<Result<ImportCounts, E>, StoreError> {
    let mut counts = ImportCounts::default();
    let mut tx = conn.begin().await?;
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(e) => return Ok(Err(e)),
        };
        counts.numbers += upsert_contact(&mut tx, &record).await?;
        counts.records += 1;
    }
    tx.commit().await?;
    Ok(Ok(counts))
}

/// Imports tickets in one transaction: a failing record leaves the directory unchanged.
pub async fn import_tickets<E>(
    conn: &mut SqliteConnection,
    records: impl Iterator<Item = Result<TicketRecord, E>>,
) -> Result<Result<ImportCounts, E>, StoreError> {
    let mut counts = ImportCounts::default();
    let mut tx = conn.begin().await?;
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(e) => return Ok(Err(e)),
        };
        counts.numbers += upsert_ticket(&mut tx, &record).await?;
        counts.records += 1;
    }
    tx.commit().await?;
    Ok(Ok(counts))
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

async fn upsert_contact(
    conn: &mut SqliteConnection,
    record: &ContactRecord,
) -> Result<u64, StoreError> {
    let email = record.emails.first().map(|e| e.to_lowercase());
    let id: i64 = sqlx::query(
        "INSERT INTO contacts (key, name, organization, email, profile_url, note)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET name = excluded.name, organization = excluded.organization,
           email = excluded.email, profile_url = excluded.profile_url, note = excluded.note
         RETURNING id",
    )
    .bind(contact_key(record))
    .bind(&record.name)
    .bind(&record.organization)
    .bind(&email)
    .bind(&record.profile_url)
    .bind(&record.note)
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    sqlx::query("DELETE FROM caller_numbers WHERE contact_id = ? AND level = 'known'")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for number in &record.numbers {
        sqlx::query("INSERT INTO caller_numbers (e164, level, contact_id) VALUES (?, 'known', ?)")
            .bind(number.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    let numbers: Vec<&str> = record.numbers.iter().map(|n| n.as_str()).collect();
    let link = sqlx::query(
        "UPDATE tickets SET contact_id = ?1 WHERE contact_id IS NULL
           AND (customer_email = ?2 OR customer_e164 IN (SELECT value FROM json_each(?3)))
         RETURNING id",
    )
    .bind(id)
    .bind(&email)
    .bind(serde_json::to_string(&numbers)?)
    .fetch_all(&mut *conn)
    .await?;
    if !link.is_empty() {
        sqlx::query(
            "UPDATE caller_numbers SET contact_id = ?1 WHERE contact_id IS NULL
               AND ticket_id IN (SELECT id FROM tickets WHERE contact_id = ?1)",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(record.numbers.len() as u64)
}

async fn upsert_ticket(
    conn: &mut SqliteConnection,
    record: &TicketRecord,
) -> Result<u64, StoreError> {
    let email = record.customer_email.as_ref().map(|e| e.to_lowercase());
    let phone = record.customer_phone.as_ref().map(|n| n.as_str());
    let contact_id: Option<i64> = sqlx::query(
        "SELECT id FROM contacts WHERE email = ?1
         UNION ALL
         SELECT contact_id FROM caller_numbers WHERE e164 = ?2 AND level = 'known'
         LIMIT 1",
    )
    .bind(&email)
    .bind(phone)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| row.get(0));
    let id: i64 = sqlx::query(
        "INSERT INTO tickets (external_id, title, state, customer_email, customer_e164, url, updated_at, contact_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (external_id) DO UPDATE SET title = excluded.title, state = excluded.state,
           customer_email = excluded.customer_email, customer_e164 = excluded.customer_e164,
           url = excluded.url, updated_at = excluded.updated_at, contact_id = excluded.contact_id
         RETURNING id",
    )
    .bind(&record.id)
    .bind(&record.title)
    .bind(&record.state)
    .bind(&email)
    .bind(phone)
    .bind(&record.url)
    .bind(record.updated_at.map(OffsetDateTime::unix_timestamp))
    .bind(contact_id)
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    sqlx::query("DELETE FROM caller_numbers WHERE ticket_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for number in &record.maybe_numbers {
        sqlx::query(
            "INSERT INTO caller_numbers (e164, level, contact_id, ticket_id) VALUES (?, 'maybe', ?, ?)",
        )
        .bind(number.as_str())
        .bind(contact_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(record.maybe_numbers.len() as u64)
}

/// A candidate before its details are read: a contact, or a ticket with no known contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Contact(i64),
    Ticket(i64),
}

fn ticket_summary(row: &SqliteRow) -> TicketSummary {
    TicketSummary {
        id: row.get("external_id"),
        title: row.get("title"),
        state: row.get("state"),
        updated_at: row
            .get::<Option<i64>, _>("updated_at")
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()),
        url: row.get("url"),
    }
}

const TICKET_COLUMNS: &str = "external_id, title, state, updated_at, url, customer_email";

/// A contact with its newest tickets, read in one statement (each statement is a round trip
/// to the connection's thread): one row per ticket, or one row without a ticket.
async fn contact_card(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<ContactCard>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.id AS id, c.name AS name, c.organization AS organization, c.email AS email,
           c.profile_url AS profile_url, t.external_id AS external_id, t.title AS title,
           t.state AS state, t.updated_at AS updated_at, t.url AS url
         FROM contacts c
         LEFT JOIN (SELECT id AS ticket_id, external_id, title, state, updated_at, url
                    FROM tickets WHERE contact_id = ?1
                    ORDER BY updated_at DESC, id DESC LIMIT ?2) t ON true
         WHERE c.id = ?1
         ORDER BY t.updated_at DESC, t.ticket_id DESC",
    )
    .bind(id)
    .bind(MAX_TICKETS as i64)
    .fetch_all(&mut *conn)
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(ContactCard {
        id: Some(row.get("id")),
        name: row.get("name"),
        organization: row.get("organization"),
        email: row.get("email"),
        profile_url: row.get("profile_url"),
        tickets: rows
            .iter()
            .filter(|row| row.get::<Option<&str>, _>("external_id").is_some())
            .map(ticket_summary)
            .collect(),
    }))
}

async fn ticket_card(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<ContactCard>, StoreError> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let email: Option<String> = row.get("customer_email");
    let ticket = ticket_summary(&row);
    Ok(Some(ContactCard {
        id: None,
        name: email
            .clone()
            .unwrap_or_else(|| format!("Ticket {}", ticket.id)),
        organization: None,
        email,
        profile_url: None,
        tickets: vec![ticket],
    }))
}

async fn lookup_in(
    conn: &mut SqliteConnection,
    e164: &str,
) -> Result<Option<CallerMatch>, StoreError> {
    let rows = sqlx::query(
        "SELECT level, contact_id, ticket_id FROM caller_numbers WHERE e164 = ? ORDER BY id DESC",
    )
    .bind(e164)
    .fetch_all(&mut *conn)
    .await?;
    let level = if rows.iter().any(|r| r.get::<&str, _>("level") == "known") {
        MatchLevel::Known
    } else if rows.is_empty() {
        return Ok(None);
    } else {
        MatchLevel::Maybe
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    for row in &rows {
        if MatchLevel::parse(row.get("level")) != Some(level) {
            continue;
        }
        let candidate = match (
            row.get::<Option<i64>, _>("contact_id"),
            row.get("ticket_id"),
        ) {
            (Some(contact), _) => Candidate::Contact(contact),
            (None, Some(ticket)) => Candidate::Ticket(ticket),
            (None, None) => continue,
        };
        if !candidates.contains(&candidate) {
            candidates.push(candidate);
        }
        if candidates.len() == MAX_CONTACTS {
            break;
        }
    }
    let mut contacts = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let card = match candidate {
            Candidate::Contact(id) => contact_card(conn, id).await?,
            Candidate::Ticket(id) => ticket_card(conn, id).await?,
        };
        contacts.extend(card);
    }
    Ok(Some(CallerMatch {
        number: e164.to_owned(),
        level,
        contacts,
    }))
}

impl Store {
    /// Who has this number: known contacts, or else maybe-matches from ticket text.
    pub async fn lookup(&self, e164: &str) -> Result<Option<CallerMatch>, StoreError> {
        let mut conn = self.pool().acquire().await?;
        lookup_in(&mut conn, e164).await
    }

    /// How many contacts the directory holds.
    pub async fn contact_count(&self) -> Result<i64, StoreError> {
        count(self.pool(), "contacts").await
    }
}

async fn count<'c>(conn: impl SqliteExecutor<'c>, table: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(conn)
        .await?
        .get(0))
}
