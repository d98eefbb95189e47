//! Calls logged as Zammad tickets, in the relay's outbox (migration 10): one item per call
//! at most (event `ticket`, key [`key`]), and the directory facts a ticket job is composed
//! from: the caller's Zammad user and the agents' names and Zammad users.

use crate::store::Db;
use ringside_core::call::Call;
use ringside_core::caller::ContactSource;
use ringside_providers::zammad::call_log::{Agents, Customer};
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::StoreError;

/// The outbox event of a ticket job.
pub const EVENT: &str = "ticket";

/// The outbox key of call `call`'s ticket job: its own queue, apart from the call's caller
/// log events, so that neither holds the other back.
pub fn key(call: i64) -> String {
    format!("ticket-{call}")
}

/// The journal entry id in a ticket job's outbox key.
pub fn call_of(key: &str) -> Option<i64> {
    key.strip_prefix("ticket-")?.parse().ok()
}

/// What became of queueing a call's ticket job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued now.
    New,
    /// The call had a job already (pending, or failed and now pending again).
    Already,
    /// The outbox is full: dropped.
    Dropped,
}

/// Queues `job` (JSON) for call `call` unless it has one; with `revive` (an agent asks),
/// the call's job that failed or waits for a retry is made due at `now`.
pub(crate) fn enqueue(
    db: &mut Db<'_>,
    call: i64,
    job: &str,
    now: OffsetDateTime,
    cap: u64,
    revive: bool,
) -> Result<Queued, StoreError> {
    let key = key(call);
    let now = millis(now);
    let existing: Option<bool> = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached("SELECT failed FROM zammad_outbox WHERE call_id = ?1 AND event = ?2")?
            .query_row(params![key, EVENT], |row| row.get(0))
            .optional()?,
        Db::Postgres(pg) => pg
            .query_opt(
                "SELECT failed FROM zammad_outbox WHERE call_id = $1 AND event = $2",
                &[&key, &EVENT],
            )?
            .map(|row| row.try_get(0))
            .transpose()?,
    };
    if let Some(failed) = existing {
        if revive && failed {
            match db {
                Db::Sqlite(conn) => {
                    conn.prepare_cached(
                        "UPDATE zammad_outbox SET failed = 0, attempts = 0, next_at = ?3, created_at = ?3
                         WHERE call_id = ?1 AND event = ?2",
                    )?
                    .execute(params![key, EVENT, now])?;
                }
                Db::Postgres(pg) => {
                    pg.execute(
                        "UPDATE zammad_outbox SET failed = false, attempts = 0, next_at = $3, created_at = $3
                         WHERE call_id = $1 AND event = $2",
                        &[&key, &EVENT, &now],
                    )?;
                }
            }
        } else if revive {
            // Waiting for a retry: an agent asks now, so it is tried now.
            match db {
                Db::Sqlite(conn) => {
                    conn.prepare_cached(
                        "UPDATE zammad_outbox SET next_at = MIN(next_at, ?3) WHERE call_id = ?1 AND event = ?2",
                    )?
                    .execute(params![key, EVENT, now])?;
                }
                Db::Postgres(pg) => {
                    pg.execute(
                        "UPDATE zammad_outbox SET next_at = LEAST(next_at, $3) WHERE call_id = $1 AND event = $2",
                        &[&key, &EVENT, &now],
                    )?;
                }
            }
        }
        return Ok(Queued::Already);
    }
    let items = super::outbox::items(db)?;
    if items.max(0) as u64 >= cap {
        match db {
            Db::Sqlite(conn) => {
                conn.prepare_cached("UPDATE zammad_outbox_size SET dropped = dropped + 1")?
                    .execute([])?;
            }
            Db::Postgres(pg) => {
                pg.execute("UPDATE zammad_outbox_size SET dropped = dropped + 1", &[])?;
            }
        }
        return Ok(Queued::Dropped);
    }
    match db {
        Db::Sqlite(conn) => {
            conn.prepare_cached(
                "INSERT INTO zammad_outbox (call_id, event, body, created_at, next_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )?
            .execute(params![key, EVENT, job, now])?;
        }
        Db::Postgres(pg) => {
            pg.execute(
                "INSERT INTO zammad_outbox (call_id, event, body, created_at, next_at)
                 VALUES ($1, $2, $3, $4, $4)",
                &[&key, &EVENT, &job, &now],
            )?;
        }
    }
    Ok(Queued::New)
}

/// Where a call's ticket job stands, for an agent waiting on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// Whether it was refused for good (or waited too long).
    pub failed: bool,
    /// Tries so far.
    pub attempts: u32,
    /// The last try's error.
    pub last_error: Option<String>,
}

/// The state of call `call`'s ticket job; `None` when it has none (delivered or never
/// queued).
pub(crate) fn job_state(db: &mut Db<'_>, call: i64) -> Result<Option<JobState>, StoreError> {
    match db {
        Db::Sqlite(conn) => Ok(conn
            .prepare_cached(
                "SELECT failed, attempts, last_error FROM zammad_outbox
                 WHERE call_id = ?1 AND event = ?2",
            )?
            .query_row(params![key(call), EVENT], |row| {
                Ok(JobState {
                    failed: row.get(0)?,
                    attempts: row.get(1)?,
                    last_error: row.get(2)?,
                })
            })
            .optional()?),
        Db::Postgres(pg) => {
            let Some(row) = pg.query_opt(
                "SELECT failed, attempts, last_error FROM zammad_outbox
                 WHERE call_id = $1 AND event = $2",
                &[&key(call), &EVENT],
            )?
            else {
                return Ok(None);
            };
            let attempts: i64 = row.try_get(1)?;
            Ok(Some(JobState {
                failed: row.try_get(0)?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                last_error: row.try_get(2)?,
            }))
        }
    }
}

/// The Zammad user the caller of `call` is: the first candidate synced from Zammad.
pub(crate) fn customer(db: &mut Db<'_>, call: &Call) -> Result<Option<Customer>, StoreError> {
    let Some(caller) = &call.caller else {
        return Ok(None);
    };
    for card in &caller.contacts {
        let (ContactSource::Zammad, Some(id)) = (card.source, card.id) else {
            continue;
        };
        let zammad: Option<i64> = match db {
            Db::Sqlite(conn) => conn
                .prepare_cached(
                    "SELECT zammad_user_id FROM contacts WHERE id = ?1 AND zammad_user_id IS NOT NULL",
                )?
                .query_row([id], |row| row.get(0))
                .optional()?,
            Db::Postgres(pg) => pg
                .query_opt(
                    "SELECT zammad_user_id FROM contacts WHERE id = $1 AND zammad_user_id IS NOT NULL",
                    &[&id],
                )?
                .map(|row| row.try_get(0))
                .transpose()?,
        };
        if let Some(zammad) = zammad.filter(|id| *id > 0) {
            return Ok(Some(Customer {
                id: zammad as u64,
                name: card.name.clone(),
            }));
        }
    }
    Ok(None)
}

/// The agents of `call` by name; the answering agent's Zammad user is the synced Zammad
/// user whose e-mail address is the agent's login.
pub(crate) fn agents(db: &mut Db<'_>, call: &Call) -> Result<Agents, StoreError> {
    let name = |db: &mut Db<'_>, login: &str| -> Result<String, StoreError> {
        Ok(super::agents::by_login(db, login)?
            .map(|agent| agent.name)
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| login.to_owned()))
    };
    let rung = call
        .offered_to
        .iter()
        .flatten()
        .map(|login| name(db, login))
        .collect::<Result<_, _>>()?;
    let (answered_by, answered_by_zammad) = match &call.answered_by {
        Some(login) => {
            let zammad: Option<i64> = match db {
                Db::Sqlite(conn) => conn
                    .prepare_cached(
                        "SELECT zammad_user_id FROM contacts
                         WHERE email = ?1 COLLATE NOCASE AND zammad_user_id IS NOT NULL
                         ORDER BY id LIMIT 1",
                    )?
                    .query_row([login], |row| row.get(0))
                    .optional()?,
                // NOCASE: lower() on both sides, read through contacts_email_lower.
                Db::Postgres(pg) => pg
                    .query_opt(
                        "SELECT zammad_user_id FROM contacts
                         WHERE lower(email) = lower($1) AND zammad_user_id IS NOT NULL
                         ORDER BY id LIMIT 1",
                        &[login],
                    )?
                    .map(|row| row.try_get(0))
                    .transpose()?,
            };
            (Some(name(db, login)?), zammad.map(|id| id as u64))
        }
        None => (None, None),
    };
    Ok(Agents {
        rung,
        answered_by,
        answered_by_zammad,
    })
}

fn millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{outbox, Store};

    #[test]
    fn a_call_has_one_ticket_job_and_an_agents_request_makes_it_due_again() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, conn) = Store::open(dir.path()).unwrap();
        let t0 = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        assert_eq!(
            enqueue(&mut Db::Sqlite(&conn), 7, "{}", t0, 10, false).unwrap(),
            Queued::New
        );
        assert_eq!(
            enqueue(&mut Db::Sqlite(&conn), 7, "{\"again\":1}", t0, 10, false).unwrap(),
            Queued::Already
        );
        let due = outbox::due(&mut Db::Sqlite(&conn), t0, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].call_id.as_str(), due[0].event.as_str()),
            ("ticket-7", EVENT)
        );
        assert_eq!(due[0].body, "{}", "the first job stays");
        assert_eq!(call_of(&due[0].call_id), Some(7));

        let later = t0 + time::Duration::minutes(5);
        outbox::retry_at(&mut Db::Sqlite(&conn), due[0].id, later, "HTTP 503", t0).unwrap();
        assert!(outbox::due(&mut Db::Sqlite(&conn), t0, 10)
            .unwrap()
            .is_empty());
        assert_eq!(
            enqueue(&mut Db::Sqlite(&conn), 7, "{}", t0, 10, true).unwrap(),
            Queued::Already
        );
        assert_eq!(
            outbox::due(&mut Db::Sqlite(&conn), t0, 10).unwrap().len(),
            1,
            "asked: due now"
        );
        let state = job_state(&mut Db::Sqlite(&conn), 7).unwrap().unwrap();
        assert_eq!((state.failed, state.attempts), (false, 1));

        outbox::fail(&mut Db::Sqlite(&conn), &due[0], false, "HTTP 422", t0).unwrap();
        assert!(
            job_state(&mut Db::Sqlite(&conn), 7)
                .unwrap()
                .unwrap()
                .failed
        );
        assert_eq!(
            enqueue(&mut Db::Sqlite(&conn), 7, "{}", later, 10, false).unwrap(),
            Queued::Already
        );
        assert!(
            job_state(&mut Db::Sqlite(&conn), 7)
                .unwrap()
                .unwrap()
                .failed,
            "the log does not revive it"
        );
        enqueue(&mut Db::Sqlite(&conn), 7, "{}", later, 10, true).unwrap();
        let state = job_state(&mut Db::Sqlite(&conn), 7).unwrap().unwrap();
        assert_eq!((state.failed, state.attempts), (false, 0), "an agent does");

        assert_eq!(
            enqueue(&mut Db::Sqlite(&conn), 8, "{}", t0, 1, false).unwrap(),
            Queued::Dropped
        );
        assert_eq!(job_state(&mut Db::Sqlite(&conn), 8).unwrap(), None);
    }
}
