//! Calls logged as Zammad tickets, in the relay's outbox (migration 10): one item per call
//! at most (event `ticket`, key [`key`]), and the directory facts a ticket job is composed
//! from: the caller's Zammad user and the agents' names and Zammad users.

use ringside_core::call::Call;
use ringside_core::caller::ContactSource;
use ringside_providers::zammad::call_log::{Agents, Customer};
use rusqlite::{params, Connection, OptionalExtension};
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
    conn: &Connection,
    call: i64,
    job: &str,
    now: OffsetDateTime,
    cap: u64,
    revive: bool,
) -> Result<Queued, StoreError> {
    let key = key(call);
    let existing: Option<bool> = conn
        .prepare_cached("SELECT failed FROM zammad_outbox WHERE call_id = ?1 AND event = ?2")?
        .query_row(params![key, EVENT], |row| row.get(0))
        .optional()?;
    if let Some(failed) = existing {
        if revive && failed {
            conn.prepare_cached(
                "UPDATE zammad_outbox SET failed = 0, attempts = 0, next_at = ?3, created_at = ?3
                 WHERE call_id = ?1 AND event = ?2",
            )?
            .execute(params![key, EVENT, millis(now)])?;
        } else if revive {
            // Waiting for a retry: an agent asks now, so it is tried now.
            conn.prepare_cached(
                "UPDATE zammad_outbox SET next_at = MIN(next_at, ?3) WHERE call_id = ?1 AND event = ?2",
            )?
            .execute(params![key, EVENT, millis(now)])?;
        }
        return Ok(Queued::Already);
    }
    let items: i64 = conn
        .prepare_cached("SELECT items FROM zammad_outbox_size")?
        .query_row([], |row| row.get(0))?;
    if items.max(0) as u64 >= cap {
        conn.prepare_cached("UPDATE zammad_outbox_size SET dropped = dropped + 1")?
            .execute([])?;
        return Ok(Queued::Dropped);
    }
    conn.prepare_cached(
        "INSERT INTO zammad_outbox (call_id, event, body, created_at, next_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![key, EVENT, job, millis(now)])?;
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
pub(crate) fn job_state(conn: &Connection, call: i64) -> Result<Option<JobState>, StoreError> {
    Ok(conn
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
        .optional()?)
}

/// The Zammad user the caller of `call` is: the first candidate synced from Zammad.
pub(crate) fn customer(conn: &Connection, call: &Call) -> Result<Option<Customer>, StoreError> {
    let Some(caller) = &call.caller else {
        return Ok(None);
    };
    let mut user = conn.prepare_cached(
        "SELECT zammad_user_id FROM contacts WHERE id = ?1 AND zammad_user_id IS NOT NULL",
    )?;
    for card in &caller.contacts {
        let (ContactSource::Zammad, Some(id)) = (card.source, card.id) else {
            continue;
        };
        let zammad: Option<i64> = user.query_row([id], |row| row.get(0)).optional()?;
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
pub(crate) fn agents(conn: &Connection, call: &Call) -> Result<Agents, StoreError> {
    let name = |login: &str| -> Result<String, StoreError> {
        Ok(super::agents::by_login(conn, login)?
            .map(|agent| agent.name)
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| login.to_owned()))
    };
    let rung = call
        .offered_to
        .iter()
        .flatten()
        .map(|login| name(login))
        .collect::<Result<_, _>>()?;
    let (answered_by, answered_by_zammad) = match &call.answered_by {
        Some(login) => {
            let zammad: Option<i64> = conn
                .prepare_cached(
                    "SELECT zammad_user_id FROM contacts
                     WHERE email = ?1 COLLATE NOCASE AND zammad_user_id IS NOT NULL
                     ORDER BY id LIMIT 1",
                )?
                .query_row([login], |row| row.get(0))
                .optional()?;
            (Some(name(login)?), zammad.map(|id| id as u64))
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
        assert_eq!(enqueue(&conn, 7, "{}", t0, 10, false).unwrap(), Queued::New);
        assert_eq!(
            enqueue(&conn, 7, "{\"again\":1}", t0, 10, false).unwrap(),
            Queued::Already
        );
        let due = outbox::due(&conn, t0, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].call_id.as_str(), due[0].event.as_str()),
            ("ticket-7", EVENT)
        );
        assert_eq!(due[0].body, "{}", "the first job stays");
        assert_eq!(call_of(&due[0].call_id), Some(7));

        let later = t0 + time::Duration::minutes(5);
        outbox::retry_at(&conn, due[0].id, later, "HTTP 503", t0).unwrap();
        assert!(outbox::due(&conn, t0, 10).unwrap().is_empty());
        assert_eq!(
            enqueue(&conn, 7, "{}", t0, 10, true).unwrap(),
            Queued::Already
        );
        assert_eq!(
            outbox::due(&conn, t0, 10).unwrap().len(),
            1,
            "asked: due now"
        );
        let state = job_state(&conn, 7).unwrap().unwrap();
        assert_eq!((state.failed, state.attempts), (false, 1));

        outbox::fail(&conn, &due[0], false, "HTTP 422", t0).unwrap();
        assert!(job_state(&conn, 7).unwrap().unwrap().failed);
        assert_eq!(
            enqueue(&conn, 7, "{}", later, 10, false).unwrap(),
            Queued::Already
        );
        assert!(
            job_state(&conn, 7).unwrap().unwrap().failed,
            "the log does not revive it"
        );
        enqueue(&conn, 7, "{}", later, 10, true).unwrap();
        let state = job_state(&conn, 7).unwrap().unwrap();
        assert_eq!((state.failed, state.attempts), (false, 0), "an agent does");

        assert_eq!(
            enqueue(&conn, 8, "{}", t0, 1, false).unwrap(),
            Queued::Dropped
        );
        assert_eq!(job_state(&conn, 8).unwrap(), None);
    }
}
