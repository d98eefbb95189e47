//! The durable event log that stream clients resume from, and its epoch: the name of one
//! history of seqs, kept in the database so that every reader sees the epoch and the events
//! of the same transaction.

use crate::store::Db;
use ringside_core::stream::{EventBody, StreamEvent};
use rusqlite::params;
use time::OffsetDateTime;

use super::{Store, StoreError};

/// The epoch the log is in.
pub(crate) fn epoch(db: &mut Db<'_>) -> Result<String, StoreError> {
    match db {
        Db::Sqlite(conn) => Ok(conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'epoch'")?
            .query_row([], |row| row.get(0))?),
        Db::Postgres(pg) => Ok(pg
            .query_one("SELECT value FROM meta WHERE key = 'epoch'", &[])?
            .try_get(0)?),
    }
}

/// Starts a new epoch if the log is still in `from`, in the current transaction; returns the
/// epoch the log is in now. Every position of the old epoch becomes unknown, so each client
/// gets a snapshot.
pub(crate) fn rotate_epoch(db: &mut Db<'_>, from: &str) -> Result<String, StoreError> {
    let current = epoch(db)?;
    if current != from {
        return Ok(current);
    }
    let next = super::new_epoch();
    match db {
        Db::Sqlite(conn) => {
            conn.execute("UPDATE meta SET value = ?1 WHERE key = 'epoch'", [&next])?;
        }
        Db::Postgres(pg) => {
            pg.execute("UPDATE meta SET value = $1 WHERE key = 'epoch'", &[&next])?;
        }
    }
    Ok(next)
}

/// Appends an event, `body_json` being `body`'s JSON, in the current transaction and
/// returns it with its seq.
///
/// On PostgreSQL the seq is the greatest plus one, read by the insert itself, as SQLite
/// gives a rowid (a sequence would leave a gap at every rolled-back change, and a gap reads
/// as events lost). Two writers cannot read the same greatest seq: every write transaction
/// begins by locking the epoch row of `meta` ([`Db::in_write`]), so the writers of all
/// nodes run one at a time and commit in seq order. The one statement also returns the
/// epoch: a node's writer appends under that lock, so each round trip to the server counts.
pub(crate) fn append(
    db: &mut Db<'_>,
    at: OffsetDateTime,
    body: EventBody,
    body_json: &str,
) -> Result<StreamEvent, StoreError> {
    let (seq, epoch) = match db {
        Db::Sqlite(conn) => {
            conn.prepare_cached("INSERT INTO events (at, body) VALUES (?1, ?2)")?
                .execute(params![millis(at), body_json])?;
            (conn.last_insert_rowid(), epoch(db)?)
        }
        Db::Postgres(pg) => {
            let row = pg.query_one(
                "INSERT INTO events (seq, at, body) \
                 SELECT COALESCE(MAX(seq), 0) + 1, $1, $2 FROM events \
                 RETURNING seq, (SELECT value FROM meta WHERE key = 'epoch')",
                &[&millis(at), &body_json],
            )?;
            (row.try_get(0)?, row.try_get(1)?)
        }
    };
    Ok(StreamEvent {
        epoch,
        seq: seq as u64,
        at,
        body,
    })
}

/// The last seq written (0 when the log is empty).
pub(crate) fn last_seq(db: &mut Db<'_>) -> Result<u64, StoreError> {
    let seq: Option<i64> = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached("SELECT MAX(seq) FROM events")?
            .query_row([], |row| row.get(0))?,
        Db::Postgres(pg) => pg
            .query_one("SELECT MAX(seq) FROM events", &[])?
            .try_get(0)?,
    };
    Ok(seq.unwrap_or(0) as u64)
}

/// Deletes events recorded before `cutoff`, keeping at least the newest `keep`.
pub(crate) fn prune(
    db: &mut Db<'_>,
    cutoff: OffsetDateTime,
    keep: i64,
) -> Result<usize, StoreError> {
    match db {
        Db::Sqlite(conn) => Ok(conn.execute(
            "DELETE FROM events WHERE at < ?1 AND seq <= (SELECT COALESCE(MAX(seq), 0) FROM events) - ?2",
            params![millis(cutoff), keep],
        )?),
        Db::Postgres(pg) => Ok(pg.execute(
            "DELETE FROM events WHERE at < $1 AND seq <= (SELECT COALESCE(MAX(seq), 0) FROM events) - $2",
            &[&millis(cutoff), &keep],
        )? as usize),
    }
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Events after `seq`, oldest first, at most `limit`; `None` when the log no longer holds the
/// event right after `seq`.
pub(crate) fn events_after(
    db: &mut Db<'_>,
    seq: u64,
    limit: i64,
) -> Result<Option<Vec<StreamEvent>>, StoreError> {
    let epoch = epoch(db)?;
    let first: Option<i64> = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached("SELECT MIN(seq) FROM events")?
            .query_row([], |row| row.get(0))?,
        Db::Postgres(pg) => pg
            .query_one("SELECT MIN(seq) FROM events", &[])?
            .try_get(0)?,
    };
    if first.is_some_and(|first| first as u64 > seq + 1) {
        return Ok(None);
    }
    let event = |(seq, at_ms, body): (i64, i64, String)| -> Result<StreamEvent, StoreError> {
        Ok(StreamEvent {
            epoch: epoch.clone(),
            seq: seq as u64,
            at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            body: serde_json::from_str(&body)?,
        })
    };
    let events = match db {
        Db::Sqlite(conn) => {
            let mut statement = conn.prepare_cached(
                "SELECT seq, at, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = statement.query_map(params![seq as i64, limit], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?;
            rows.map(|row| event(row?)).collect::<Result<_, _>>()?
        }
        Db::Postgres(pg) => pg
            .query(
                "SELECT seq, at, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&(seq as i64), &limit],
            )?
            .iter()
            .map(|row| event((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, _>>()?,
    };
    Ok(Some(events))
}

impl Store {
    /// Events after `seq`, oldest first, at most `limit`; `None` when the log no longer
    /// holds the event right after `seq` (it was pruned), so replay is impossible.
    pub async fn events_after(
        &self,
        seq: u64,
        limit: i64,
    ) -> Result<Option<Vec<StreamEvent>>, StoreError> {
        self.read(move |db| {
            // One read transaction: a prune between its two statements would leave a gap.
            db.snapshot(|db| events_after(db, seq, limit))
        })
        .await
    }

    /// The last seq written.
    pub async fn last_seq(&self) -> Result<u64, StoreError> {
        self.read(last_seq).await
    }

    /// The log's epoch and last seq, read together.
    pub async fn position(&self) -> Result<(String, u64), StoreError> {
        self.read(|db| db.snapshot(|db| Ok((epoch(db)?, last_seq(db)?))))
            .await
    }
}
