//! Journal rows: a call's searchable columns plus its whole JSON body.

use crate::store::{Db, PgSession};
use postgres::types::ToSql;
use ringside_core::call::{Call, CallState, Direction, Provider};
use ringside_core::listing::{JournalFilter, JournalPage};
use rusqlite::{params, Connection, OptionalExtension, Row};
use time::OffsetDateTime;

use super::{Store, StoreError};

/// Reads `(id, body)` rows; the id in the body is not trusted (it is 0 when inserted).
fn decode(row: &Row) -> rusqlite::Result<(i64, String)> {
    Ok((row.get(0)?, row.get(1)?))
}

/// [`decode`] for a PostgreSQL row.
fn decode_pg(row: &postgres::Row) -> Result<(i64, String), postgres::Error> {
    Ok((row.try_get(0)?, row.try_get(1)?))
}

fn to_call((id, body): (i64, String)) -> Result<Call, StoreError> {
    let mut call: Call = serde_json::from_str(&body)?;
    call.id = id;
    Ok(call)
}

fn calls(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Call>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, decode)?;
    rows.map(|row| to_call(row?)).collect()
}

/// [`calls`] on PostgreSQL.
fn calls_pg(
    pg: &mut PgSession,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Call>, StoreError> {
    pg.query(sql, params)?
        .iter()
        .map(|row| to_call(decode_pg(row)?))
        .collect()
}

/// The call with this provider call id.
pub(crate) fn find(
    db: &mut Db<'_>,
    provider: Provider,
    call_id: &str,
) -> Result<Option<Call>, StoreError> {
    let row = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached("SELECT id, body FROM calls WHERE provider = ?1 AND call_id = ?2")?
            .query_row(params![provider.as_str(), call_id], decode)
            .optional()?,
        Db::Postgres(pg) => pg
            .query_opt(
                "SELECT id, body FROM calls WHERE provider = $1 AND call_id = $2",
                &[&provider.as_str(), &call_id],
            )?
            .as_ref()
            .map(decode_pg)
            .transpose()?,
    };
    row.map(to_call).transpose()
}

/// Inserts a new call and sets its id.
pub(crate) fn insert(db: &mut Db<'_>, call: &mut Call) -> Result<(), StoreError> {
    call.id = match db {
        Db::Sqlite(conn) => {
            conn.prepare_cached(
                "INSERT INTO calls (provider, call_id, direction, state, done, answered_by, initialized_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                call.provider.as_str(),
                call.call_id,
                call.direction.as_str(),
                call.state.as_str(),
                call.done,
                call.answered_by,
                call.initialized_at.map(OffsetDateTime::unix_timestamp),
                serde_json::to_string(call)?,
            ])?;
            conn.last_insert_rowid()
        }
        Db::Postgres(pg) => pg
            .query_one(
                "INSERT INTO calls (provider, call_id, direction, state, done, answered_by, initialized_at, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &call.provider.as_str(),
                    &call.call_id,
                    &call.direction.as_str(),
                    &call.state.as_str(),
                    &call.done,
                    &call.answered_by,
                    &call.initialized_at.map(OffsetDateTime::unix_timestamp),
                    &serde_json::to_string(call)?,
                ],
            )?
            .try_get(0)?,
    };
    Ok(())
}

/// Writes a changed call; returns the call's JSON as the row keeps it.
pub(crate) fn update(db: &mut Db<'_>, call: &Call) -> Result<String, StoreError> {
    let body = serde_json::to_string(call)?;
    match db {
        Db::Sqlite(conn) => {
            conn.prepare_cached(
                "UPDATE calls SET state = ?1, done = ?2, answered_by = ?3, initialized_at = ?4, body = ?5
                 WHERE id = ?6",
            )?
            .execute(params![
                call.state.as_str(),
                call.done,
                call.answered_by,
                call.initialized_at.map(OffsetDateTime::unix_timestamp),
                body,
                call.id,
            ])?;
        }
        Db::Postgres(pg) => {
            pg.execute(
                "UPDATE calls SET state = $1, done = $2, answered_by = $3, initialized_at = $4, body = $5
                 WHERE id = $6",
                &[
                    &call.state.as_str(),
                    &call.done,
                    &call.answered_by,
                    &call.initialized_at.map(OffsetDateTime::unix_timestamp),
                    &body,
                    &call.id,
                ],
            )?;
        }
    }
    Ok(body)
}

/// The calls with these ids (unknown ids are skipped).
pub(crate) fn by_ids(db: &mut Db<'_>, ids: &[i64]) -> Result<Vec<Call>, StoreError> {
    match db {
        Db::Sqlite(conn) => calls(
            conn,
            "SELECT id, body FROM calls WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
            [serde_json::to_string(ids)?],
        ),
        Db::Postgres(pg) => calls_pg(
            pg,
            "SELECT id, body FROM calls WHERE id = ANY($1) ORDER BY id",
            &[&ids],
        ),
    }
}

/// At most `limit` calls with ids below `before`, newest first: the caller refresh walks
/// the journal back by id (the primary key) and stops at the first call older than its
/// window, so that it never scans the whole journal.
pub(crate) fn newest_before(
    db: &mut Db<'_>,
    before: i64,
    limit: i64,
) -> Result<Vec<Call>, StoreError> {
    match db {
        Db::Sqlite(conn) => calls(
            conn,
            "SELECT id, body FROM calls WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            params![before, limit],
        ),
        Db::Postgres(pg) => calls_pg(
            pg,
            "SELECT id, body FROM calls WHERE id < $1 ORDER BY id DESC LIMIT $2",
            &[&before, &limit],
        ),
    }
}

/// Calls still in `state` that started before `cutoff`.
pub(crate) fn left_in(
    db: &mut Db<'_>,
    state: CallState,
    cutoff: OffsetDateTime,
) -> Result<Vec<Call>, StoreError> {
    match db {
        Db::Sqlite(conn) => calls(
            conn,
            "SELECT id, body FROM calls WHERE state = ?1 AND initialized_at < ?2 ORDER BY id",
            params![state.as_str(), cutoff.unix_timestamp()],
        ),
        Db::Postgres(pg) => calls_pg(
            pg,
            "SELECT id, body FROM calls WHERE state = $1 AND initialized_at < $2 ORDER BY id",
            &[&state.as_str(), &cutoff.unix_timestamp()],
        ),
    }
}

/// Calls ringing or answered now, newest first, at most `limit`.
pub(crate) fn active(db: &mut Db<'_>, limit: i64) -> Result<Vec<Call>, StoreError> {
    match db {
        Db::Sqlite(conn) => calls(
            conn,
            "SELECT id, body FROM calls WHERE state IN (?1, ?2) ORDER BY id DESC LIMIT ?3",
            params![
                CallState::Ringing.as_str(),
                CallState::Answered.as_str(),
                limit
            ],
        ),
        Db::Postgres(pg) => calls_pg(
            pg,
            "SELECT id, body FROM calls WHERE state IN ($1, $2) ORDER BY id DESC LIMIT $3",
            &[
                &CallState::Ringing.as_str(),
                &CallState::Answered.as_str(),
                &limit,
            ],
        ),
    }
}

/// Missed inbound calls not done yet, newest first.
pub(crate) fn open_missed(db: &mut Db<'_>, limit: i64) -> Result<Vec<Call>, StoreError> {
    match db {
        Db::Sqlite(conn) => calls(
            conn,
            "SELECT id, body FROM calls WHERE state = ?1 AND done = 0 AND direction = 'in'
             ORDER BY id DESC LIMIT ?2",
            params![CallState::Ended.as_str(), limit],
        ),
        Db::Postgres(pg) => calls_pg(
            pg,
            "SELECT id, body FROM calls WHERE state = $1 AND NOT done AND direction = 'in'
             ORDER BY id DESC LIMIT $2",
            &[&CallState::Ended.as_str(), &limit],
        ),
    }
}

/// The answered call an agent is on, if any.
pub(crate) fn on_call_of(db: &mut Db<'_>, login: &str) -> Result<Option<Call>, StoreError> {
    let mut found = match db {
        Db::Sqlite(conn) => calls(
            conn,
            "SELECT id, body FROM calls WHERE state = ?1 AND answered_by = ?2 ORDER BY id DESC LIMIT 1",
            params![CallState::Answered.as_str(), login],
        )?,
        Db::Postgres(pg) => calls_pg(
            pg,
            "SELECT id, body FROM calls WHERE state = $1 AND answered_by = $2 ORDER BY id DESC LIMIT 1",
            &[&CallState::Answered.as_str(), &login],
        )?,
    };
    Ok(found.pop())
}

fn journal(
    db: &mut Db<'_>,
    login: &str,
    filter: JournalFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<JournalPage, StoreError> {
    let before = before.unwrap_or(i64::MAX);
    let mut entries = match db {
        Db::Sqlite(conn) => {
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
            calls(conn, &sql, params![before, login, limit + 1])?
        }
        // Each filter binds only the parameters it uses. The bodies are read as JSON with
        // any escaped NUL replaced: PostgreSQL refuses to read a JSON text holding one.
        Db::Postgres(pg) => match filter {
            JournalFilter::All => calls_pg(
                pg,
                "SELECT id, body FROM calls WHERE id < $1 ORDER BY id DESC LIMIT $2",
                &[&before, &(limit + 1)],
            )?,
            JournalFilter::Missed => calls_pg(
                pg,
                r"SELECT id, body FROM calls
                  WHERE id < $1 AND direction = 'in' AND state = 'hangup'
                    AND replace(body, '\u0000', '\ufffd')::json ->> 'start_at' IS NULL
                  ORDER BY id DESC LIMIT $2",
                &[&before, &(limit + 1)],
            )?,
            JournalFilter::Mine => calls_pg(
                pg,
                r"SELECT id, body FROM calls
                  WHERE id < $1
                    AND (answered_by = $3
                      OR (replace(body, '\u0000', '\ufffd')::json -> 'offered_to')::jsonb
                        @> to_jsonb($3::text))
                  ORDER BY id DESC LIMIT $2",
                &[&before, &(limit + 1), &login],
            )?,
        },
    };
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

impl Store {
    /// One page of the journal for `login`, newest first.
    pub async fn journal(
        &self,
        login: &str,
        filter: JournalFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<JournalPage, StoreError> {
        let login = login.to_owned();
        self.read(move |db| journal(db, &login, filter, before, limit))
            .await
    }

    /// The direction of the call with this provider call id, if the journal has it.
    pub fn call_direction(
        &self,
        provider: Provider,
        call_id: &str,
    ) -> Result<Option<Direction>, StoreError> {
        self.read_inline(|db| {
            let direction: Option<String> = match db {
                Db::Sqlite(conn) => conn
                    .prepare_cached(
                        "SELECT direction FROM calls WHERE provider = ?1 AND call_id = ?2",
                    )?
                    .query_row(params![provider.as_str(), call_id], |row| row.get(0))
                    .optional()?,
                Db::Postgres(pg) => pg
                    .query_opt(
                        "SELECT direction FROM calls WHERE provider = $1 AND call_id = $2",
                        &[&provider.as_str(), &call_id],
                    )?
                    .map(|row| row.try_get(0))
                    .transpose()?,
            };
            Ok(direction.as_deref().and_then(Direction::parse))
        })
    }

    /// One journal entry.
    pub async fn call(&self, id: i64) -> Result<Option<Call>, StoreError> {
        self.read(move |db| Ok(by_ids(db, &[id])?.pop())).await
    }

    /// Whether the journal has this provider call id.
    pub fn has_call(&self, provider: Provider, call_id: &str) -> Result<bool, StoreError> {
        self.read_inline(|db| match db {
            Db::Sqlite(conn) => Ok(conn
                .prepare_cached("SELECT 1 FROM calls WHERE provider = ?1 AND call_id = ?2")?
                .exists(params![provider.as_str(), call_id])?),
            Db::Postgres(pg) => Ok(pg
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM calls WHERE provider = $1 AND call_id = $2)",
                    &[&provider.as_str(), &call_id],
                )?
                .try_get(0)?),
        })
    }
}
