//! The durable event log that stream clients resume from.

use ringside_core::stream::{EventBody, StreamEvent};
use sqlx::sqlite::SqliteConnection;
use sqlx::{Row, SqliteExecutor};
use time::OffsetDateTime;

use super::{Store, StoreError};

/// Appends an event in the current transaction and returns it with its seq.
pub(crate) async fn append(
    conn: &mut SqliteConnection,
    epoch: &str,
    at: OffsetDateTime,
    body: EventBody,
) -> Result<StreamEvent, StoreError> {
    let seq = sqlx::query("INSERT INTO events (at, body) VALUES (?, ?)")
        .bind(millis(at))
        .bind(serde_json::to_string(&body)?)
        .execute(conn)
        .await?
        .last_insert_rowid();
    Ok(StreamEvent {
        epoch: epoch.to_owned(),
        seq: seq as u64,
        at,
        body,
    })
}

/// The last seq written (0 when the log is empty).
pub(crate) async fn last_seq<'c>(conn: impl SqliteExecutor<'c>) -> Result<u64, StoreError> {
    let seq: Option<i64> = sqlx::query("SELECT MAX(seq) FROM events")
        .fetch_one(conn)
        .await?
        .get(0);
    Ok(seq.unwrap_or(0) as u64)
}

/// Deletes events recorded before `cutoff`, keeping at least the newest `keep`.
pub(crate) async fn prune(
    conn: &mut SqliteConnection,
    cutoff: OffsetDateTime,
    keep: i64,
) -> Result<u64, StoreError> {
    let deleted = sqlx::query(
        "DELETE FROM events WHERE at < ? AND seq <= (SELECT COALESCE(MAX(seq), 0) FROM events) - ?",
    )
    .bind(millis(cutoff))
    .bind(keep)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(deleted)
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

impl Store {
    /// Events after `seq`, oldest first, at most `limit`; `None` when the log no longer
    /// holds the event right after `seq` (it was pruned), so replay is impossible.
    pub async fn events_after(
        &self,
        seq: u64,
        limit: i64,
    ) -> Result<Option<Vec<StreamEvent>>, StoreError> {
        let first: Option<i64> = sqlx::query("SELECT MIN(seq) FROM events")
            .fetch_one(self.pool())
            .await?
            .get(0);
        if first.is_some_and(|first| first as u64 > seq + 1) {
            return Ok(None);
        }
        let rows =
            sqlx::query("SELECT seq, at, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(seq as i64)
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            let at_ms: i64 = row.get("at");
            let body: &str = row.get("body");
            events.push(StreamEvent {
                epoch: self.epoch().to_owned(),
                seq: row.get::<i64, _>("seq") as u64,
                at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                body: serde_json::from_str(body)?,
            });
        }
        Ok(Some(events))
    }

    /// The last seq written.
    pub async fn last_seq(&self) -> Result<u64, StoreError> {
        last_seq(self.pool()).await
    }
}
