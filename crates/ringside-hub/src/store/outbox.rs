//! The outbox of events forwarded to Zammad's caller log: appended by the writer in the
//! transaction of the call's change, read by the relay, which deletes an item once Zammad
//! has answered it or marks it failed. One call's items go in id order; only the oldest
//! pending item of a call is ever due, so a call waiting for a retry holds back its own
//! later events and no other call's.

use crate::store::Db;
use ringside_core::api::{RelayBacklog, RelayFailure};
use ringside_providers::zammad_relay::RelayEvent;
use rusqlite::{params, OptionalExtension};
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

/// How many items the outbox holds (relay events and ticket jobs), kept by triggers: what
/// the cap is checked against.
pub(crate) fn items(db: &mut Db<'_>) -> Result<i64, StoreError> {
    Ok(match db {
        Db::Sqlite(conn) => conn
            .prepare_cached("SELECT items FROM zammad_outbox_size")?
            .query_row([], |row| row.get(0))?,
        Db::Postgres(pg) => pg
            .query_one("SELECT items FROM zammad_outbox_size", &[])?
            .try_get(0)?,
    })
}

/// Queues `events` in the current transaction unless the outbox holds `cap` items; returns
/// how many were dropped because it was full.
pub(crate) fn enqueue(
    db: &mut Db<'_>,
    events: &[RelayEvent],
    now: OffsetDateTime,
    cap: u64,
) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let items = items(db)?;
    if items.max(0) as u64 + events.len() as u64 > cap {
        let dropped = events.len() as i64;
        match db {
            Db::Sqlite(conn) => {
                conn.prepare_cached("UPDATE zammad_outbox_size SET dropped = dropped + ?1")?
                    .execute([dropped])?;
            }
            Db::Postgres(pg) => {
                pg.execute(
                    "UPDATE zammad_outbox_size SET dropped = dropped + $1",
                    &[&dropped],
                )?;
            }
        }
        return Ok(events.len());
    }
    match db {
        Db::Sqlite(conn) => {
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
        }
        Db::Postgres(pg) => {
            for event in events {
                pg.execute(
                    "INSERT INTO zammad_outbox (call_id, event, body, created_at, next_at)
                     VALUES ($1, $2, $3, $4, $4)",
                    &[
                        &event.call_id,
                        &event.body["event"].as_str().unwrap_or_default(),
                        &serde_json::to_string(&event.body)?,
                        &millis(now),
                    ],
                )?;
            }
        }
    }
    Ok(0)
}

/// The oldest pending item of each call, if it is due by `now`, oldest first, at most
/// `limit`.
pub(crate) fn due(
    db: &mut Db<'_>,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<OutboxItem>, StoreError> {
    match db {
        Db::Sqlite(conn) => {
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
        Db::Postgres(pg) => {
            let rows = pg.query(
                "SELECT id, call_id, event, body, created_at, attempts, sent FROM zammad_outbox o
                 WHERE NOT failed AND next_at <= $1
                   AND id = (SELECT MIN(id) FROM zammad_outbox p WHERE p.call_id = o.call_id AND NOT p.failed)
                 ORDER BY id LIMIT $2",
                &[&millis(now), &limit],
            )?;
            let items = rows.iter().map(|row| {
                Ok(OutboxItem {
                    id: row.try_get(0)?,
                    call_id: row.try_get(1)?,
                    event: row.try_get(2)?,
                    body: row.try_get(3)?,
                    created_at: from_millis(row.try_get(4)?),
                    attempts: u32::try_from(row.try_get::<_, i64>(5)?).unwrap_or(u32::MAX),
                    sent_before: row.try_get(6)?,
                })
            });
            Ok(items.collect::<Result<_, postgres::Error>>()?)
        }
    }
}

/// When the next call's oldest pending item is due; `None` when nothing is pending.
pub(crate) fn next_due(db: &mut Db<'_>) -> Result<Option<OffsetDateTime>, StoreError> {
    let next: Option<i64> = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached(
                "SELECT MIN(next_at) FROM zammad_outbox o
             WHERE failed = 0
               AND id = (SELECT MIN(id) FROM zammad_outbox p WHERE p.call_id = o.call_id AND p.failed = 0)",
            )?
            .query_row([], |row| row.get(0))?,
        Db::Postgres(pg) => pg
            .query_one(
                "SELECT MIN(next_at) FROM zammad_outbox o
                 WHERE NOT failed
                   AND id = (SELECT MIN(id) FROM zammad_outbox p WHERE p.call_id = o.call_id AND NOT p.failed)",
                &[],
            )?
            .try_get(0)?,
    };
    Ok(next.map(from_millis))
}

/// Posts of these items begin: from now on Zammad may have them, whatever becomes of the
/// hub.
pub(crate) fn sending(db: &mut Db<'_>, ids: &[i64]) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => {
            let mut mark =
                conn.prepare_cached("UPDATE zammad_outbox SET sent = 1 WHERE id = ?1")?;
            for id in ids {
                mark.execute([id])?;
            }
        }
        Db::Postgres(pg) => {
            pg.execute(
                "UPDATE zammad_outbox SET sent = true WHERE id = ANY($1)",
                &[&ids],
            )?;
        }
    }
    Ok(())
}

/// Zammad took the item: it leaves the outbox.
pub(crate) fn delivered(db: &mut Db<'_>, id: i64) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => {
            conn.prepare_cached("DELETE FROM zammad_outbox WHERE id = ?1")?
                .execute([id])?;
        }
        Db::Postgres(pg) => {
            pg.execute("DELETE FROM zammad_outbox WHERE id = $1", &[&id])?;
        }
    }
    Ok(())
}

/// The item could not be delivered now: it is tried again at `next_at`.
pub(crate) fn retry_at(
    db: &mut Db<'_>,
    id: i64,
    next_at: OffsetDateTime,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => {
            conn.prepare_cached(
                "UPDATE zammad_outbox SET attempts = attempts + 1, next_at = ?2, last_error = ?3,
             attempted_at = ?4
         WHERE id = ?1",
            )?
            .execute(params![id, millis(next_at), error, millis(now)])?;
        }
        Db::Postgres(pg) => {
            pg.execute(
                "UPDATE zammad_outbox SET attempts = attempts + 1, next_at = $2, last_error = $3,
                     attempted_at = $4
                 WHERE id = $1",
                &[&id, &millis(next_at), &error, &millis(now)],
            )?;
        }
    }
    Ok(())
}

/// The item will never be delivered; with `whole_call`, neither will the call's later
/// items (Zammad refuses them without the `newCall`).
pub(crate) fn fail(
    db: &mut Db<'_>,
    item: &OutboxItem,
    whole_call: bool,
    error: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => {
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
        }
        Db::Postgres(pg) => {
            pg.execute(
                "UPDATE zammad_outbox SET failed = true, attempts = attempts + 1, last_error = $2,
                     attempted_at = $3
                 WHERE id = $1",
                &[&item.id, &error, &millis(now)],
            )?;
            if whole_call {
                pg.execute(
                    "UPDATE zammad_outbox SET failed = true, last_error = $2, attempted_at = $3
                     WHERE call_id = $1 AND NOT failed",
                    &[
                        &item.call_id,
                        &format!("not sent: the call's newCall failed ({error})"),
                        &millis(now),
                    ],
                )?;
            }
        }
    }
    Ok(())
}

/// Makes every failed item pending again, due at `now` (the admin fixed what Zammad
/// refused); returns how many.
pub(crate) fn retry_failed(db: &mut Db<'_>, now: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(match db {
        Db::Sqlite(conn) => conn
            .prepare_cached(
                "UPDATE zammad_outbox SET failed = 0, attempts = 0, next_at = ?1, created_at = ?1
             WHERE failed = 1",
            )?
            .execute([millis(now)])?,
        Db::Postgres(pg) => pg.execute(
            "UPDATE zammad_outbox SET failed = false, attempts = 0, next_at = $1, created_at = $1
             WHERE failed",
            &[&millis(now)],
        )? as usize,
    })
}

/// Deletes failed items queued before `cutoff`; returns how many.
pub(crate) fn prune_failed(db: &mut Db<'_>, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(match db {
        Db::Sqlite(conn) => conn
            .prepare_cached("DELETE FROM zammad_outbox WHERE failed = 1 AND created_at < ?1")?
            .execute([millis(cutoff)])?,
        Db::Postgres(pg) => pg.execute(
            "DELETE FROM zammad_outbox WHERE failed AND created_at < $1",
            &[&millis(cutoff)],
        )? as usize,
    })
}

/// What the admin sees of the outbox at `now`.
pub(crate) fn backlog(
    db: &mut Db<'_>,
    enabled: bool,
    now: OffsetDateTime,
) -> Result<RelayBacklog, StoreError> {
    let (pending, oldest): (i64, Option<i64>) = match db {
        Db::Sqlite(conn) => conn.query_row(
            "SELECT COUNT(*), MIN(created_at) FROM zammad_outbox WHERE failed = 0",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?,
        Db::Postgres(pg) => {
            let row = pg.query_one(
                "SELECT COUNT(*), MIN(created_at) FROM zammad_outbox WHERE NOT failed",
                &[],
            )?;
            (row.try_get(0)?, row.try_get(1)?)
        }
    };
    let failed: i64 = match db {
        Db::Sqlite(conn) => conn.query_row(
            "SELECT COUNT(*) FROM zammad_outbox WHERE failed = 1",
            [],
            |row| row.get(0),
        )?,
        Db::Postgres(pg) => pg
            .query_one("SELECT COUNT(*) FROM zammad_outbox WHERE failed", &[])?
            .try_get(0)?,
    };
    let dropped: i64 = match db {
        Db::Sqlite(conn) => {
            conn.query_row("SELECT dropped FROM zammad_outbox_size", [], |row| {
                row.get(0)
            })?
        }
        Db::Postgres(pg) => pg
            .query_one("SELECT dropped FROM zammad_outbox_size", &[])?
            .try_get(0)?,
    };
    // SQLite sorts a NULL time lowest, PostgreSQL highest: NULLS LAST keeps SQLite's order.
    let last_error: Option<String> = match db {
        Db::Sqlite(conn) => conn
            .query_row(
                "SELECT last_error FROM zammad_outbox WHERE last_error IS NOT NULL
             ORDER BY attempted_at DESC, id DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?,
        Db::Postgres(pg) => pg
            .query_opt(
                "SELECT last_error FROM zammad_outbox WHERE last_error IS NOT NULL
                 ORDER BY attempted_at DESC NULLS LAST, id DESC LIMIT 1",
                &[],
            )?
            .map(|row| row.try_get(0))
            .transpose()?,
    };
    let recent_failures = match db {
        Db::Sqlite(conn) => {
            let mut statement = conn.prepare(
                "SELECT call_id, event, COALESCE(last_error, '') FROM zammad_outbox WHERE failed = 1
         ORDER BY attempted_at DESC, id DESC LIMIT ?1",
            )?;
            let failures = statement
                .query_map([RECENT_FAILURES], |row| {
                    Ok(RelayFailure {
                        call_id: row.get(0)?,
                        event: row.get(1)?,
                        error: row.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            failures
        }
        Db::Postgres(pg) => pg
            .query(
                "SELECT call_id, event, COALESCE(last_error, '') FROM zammad_outbox WHERE failed
                 ORDER BY attempted_at DESC NULLS LAST, id DESC LIMIT $1",
                &[&RECENT_FAILURES],
            )?
            .iter()
            .map(|row| {
                Ok(RelayFailure {
                    call_id: row.try_get(0)?,
                    event: row.try_get(1)?,
                    error: row.try_get(2)?,
                })
            })
            .collect::<Result<_, postgres::Error>>()?,
    };
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
        self.read(move |db| due(db, now, limit)).await
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
        self.read(move |db| db.snapshot(|db| backlog(db, enabled, now)))
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
        assert_eq!(enqueue(&mut Db::Sqlite(&conn), &queued, t0, 4).unwrap(), 0);
        let due_now = due(&mut Db::Sqlite(&conn), t0, 10).unwrap();
        assert_eq!(
            ids(&due_now),
            vec![
                ("a".into(), "newCall".into()),
                ("b".into(), "newCall".into())
            ]
        );
        let later = t0 + time::Duration::seconds(30);
        retry_at(&mut Db::Sqlite(&conn), due_now[0].id, later, "HTTP 503", t0).unwrap();
        assert_eq!(
            ids(&due(&mut Db::Sqlite(&conn), t0, 10).unwrap()),
            vec![("b".into(), "newCall".into())],
            "a's answer waits behind a's newCall; b goes on"
        );
        assert_eq!(
            next_due(&mut Db::Sqlite(&conn)).unwrap(),
            Some(t0),
            "b is due"
        );
        assert!(!due(&mut Db::Sqlite(&conn), t0, 10).unwrap()[0].sent_before);
        sending(&mut Db::Sqlite(&conn), &[due_now[1].id]).unwrap();
        assert!(due(&mut Db::Sqlite(&conn), t0, 10).unwrap()[0].sent_before);
        delivered(&mut Db::Sqlite(&conn), due_now[1].id).unwrap();
        assert_eq!(next_due(&mut Db::Sqlite(&conn)).unwrap(), Some(later));

        assert_eq!(
            enqueue(
                &mut Db::Sqlite(&conn),
                &[event("c", "newCall"), event("c", "hangup")],
                t0,
                3
            )
            .unwrap(),
            2
        );
        fail(
            &mut Db::Sqlite(&conn),
            &due_now[0],
            true,
            "Invalid token",
            t0,
        )
        .unwrap();
        let backlog = backlog(&mut Db::Sqlite(&conn), true, later).unwrap();
        assert_eq!(
            (backlog.pending, backlog.failed, backlog.dropped),
            (0, 2, 2)
        );
        assert_eq!(backlog.recent_failures.len(), 2);
        assert!(backlog.last_error.unwrap().contains("Invalid token"));
        assert_eq!(retry_failed(&mut Db::Sqlite(&conn), later).unwrap(), 2);
        assert_eq!(
            ids(&due(&mut Db::Sqlite(&conn), later, 10).unwrap()),
            vec![("a".into(), "newCall".into())]
        );
        fail(
            &mut Db::Sqlite(&conn),
            &due(&mut Db::Sqlite(&conn), later, 10).unwrap()[0],
            true,
            "Invalid token",
            t0,
        )
        .unwrap();
        assert_eq!(
            prune_failed(&mut Db::Sqlite(&conn), later).unwrap(),
            0,
            "retried: queued anew"
        );
        assert_eq!(
            prune_failed(&mut Db::Sqlite(&conn), later + time::Duration::seconds(1)).unwrap(),
            2
        );
        assert_eq!(
            enqueue(&mut Db::Sqlite(&conn), &[event("c", "newCall")], t0, 1).unwrap(),
            0,
            "room again"
        );
    }
}
