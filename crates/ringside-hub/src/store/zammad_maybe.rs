//! `maybe` numbers from Zammad tickets: the tickets whose first article the sync has read
//! (`zammad_ticket_scans`, each read once, since a ticket's first article never changes),
//! and the `maybe` rows of `caller_numbers` derived from them. A row names the ticket
//! (`zammad_ticket_id`) and the synced contact of the customer who wrote the article; the
//! rows are derived again after each pass, so that a customer synced after their ticket was
//! read, or synced again after being removed, gets their rows.

use crate::store::{Db, PgSession};
use ringside_core::number::E164;
use rusqlite::params;
use time::OffsetDateTime;

use super::StoreError;

/// What the first article of a ticket gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Zammad's id of the ticket.
    pub ticket_id: u64,
    /// When the ticket was created, which decides when it leaves the window.
    pub created_at: OffsetDateTime,
    /// The customer who wrote the first article; `None` when an agent or the system did.
    pub author_id: Option<u64>,
    /// The numbers in that article (none when no customer wrote it).
    pub numbers: Vec<E164>,
}

/// Which of these tickets have not been read yet, in the order given.
pub fn unscanned(db: &mut Db<'_>, tickets: &[u64]) -> Result<Vec<u64>, StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return unscanned_pg(pg, tickets),
    };
    let mut select = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM zammad_ticket_scans WHERE zammad_ticket_id = ?1)",
    )?;
    let mut found = Vec::new();
    for &ticket in tickets {
        let scanned: bool = select.query_row([ticket as i64], |row| row.get(0))?;
        if !scanned {
            found.push(ticket);
        }
    }
    Ok(found)
}

/// [`unscanned`] on PostgreSQL, in one statement: the pass asks about thousands of tickets,
/// and a statement each would be a round trip to the server each.
fn unscanned_pg(pg: &mut PgSession, tickets: &[u64]) -> Result<Vec<u64>, StoreError> {
    let ids: Vec<i64> = tickets.iter().map(|&ticket| ticket as i64).collect();
    let rows = pg.query(
        "SELECT t.id FROM unnest($1::bigint[]) WITH ORDINALITY AS t (id, n)
         WHERE NOT EXISTS (SELECT 1 FROM zammad_ticket_scans s WHERE s.zammad_ticket_id = t.id)
         ORDER BY t.n",
        &[&ids],
    )?;
    rows.iter()
        .map(|row| Ok(row.try_get::<_, i64>(0)? as u64))
        .collect()
}

/// Records what a ticket's first article gave (its `maybe` rows follow at
/// [`derive_rows`]).
pub fn put_scan(db: &mut Db<'_>, scan: &Scan) -> Result<(), StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return put_scan_pg(pg, scan),
    };
    let numbers: Vec<&str> = scan.numbers.iter().map(E164::as_str).collect();
    conn.prepare_cached(
        "INSERT INTO zammad_ticket_scans (zammad_ticket_id, created_at, author_id, numbers)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (zammad_ticket_id) DO UPDATE SET created_at = excluded.created_at,
           author_id = excluded.author_id, numbers = excluded.numbers",
    )?
    .execute(params![
        scan.ticket_id as i64,
        scan.created_at.unix_timestamp(),
        scan.author_id.map(|a| a as i64),
        serde_json::to_string(&numbers)?
    ])?;
    Ok(())
}

/// [`put_scan`] on PostgreSQL.
fn put_scan_pg(pg: &mut PgSession, scan: &Scan) -> Result<(), StoreError> {
    let numbers: Vec<&str> = scan.numbers.iter().map(E164::as_str).collect();
    pg.execute(
        "INSERT INTO zammad_ticket_scans (zammad_ticket_id, created_at, author_id, numbers)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (zammad_ticket_id) DO UPDATE SET created_at = excluded.created_at,
           author_id = excluded.author_id, numbers = excluded.numbers",
        &[
            &(scan.ticket_id as i64),
            &scan.created_at.unix_timestamp(),
            &scan.author_id.map(|a| a as i64),
            &serde_json::to_string(&numbers)?,
        ],
    )?;
    Ok(())
}

/// Forgets the tickets created before `cutoff` (out of the window), and, when `listed` is
/// the complete list of the window's tickets, those not in it (deleted or merged in
/// Zammad); returns how many went.
pub fn remove_stale(
    db: &mut Db<'_>,
    cutoff: OffsetDateTime,
    listed: Option<&[u64]>,
) -> Result<u64, StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return remove_stale_pg(pg, cutoff, listed),
    };
    let mut removed = conn
        .prepare_cached("DELETE FROM zammad_ticket_scans WHERE created_at < ?1")?
        .execute([cutoff.unix_timestamp()])?;
    if let Some(listed) = listed {
        removed += conn
            .prepare_cached(
                "DELETE FROM zammad_ticket_scans
                 WHERE zammad_ticket_id NOT IN (SELECT value FROM json_each(?1))",
            )?
            .execute([serde_json::to_string(listed)?])?;
    }
    Ok(removed as u64)
}

/// [`remove_stale`] on PostgreSQL. `NOT IN` a subquery, which is hashed, and not `<> ALL`
/// of the array, which a generic plan compares with every element for every row.
fn remove_stale_pg(
    pg: &mut PgSession,
    cutoff: OffsetDateTime,
    listed: Option<&[u64]>,
) -> Result<u64, StoreError> {
    let mut removed = pg.execute(
        "DELETE FROM zammad_ticket_scans WHERE created_at < $1",
        &[&cutoff.unix_timestamp()],
    )?;
    if let Some(listed) = listed {
        let ids: Vec<i64> = listed.iter().map(|&ticket| ticket as i64).collect();
        removed += pg.execute(
            "DELETE FROM zammad_ticket_scans
             WHERE zammad_ticket_id NOT IN (SELECT unnest($1::bigint[]))",
            &[&ids],
        )?;
    }
    Ok(removed)
}

/// Makes the `maybe` rows match the tickets read: one row per number of each ticket whose
/// author is a synced contact, older tickets first (so that the newest ticket's row is the
/// newest, as lookups read them).
pub fn derive_rows(db: &mut Db<'_>) -> Result<(), StoreError> {
    let conn = match db {
        Db::Sqlite(conn) => *conn,
        Db::Postgres(pg) => return derive_rows_pg(pg),
    };
    conn.prepare_cached("DELETE FROM caller_numbers WHERE zammad_ticket_id IS NOT NULL")?
        .execute([])?;
    conn.prepare_cached(
        "INSERT INTO caller_numbers (e164, level, contact_id, zammad_ticket_id)
         SELECT n.value, 'maybe', c.id, s.zammad_ticket_id
         FROM zammad_ticket_scans s
         JOIN contacts c ON c.zammad_user_id = s.author_id
         JOIN json_each(s.numbers) n
         ORDER BY s.created_at, s.zammad_ticket_id, n.key",
    )?
    .execute([])?;
    Ok(())
}

/// [`derive_rows`] on PostgreSQL: the ordinality is `json_each`'s key, the number's place
/// in the article.
fn derive_rows_pg(pg: &mut PgSession) -> Result<(), StoreError> {
    pg.execute(
        "DELETE FROM caller_numbers WHERE zammad_ticket_id IS NOT NULL",
        &[],
    )?;
    pg.execute(
        "INSERT INTO caller_numbers (e164, level, contact_id, zammad_ticket_id)
         SELECT n.value, 'maybe', c.id, s.zammad_ticket_id
         FROM zammad_ticket_scans s
         JOIN contacts c ON c.zammad_user_id = s.author_id
         CROSS JOIN LATERAL json_array_elements_text(s.numbers::json)
           WITH ORDINALITY AS n (value, key)
         ORDER BY s.created_at, s.zammad_ticket_id, n.key",
        &[],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use ringside_core::caller::MatchLevel;
    use ringside_providers::zammad::User;

    use super::*;
    use crate::store::{directory, zammad as synced, Store};

    fn rows(conn: &rusqlite::Connection) -> i64 {
        conn.query_row(
            "SELECT count(*) FROM caller_numbers WHERE zammad_ticket_id IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap()
    }

    #[test]
    fn an_author_synced_after_the_ticket_was_read_gets_the_rows_until_it_leaves() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_store, writer) = Store::open(dir.path()).expect("store");
        let created_at = OffsetDateTime::now_utc();
        let number = E164::parse("+49897777777").unwrap();
        put_scan(
            &mut Db::Sqlite(&writer),
            &Scan {
                ticket_id: 7,
                created_at,
                author_id: Some(5),
                numbers: vec![number.clone()],
            },
        )
        .unwrap();
        derive_rows(&mut Db::Sqlite(&writer)).unwrap();
        assert_eq!(rows(&writer), 0, "nobody to name yet");
        assert_eq!(unscanned(&mut Db::Sqlite(&writer), &[7, 8]).unwrap(), [8]);

        let otto = User {
            id: 5,
            name: "Otto Other".into(),
            email: None,
            organization_id: None,
            active: true,
            updated_at: None,
            numbers: Vec::new(),
        };
        let links = synced::UserLinks {
            profile: "https://zammad.example.com/#user/profile/5".into(),
            new_ticket: "https://zammad.example.com/#ticket/create/customer/5".into(),
        };
        synced::put_user(&mut Db::Sqlite(&writer), &otto, &links).unwrap();
        derive_rows(&mut Db::Sqlite(&writer)).unwrap();
        let found = directory::lookup(&mut Db::Sqlite(&writer), number.as_str())
            .unwrap()
            .unwrap();
        assert_eq!(found.level, MatchLevel::Maybe);
        assert_eq!(found.contacts[0].name, "Otto Other");

        let removed = remove_stale(
            &mut Db::Sqlite(&writer),
            created_at + time::Duration::seconds(1),
            None,
        )
        .unwrap();
        assert_eq!(removed, 1);
        derive_rows(&mut Db::Sqlite(&writer)).unwrap();
        assert_eq!(rows(&writer), 0);
        assert!(directory::lookup(&mut Db::Sqlite(&writer), number.as_str())
            .unwrap()
            .is_none());
    }
}
