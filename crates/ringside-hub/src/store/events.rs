//! The durable event log that stream clients resume from, and its epoch: the name of one
//! history of seqs, kept in the database so that every reader sees the epoch and the events
//! of the same transaction.

use ringside_core::stream::{EventBody, StreamEvent};
use rusqlite::{params, Connection};
use time::OffsetDateTime;

use super::{Store, StoreError};

/// The epoch the log is in.
pub(crate) fn epoch(conn: &Connection) -> Result<String, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'epoch'")?
        .query_row([], |row| row.get(0))?)
}

/// Starts a new epoch if the log is still in `from`, in the current transaction; returns the
/// epoch the log is in now. Every position of the old epoch becomes unknown, so each client
/// gets a snapshot.
pub(crate) fn rotate_epoch(conn: &Connection, from: &str) -> Result<String, StoreError> {
    let current = epoch(conn)?;
    if current != from {
        return Ok(current);
    }
    let next = super::new_epoch();
    conn.execute("UPDATE meta SET value = ?1 WHERE key = 'epoch'", [&next])?;
    Ok(next)
}

/// Appends an event, `body_json` being `body`'s JSON, in the current transaction and
/// returns it with its seq.
pub(crate) fn append(
    conn: &Connection,
    at: OffsetDateTime,
    body: EventBody,
    body_json: &str,
) -> Result<StreamEvent, StoreError> {
    conn.prepare_cached("INSERT INTO events (at, body) VALUES (?1, ?2)")?
        .execute(params![millis(at), body_json])?;
    Ok(StreamEvent {
        epoch: epoch(conn)?,
        seq: conn.last_insert_rowid() as u64,
        at,
        body,
    })
}

/// The last seq written (0 when the log is empty).
pub(crate) fn last_seq(conn: &Connection) -> Result<u64, StoreError> {
    let seq: Option<i64> = conn
        .prepare_cached("SELECT MAX(seq) FROM events")?
        .query_row([], |row| row.get(0))?;
    Ok(seq.unwrap_or(0) as u64)
}

/// Deletes events recorded before `cutoff`, keeping at least the newest `keep`.
pub(crate) fn prune(
    conn: &Connection,
    cutoff: OffsetDateTime,
    keep: i64,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM events WHERE at < ?1 AND seq <= (SELECT COALESCE(MAX(seq), 0) FROM events) - ?2",
        params![millis(cutoff), keep],
    )?)
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Events after `seq`, oldest first, at most `limit`; `None` when the log no longer holds the
/// event right after `seq`.
pub(crate) fn events_after(
    conn: &Connection,
    seq: u64,
    limit: i64,
) -> Result<Option<Vec<StreamEvent>>, StoreError> {
    let epoch = epoch(conn)?;
    let first: Option<i64> = conn
        .prepare_cached("SELECT MIN(seq) FROM events")?
        .query_row([], |row| row.get(0))?;
    if first.is_some_and(|first| first as u64 > seq + 1) {
        return Ok(None);
    }
    let mut statement = conn
        .prepare_cached("SELECT seq, at, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = statement.query_map(params![seq as i64, limit], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (seq, at_ms, body) = row?;
        events.push(StreamEvent {
            epoch: epoch.clone(),
            seq: seq as u64,
            at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            body: serde_json::from_str(&body)?,
        });
    }
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
        self.read(move |conn| {
            // One read transaction: a prune between its two statements would leave a gap.
            let tx = conn.unchecked_transaction()?;
            let events = events_after(&tx, seq, limit);
            tx.finish()?;
            events
        })
        .await
    }

    /// The last seq written.
    pub async fn last_seq(&self) -> Result<u64, StoreError> {
        self.read(last_seq).await
    }

    /// The log's epoch and last seq, read together.
    pub async fn position(&self) -> Result<(String, u64), StoreError> {
        self.read(|conn| {
            let tx = conn.unchecked_transaction()?;
            let position = (epoch(&tx)?, last_seq(&tx)?);
            tx.finish()?;
            Ok(position)
        })
        .await
    }
}
