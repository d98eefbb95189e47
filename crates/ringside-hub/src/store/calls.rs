//! Journal rows: a call's searchable columns plus its whole JSON body.

use ringside_core::call::{Call, CallState, Provider};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Row, SqliteExecutor};
use time::OffsetDateTime;

use super::{Store, StoreError};

/// Which journal entries an agent wants to see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JournalFilter {
    /// Every call.
    #[default]
    All,
    /// Inbound calls nobody answered.
    Missed,
    /// Calls the agent answered or that were meant for the agent alone.
    Mine,
}

/// One page of the journal, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct JournalPage {
    /// The entries.
    pub entries: Vec<Call>,
    /// Pass as `before` to get the next (older) page; `null` on the last page.
    pub next_before: Option<i64>,
}

fn decode(row: &SqliteRow) -> Result<Call, StoreError> {
    let id: i64 = row.get("id");
    let body: &str = row.get("body");
    let mut call: Call = serde_json::from_str(body)?;
    call.id = id;
    Ok(call)
}

/// The call with this provider call id.
pub(crate) async fn find(
    conn: &mut SqliteConnection,
    provider: Provider,
    call_id: &str,
) -> Result<Option<Call>, StoreError> {
    sqlx::query("SELECT id, body FROM calls WHERE provider = ? AND call_id = ?")
        .bind(provider.as_str())
        .bind(call_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// Inserts a new call and sets its id.
pub(crate) async fn insert(conn: &mut SqliteConnection, call: &mut Call) -> Result<(), StoreError> {
    let id = sqlx::query(
        "INSERT INTO calls (provider, call_id, direction, state, done, answered_by, initialized_at, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, '{}')",
    )
    .bind(call.provider.as_str())
    .bind(&call.call_id)
    .bind(call.direction.as_str())
    .bind(call.state.as_str())
    .bind(call.done)
    .bind(&call.answered_by)
    .bind(call.initialized_at.map(OffsetDateTime::unix_timestamp))
    .execute(&mut *conn)
    .await?
    .last_insert_rowid();
    call.id = id;
    update(conn, call).await
}

/// Writes a changed call.
pub(crate) async fn update(conn: &mut SqliteConnection, call: &Call) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE calls SET state = ?, done = ?, answered_by = ?, initialized_at = ?, body = ? WHERE id = ?",
    )
    .bind(call.state.as_str())
    .bind(call.done)
    .bind(&call.answered_by)
    .bind(call.initialized_at.map(OffsetDateTime::unix_timestamp))
    .bind(serde_json::to_string(call)?)
    .bind(call.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The calls with these ids (unknown ids are skipped).
pub(crate) async fn by_ids<'c>(
    conn: impl SqliteExecutor<'c>,
    ids: &[i64],
) -> Result<Vec<Call>, StoreError> {
    let list = serde_json::to_string(ids)?;
    sqlx::query(
        "SELECT id, body FROM calls WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
    )
    .bind(list)
    .fetch_all(conn)
    .await?
    .iter()
    .map(decode)
    .collect()
}

/// Calls still ringing whose ringing started before `cutoff`.
pub(crate) async fn ringing_before(
    conn: &mut SqliteConnection,
    cutoff: OffsetDateTime,
) -> Result<Vec<Call>, StoreError> {
    sqlx::query("SELECT id, body FROM calls WHERE state = ? AND initialized_at < ? ORDER BY id")
        .bind(CallState::Ringing.as_str())
        .bind(cutoff.unix_timestamp())
        .fetch_all(conn)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Calls ringing or answered now.
pub(crate) async fn active<'c>(conn: impl SqliteExecutor<'c>) -> Result<Vec<Call>, StoreError> {
    sqlx::query("SELECT id, body FROM calls WHERE state IN (?, ?) ORDER BY id DESC")
        .bind(CallState::Ringing.as_str())
        .bind(CallState::Answered.as_str())
        .fetch_all(conn)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Missed inbound calls not done yet, newest first.
pub(crate) async fn open_missed<'c>(
    conn: impl SqliteExecutor<'c>,
    limit: i64,
) -> Result<Vec<Call>, StoreError> {
    sqlx::query(
        "SELECT id, body FROM calls WHERE state = ? AND done = 0 AND direction = 'in'
         ORDER BY id DESC LIMIT ?",
    )
    .bind(CallState::Ended.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(decode)
    .collect()
}

/// The answered call an agent is on, if any.
pub(crate) async fn on_call_of<'c>(
    conn: impl SqliteExecutor<'c>,
    login: &str,
) -> Result<Option<Call>, StoreError> {
    sqlx::query(
        "SELECT id, body FROM calls WHERE state = ? AND answered_by = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(CallState::Answered.as_str())
    .bind(login)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(decode)
    .transpose()
}

impl Store {
    /// One page of the journal for `login`, newest first.
    pub async fn journal(
        &self,
        login: &str,
        filter: JournalFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<JournalPage, StoreError> {
        let condition = match filter {
            JournalFilter::All => "1",
            JournalFilter::Missed => {
                "direction = 'in' AND state = 'hangup' AND json_extract(body, '$.start_at') IS NULL"
            }
            JournalFilter::Mine => {
                "(answered_by = ?2 OR EXISTS (SELECT 1 FROM json_each(body, '$.offered_to') WHERE value = ?2))"
            }
        };
        let sql = format!(
            "SELECT id, body FROM calls WHERE id < ?1 AND {condition} ORDER BY id DESC LIMIT ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(before.unwrap_or(i64::MAX))
            .bind(login)
            .bind(limit + 1)
            .fetch_all(self.pool())
            .await?;
        let mut entries = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        let next_before = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|c| c.id)
        } else {
            None
        };
        Ok(JournalPage {
            entries,
            next_before,
        })
    }

    /// Whether the journal has this provider call id.
    pub async fn has_call(&self, provider: Provider, call_id: &str) -> Result<bool, StoreError> {
        let found = sqlx::query("SELECT 1 FROM calls WHERE provider = ? AND call_id = ?")
            .bind(provider.as_str())
            .bind(call_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(found.is_some())
    }

    /// One journal entry.
    pub async fn call(&self, id: i64) -> Result<Option<Call>, StoreError> {
        Ok(by_ids(self.pool(), &[id]).await?.pop())
    }
}
