//! The outbox of events forwarded to Zammad's caller log: appended by the writer in the
//! transaction of the call's change, read by the relay, which deletes an item once Zammad
//! has answered it or marks it failed. One call's items go in id order; only the oldest
//! pending item of a call is ever due, so a call waiting for a retry holds back its own
//! later events and no other call's.

use ringside_core::api::{RelayBacklog, RelayFailure};
use ringside_providers::zammad_relay::RelayEvent;
use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use super::{Store, StoreError};

/// The most failures the backlog lists.
const RECENT_FAILURES: i64 = 20;

/// One event waiting for Zammad.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// Its place in the outbox.
    pub id: i64,
    /// The call id Zammad knows the call by.
    pub call_id: String,
    /// `newCall`, `answer` or `hangup`.
    pub event: String,
    /// The JSON body to post.
    pub body: String,
    /// When the writer queued it.
    pub created_at: OffsetDateTime,
    /// How often it was tried before.
    pub attempts: u32,
    /// Whether a post of it had begun before: Zammad may already have it.
    pub sent_before: bool,
}

/// Queues `events` in the current transaction unless the outbox holds `cap` items; returns
/// how many were dropped because it was full.
pub(crate) fn enqueue(
    conn: &Connection,
    events: &[RelayEvent],
    now: OffsetDateTime,
    cap: u64,
) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let items: i64 = conn
        .prepare_cached("SELECT items FROM zammad_outbox_size")?
        .query_row([], |row| row.get(0))?;
    if items.max(0) as u64 + events.len() as u64 > cap {
        conn.prepare_cached("UPDATE zammad_outbox_size SET dropped = dropped + ?1")?
            .execute([events.len() as i64])?;
        return Ok(events.len());
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO zammad_outbox (call_id, event, body, created_at, next_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?;
    for event in events {
        insert.execute(params![
            event.call_id,
            event.body["event"].as_str().unwrap_or_default(),
            serde_json::to_string(&event.body)?,
            millis(now),
        ])?;
    }
    Ok(0)
}

/// The oldest pending item of each call, if it is due by `now`, oldest first, at most
/// `limit`.
pub(crate) fn due(
    conn: &Connection,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<OutboxItem>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, call_id, event, body, created_at, attempts, sent FROM zammad_outbox o
         WHERE failed = 0 AND next_at <= ?1
           AND id = (SELECT MIN(id) FROM zammad_outbox p WHERE p.call_id = o.call_id AND p.failed = 0)
         ORDER BY id LIMIT ?2",
    )?;
    let rows = statement.query_map(params![millis(now), limit], |row| {
        Ok(OutboxItem {
            id: row.get(0)?,
            call_id: row.get(1)?,
            event: row.get(2)?,
            body: row.get(3)?,
            created_at: from_millis(row.get(4)?),
            attempts: row.get(5)?,
            sent_before: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the next call's oldest pending item is due; `None` when nothing is pending.
pub(crate) fn next_due(conn: &Connection) -> Result<Option<OffsetDateTime>, StoreError> {
    let next: Option<i64> = conn
        .prepare_cached(
            "SELECT MIN(next_at) FROM zammad_outbox o
             WHERE failed = 0
               AND id = (SELECT MIN(id) FROM zammad_outbox p WHERE p.call_id = o.call_id AND p.failed = 0)",
        )?
        .query_row([], |row| row.get(0))?;
    Ok(next.map(from_millis))
}

/// Posts of these items begin: from now on Zammad may have them, whatever becomes of the
/// hub.
pub(crate) fn sending(conn: &Connection, ids: &[i64]) -> Result<(), StoreError> {
    let mut mark = conn.prepare_cached("UPDATE zammad_outbox SET sent = 1 WHERE id = ?1")?;
    for id in ids {
        mark.execute([id])?;
    }
    Ok(())
}

/// Zammad took the item: it leaves the outbox.
pub(crate) fn delivered(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM zammad_outbox WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// The item could not be delivered now: it is tried again at `next_at`.
pub(crate) fn retry_at(
    conn: &Connection,
    id: i64,
    next_at: OffsetDateTime,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE zammad_outbox SET attempts = attempts + 1, next_at = ?2, last_error = ?3,
             attempted_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![id, millis(next_at), error, millis(now)])?;
    Ok(())
}

/// The item will never be delivered; with `whole_call`, neither will the call's later
/// items (Zammad refuses them without the `newCall`).
pub(crate) fn fail(
    conn: &Connection,
    item: &OutboxItem,
    whole_call: bool,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE zammad_outbox SET failed = 1, attempts = attempts + 1, last_error = ?2,
             attempted_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![item.id, error, millis(now)])?;
    if whole_call {
        conn.prepare_cached(
            "UPDATE zammad_outbox SET failed = 1, last_error = ?2, attempted_at = ?3
             WHERE call_id = ?1 AND failed = 0",
        )?
        .execute(params![
            item.call_id,
            format!("not sent: the call's newCall failed ({error})"),
            millis(now)
        ])?;
    }
    Ok(())
}

/// Makes every failed item pending again, due at `now` (the admin fixed what Zammad
/// refused); returns how many.
pub(crate) fn retry_failed(conn: &Connection, now: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE zammad_outbox SET failed = 0, attempts = 0, next_at = ?1, created_at = ?1
             WHERE failed = 1",
        )?
        .execute([millis(now)])?)
}

/// Deletes failed items queued before `cutoff`; returns how many.
pub(crate) fn prune_failed(conn: &Connection, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM zammad_outbox WHERE failed = 1 AND created_at < ?1")?
        .execute([millis(cutoff)])?)
}

/// What the admin sees of the outbox at `now`.
pub(crate) fn backlog(
    conn: &Connection,
    enabled: bool,
    now: OffsetDateTime,
) -> Result<RelayBacklog, StoreError> {
    let (pending, oldest): (i64, Option<i64>) = conn.query_row(
        "SELECT COUNT(*), MIN(created_at) FROM zammad_outbox WHERE failed = 0",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let failed: i64 = conn.query_row(
        "SELECT COUNT(*) FROM zammad_outbox WHERE failed = 1",
        [],
        |row| row.get(0),
    )?;
    let dropped: i64 = conn.query_row("SELECT dropped FROM zammad_outbox_size", [], |row| {
        row.get(0)
    })?;
    let last_error: Option<String> = conn
        .query_row(
            "SELECT last_error FROM zammad_outbox WHERE last_error IS NOT NULL
             ORDER BY attempted_at DESC, id DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let mut statement = conn.prepare(
        "SELECT call_id, event, COALESCE(last_error, '') FROM zammad_outbox WHERE failed = 1
         ORDER BY attempted_at DESC, id DESC LIMIT ?1",
    )?;
    let recent_failures = statement
        .query_map([RECENT_FAILURES], |row| {
            Ok(RelayFailure {
                call_id: row.get(0)?,
                event: row.get(1)?,
                error: row.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(RelayBacklog {
        enabled,
        pending: pending.max(0) as u64,
        failed: failed.max(0) as u64,
        dropped: dropped.max(0) as u64,
        oldest_pending_secs: oldest.map(|at| (millis(now) - at).max(0) as u64 / 1000),
        last_error,
        recent_failures,
    })
}

impl Store {
    /// The oldest pending item of each call that is due by `now`, oldest first, at most
    /// `limit`.
    pub async fn relay_due(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.read(move |conn| due(conn, now, limit)).await
    }

    /// When the next pending item is due; `None` when nothing is pending.
    pub async fn relay_next_due(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        self.read(next_due).await
    }

    /// What the admin sees of the relay's outbox at `now`.
    pub async fn relay_backlog(
        &self,
        enabled: bool,
        now: OffsetDateTime,
    ) -> Result<RelayBacklog, StoreError> {
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let backlog = backlog(&tx, enabled, now);
            tx.finish()?;
            backlog
        })
        .await
    }
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use ringside_core::call::EventKind;
    use serde_json::json;

    use super::*;
    use crate::store::Store;

    fn event(call: &str, kind: &str) -> RelayEvent {
        RelayEvent {
            kind: EventKind::parse(kind).unwrap(),
            call_id: call.into(),
            body: json!({"event": kind, "callId": call}),
        }
    }

    fn ids(items: &[OutboxItem]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|i| (i.call_id.clone(), i.event.clone()))
            .collect()
    }

    #[test]
    fn only_each_calls_oldest_pending_item_is_due_and_the_cap_drops_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, conn) = Store::open(dir.path()).unwrap();
        let t0 = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let queued = [
            event("a", "newCall"),
            event("a", "answer"),
            event("b", "newCall"),
        ];
        assert_eq!(enqueue(&conn, &queued, t0, 4).unwrap(), 0);
        let due_now = due(&conn, t0, 10).unwrap();
        assert_eq!(
            ids(&due_now),
            vec![
                ("a".into(), "newCall".into()),
                ("b".into(), "newCall".into())
            ]
        );
        let later = t0 + time::Duration::seconds(30);
        retry_at(&conn, due_now[0].id, later, "HTTP 503", t0).unwrap();
        assert_eq!(
            ids(&due(&conn, t0, 10).unwrap()),
            vec![("b".into(), "newCall".into())],
            "a's answer waits behind a's newCall; b goes on"
        );
        assert_eq!(next_due(&conn).unwrap(), Some(t0), "b is due");
        assert!(!due(&conn, t0, 10).unwrap()[0].sent_before);
        sending(&conn, &[due_now[1].id]).unwrap();
        assert!(due(&conn, t0, 10).unwrap()[0].sent_before);
        delivered(&conn, due_now[1].id).unwrap();
        assert_eq!(next_due(&conn).unwrap(), Some(later));

        assert_eq!(
            enqueue(&conn, &[event("c", "newCall"), event("c", "hangup")], t0, 3).unwrap(),
            2
        );
        fail(&conn, &due_now[0], true, "Invalid token", t0).unwrap();
        let backlog = backlog(&conn, true, later).unwrap();
        assert_eq!(
            (backlog.pending, backlog.failed, backlog.dropped),
            (0, 2, 2)
        );
        assert_eq!(backlog.recent_failures.len(), 2);
        assert!(backlog.last_error.unwrap().contains("Invalid token"));
        assert_eq!(retry_failed(&conn, later).unwrap(), 2);
        assert_eq!(
            ids(&due(&conn, later, 10).unwrap()),
            vec![("a".into(), "newCall".into())]
        );
        fail(
            &conn,
            &due(&conn, later, 10).unwrap()[0],
            true,
            "Invalid token",
            t0,
        )
        .unwrap();
        assert_eq!(
            prune_failed(&conn, later).unwrap(),
            0,
            "retried: queued anew"
        );
        assert_eq!(
            prune_failed(&conn, later + time::Duration::seconds(1)).unwrap(),
            2
        );
        assert_eq!(
            enqueue(&conn, &[event("c", "newCall")], t0, 1).unwrap(),
            0,
            "room again"
        );
    }
}
