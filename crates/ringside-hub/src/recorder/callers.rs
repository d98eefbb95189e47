//! Keeping recent journal entries in step with the directory: when callers become known
//! (a Zammad sync pass, an import), the calls of the last [`REFRESH_DAYS`] days get the
//! directory's current match, as Zammad back-fills its caller log
//! (`UpdateCtiLogsByCallerJob`). Each changed call is appended as a call event, so the
//! apps' journals and open popups update.

use crate::store::Db;
use ringside_core::call::{Call, Direction};
use ringside_core::caller::CallerMatch;
use ringside_core::number::{self, DefaultCountry};
use ringside_core::stream::EventBody;
use time::{Duration, OffsetDateTime};

use super::commit::EventSink;
use crate::store::{self, StoreError};

/// How far back a caller refresh reaches, as in Zammad.
pub const REFRESH_DAYS: i64 = 30;

/// The most calls one refresh looks at: a sync of 100,000 customers costs no more.
pub(super) const REFRESH_MAX_CALLS: usize = 10_000;

/// The calls one change of the writer looks at: a refresh holds the writer for a few
/// milliseconds at a time, and webhooks are written between its batches.
pub(super) const REFRESH_BATCH: usize = 500;

/// What one batch of a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Batch {
    /// The calls looked at.
    pub looked: usize,
    /// The calls whose match changed.
    pub changed: usize,
    /// Where the next batch starts (ids below this); `None`: the window is done.
    pub next_before: Option<i64>,
}

/// The start of the window of a refresh at `now`.
pub(super) fn window_start(now: OffsetDateTime) -> OffsetDateTime {
    now - Duration::days(REFRESH_DAYS)
}

/// Gives the calls with ids below `before` that started at or after `since` (at most
/// `limit`, newest first) the directory's current match, appending an event for each
/// call that changed.
pub(super) fn refresh_batch(
    db: &mut Db<'_>,
    sink: &mut EventSink,
    country: &DefaultCountry,
    since: OffsetDateTime,
    before: i64,
    limit: usize,
    now: OffsetDateTime,
) -> Result<Batch, StoreError> {
    let calls = store::calls::newest_before(db, before, limit as i64)?;
    let mut batch = Batch {
        next_before: (calls.len() == limit)
            .then(|| calls.last().map(|c| c.id))
            .flatten(),
        ..Batch::default()
    };
    for call in calls {
        // Calls are journaled in the order they start: the first older one ends the window.
        if call.initialized_at.is_some_and(|at| at < since) {
            batch.next_before = None;
            break;
        }
        batch.looked += 1;
        let remote = call.remote_party();
        let Some(e164) = number::normalize(remote, country) else {
            continue;
        };
        let current = store::directory::lookup(db, e164.as_str())?.map(CallerMatch::capped);
        if let Some(rematched) = rematch(&call, current, now) {
            store::calls::update(db, &rematched)?;
            sink.append(
                db,
                now,
                EventBody::Call {
                    call: Box::new(rematched),
                },
            )?;
            batch.changed += 1;
        }
    }
    Ok(batch)
}

/// The call with `current` as its caller, or `None` when it has that match already. The
/// display name of the caller's side follows the match, unless something else (the agent
/// who answered an outbound call) replaced it since.
fn rematch(call: &Call, current: Option<CallerMatch>, now: OffsetDateTime) -> Option<Call> {
    if call.caller == current {
        return None;
    }
    let mut changed = call.clone();
    let before = call.caller.as_ref().and_then(CallerMatch::comment);
    let after = current.as_ref().and_then(CallerMatch::comment);
    let side = match call.direction {
        Direction::In => &mut changed.from_comment,
        Direction::Out => &mut changed.to_comment,
    };
    if *side == before {
        *side = after;
    }
    changed.caller = current;
    changed.updated_at = now;
    Some(changed)
}

#[cfg(test)]
mod tests {
    use ringside_core::call::{CallState, Provider};
    use ringside_core::caller::{ContactCard, ContactSource, MatchLevel};

    use super::*;

    fn matched(name: &str) -> CallerMatch {
        CallerMatch {
            number: "+4930123456".into(),
            level: MatchLevel::Known,
            contacts: vec![ContactCard {
                id: Some(1),
                name: name.into(),
                organization: None,
                email: None,
                profile_url: None,
                new_ticket_url: None,
                source: ContactSource::Zammad,
                tickets: vec![],
            }],
        }
    }

    fn call(direction: Direction, caller: Option<CallerMatch>) -> Call {
        let comment = caller.as_ref().and_then(CallerMatch::comment);
        let (from_comment, to_comment) = match direction {
            Direction::In => (comment, Some("support".to_owned())),
            Direction::Out => (Some("Anna".to_owned()), comment),
        };
        Call {
            id: 7,
            provider: Provider::Generic,
            call_id: "c".into(),
            direction,
            state: CallState::Ended,
            from: "030123456".into(),
            from_comment,
            from_pretty: String::new(),
            to: "030123456".into(),
            to_comment,
            to_pretty: String::new(),
            queue: None,
            comment: None,
            done: false,
            initialized_at: Some(OffsetDateTime::UNIX_EPOCH),
            start_at: None,
            end_at: None,
            duration_waiting_time: None,
            duration_talking_time: None,
            answered_by: None,
            offered_to: None,
            caller,
            ticket: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_same_match_changes_nothing() {
        let call = call(Direction::In, Some(matched("Nicole")));
        assert_eq!(
            rematch(&call, Some(matched("Nicole")), OffsetDateTime::now_utc()),
            None
        );
    }

    #[test]
    fn a_new_match_names_the_callers_side() {
        let now = OffsetDateTime::now_utc();
        let inbound =
            rematch(&call(Direction::In, None), Some(matched("Nicole")), now).expect("changed");
        assert_eq!(inbound.from_comment.as_deref(), Some("Nicole"));
        assert_eq!(inbound.to_comment.as_deref(), Some("support"));
        assert_eq!(inbound.caller, Some(matched("Nicole")));
        assert_eq!(inbound.updated_at, now);
        let outbound =
            rematch(&call(Direction::Out, None), Some(matched("Nicole")), now).expect("changed");
        assert_eq!(outbound.from_comment.as_deref(), Some("Anna"));
        assert_eq!(outbound.to_comment.as_deref(), Some("Nicole"));
    }

    #[test]
    fn a_name_the_match_did_not_give_is_kept() {
        let mut answered = call(Direction::Out, Some(matched("Nicole")));
        answered.to_comment = Some("Ben".into());
        let changed = rematch(
            &answered,
            Some(matched("Nicola")),
            OffsetDateTime::now_utc(),
        )
        .expect("changed");
        assert_eq!(changed.to_comment.as_deref(), Some("Ben"));
        assert_eq!(changed.caller, Some(matched("Nicola")));
    }
}
