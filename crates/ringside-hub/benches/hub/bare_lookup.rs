//! The lookup's and the contact search's baseline: the rows a caller lookup reads (the
//! number's index rows, the contact, its newest tickets), and the rows of the dial field's
//! search, read by the same indexes with prepared statements on one connection held for the
//! whole run (opened as the hub's read connections are), into plain values. What the hub adds
//! to it (the read pool, a blocking thread for the search, building the answer) is the
//! distance the ratio shows.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

/// A read-only connection to a hub's database, held.
pub struct BareDirectory {
    conn: Connection,
}

/// What one bare lookup read: the contacts' names and their tickets' titles.
pub type BareMatch = Vec<(String, Vec<String>)>;

impl BareDirectory {
    /// Opens the database in `data_dir` (the hub's `ringside.sqlite`) for reading.
    pub fn open(data_dir: &Path) -> anyhow::Result<BareDirectory> {
        let conn = Connection::open_with_flags(
            data_dir.join(ringside_hub::store::DATABASE_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the hub's readers: no memory map, plans kept whatever is bound.
        ringside_hub::store::keep_plans(&conn)?;
        Ok(BareDirectory { conn })
    }

    /// The dial field's search for `query` (each word a prefix), ten hits at most: the same
    /// statement and limits as the hub's, inline on the held connection. Returns the hits.
    pub fn search(&self, query: &str) -> anyhow::Result<usize> {
        let words: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(|word| format!("\"{word}\"*"))
            .collect();
        let mut statement = self.conn.prepare_cached(
            "SELECT DISTINCT c.name, c.organization, n.e164 \
             FROM (SELECT rowid FROM contacts_search WHERE contacts_search MATCH ?1 LIMIT ?3) s \
             JOIN contacts c ON c.id = s.rowid \
             JOIN caller_numbers n ON n.contact_id = c.id \
             ORDER BY c.name, n.e164 LIMIT ?2",
        )?;
        let hits = statement
            .query_map(rusqlite::params![words.join(" "), 10, 1000], |row| {
                row.get::<_, String>(0)
            })?
            .count();
        Ok(hits)
    }

    /// The contacts with `e164` as a `known` number, else as a `maybe` one, with their
    /// tickets: the same statements as the hub's lookup, at most 1,000 index rows, 20
    /// contacts and 5 tickets each.
    pub fn lookup(&self, e164: &str) -> anyhow::Result<BareMatch> {
        let mut ids: Vec<i64> = Vec::new();
        for level in ["known", "maybe"] {
            let mut rows = self.conn.prepare_cached(
                "SELECT contact_id, ticket_id FROM caller_numbers \
                 WHERE e164 = ?1 AND level = ?2 ORDER BY id DESC LIMIT ?3",
            )?;
            let mut rows = rows.query(rusqlite::params![e164, level, 1000])?;
            while let Some(row) = rows.next()? {
                if let Some(id) = row.get::<_, Option<i64>>(0)? {
                    if !ids.contains(&id) && ids.len() < 20 {
                        ids.push(id);
                    }
                }
            }
            if !ids.is_empty() {
                break;
            }
        }
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let name: String = self
                .conn
                .prepare_cached(
                    "SELECT id, name, organization, email, profile_url, source, new_ticket_url
                     FROM contacts WHERE id = ?1",
                )?
                .query_row([id], |row| row.get(1))?;
            let titles = self
                .conn
                .prepare_cached(
                    "SELECT external_id, title, state, updated_at, url FROM tickets
                     WHERE contact_id = ?1 ORDER BY updated_at DESC, id DESC LIMIT ?2",
                )?
                .query_map(rusqlite::params![id, 5], |row| row.get(1))?
                .collect::<Result<Vec<String>, _>>()?;
            found.push((name, titles));
        }
        Ok(found)
    }
}
