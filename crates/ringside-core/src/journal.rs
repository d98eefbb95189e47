//! The journal's rules: how one event changes one call.
//!
//! They follow Zammad's caller log (`Cti::Log.process`) with deliberate improvements:
//! - a repeated event changes nothing and is not an error (a PBX retry never fails and never
//!   pops a second time);
//! - an event arriving out of order never moves a call backwards (an `answer` after the
//!   `hangup`, a `newCall` after the `answer`);
//! - an `answer` or `hangup` for a call the hub has not seen creates the entry when it
//!   carries direction, from and to;
//! - a second `hangup` does not flip `done` back to true (Zammad's quirk).

use thiserror::Error;
use time::OffsetDateTime;

use crate::call::{Call, CallEvent, CallState, Direction, EventKind, Provider};
use crate::caller::CallerMatch;

/// What the hub found out about an event before applying it: facts that need IO (the
/// directory, the agents) or configuration, computed by the caller of [`apply`].
#[derive(Debug, Clone, Default)]
pub struct Enrichment {
    /// The directory's match for the other party (caller of an inbound call, callee of an
    /// outbound one).
    pub caller: Option<CallerMatch>,
    /// `from` formatted for humans.
    pub from_pretty: Option<String>,
    /// `to` formatted for humans.
    pub to_pretty: Option<String>,
    /// The login of the agent who picked up, when the event tells.
    pub answered_by: Option<String>,
    /// The agents a new call is meant for (`None`: everyone).
    pub offered_to: Option<Vec<String>>,
}

/// The effect of one event on the journal.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A new entry (to be inserted).
    Created(Call),
    /// The entry changed (to be updated).
    Changed(Call),
    /// Nothing changed: a repeated or out-of-order event.
    Unchanged,
}

/// Why an event could not be applied. The messages are shown to the admin who set up the PBX.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JournalError {
    /// The event name is not `newCall`, `answer` or `hangup`.
    #[error("Unknown event {0:?}")]
    UnknownEvent(String),
    /// The event has no call id.
    #[error("missing 'callId' (or 'call_id')")]
    MissingCallId,
    /// A `newCall` without both numbers.
    #[error("'newCall' needs both 'from' and 'to'")]
    MissingNumbers,
    /// An event for a call the hub has not seen, without what it takes to create the entry.
    #[error(
        "No such call_id {0}; to create it, the event must carry 'direction', 'from' and 'to'"
    )]
    UnknownCall(String),
    /// The direction is neither `in` nor `out`.
    #[error("Invalid 'direction'!")]
    InvalidDirection,
    /// A field is longer, or repeated more often, than any real one.
    #[error(transparent)]
    OverLimit(#[from] crate::limits::OverLimit),
}

/// Applies one event to the call it is about (`existing`, if the journal has it).
pub fn apply(
    provider: Provider,
    existing: Option<&Call>,
    event: &CallEvent,
    facts: &Enrichment,
    now: OffsetDateTime,
) -> Result<Outcome, JournalError> {
    let kind = event
        .kind
        .ok_or(JournalError::UnknownEvent(String::new()))?;
    if event.call_id.is_empty() {
        return Err(JournalError::MissingCallId);
    }
    match (kind, existing) {
        (EventKind::NewCall, Some(_)) => Ok(Outcome::Unchanged),
        (EventKind::NewCall, None) => {
            let call = new_call(provider, event, facts, now)?;
            Ok(Outcome::Created(call))
        }
        (EventKind::Answer, Some(call)) if expired(call) => {
            Ok(Outcome::Changed(answer(reopened(call), event, facts, now)))
        }
        (EventKind::Hangup, Some(call)) if expired(call) => {
            Ok(Outcome::Changed(hangup(reopened(call), event, now)))
        }
        (EventKind::Answer, Some(call)) => Ok(match call.state {
            CallState::Ringing => Outcome::Changed(answer(call.clone(), event, facts, now)),
            CallState::Answered | CallState::Ended => Outcome::Unchanged,
        }),
        (EventKind::Hangup, Some(call)) => Ok(match call.state {
            CallState::Ringing | CallState::Answered => {
                Outcome::Changed(hangup(call.clone(), event, now))
            }
            CallState::Ended => Outcome::Unchanged,
        }),
        (EventKind::Answer, None) => {
            let call = created_late(provider, event, facts, now)?;
            Ok(Outcome::Created(answer(call, event, facts, now)))
        }
        (EventKind::Hangup, None) => {
            let call = created_late(provider, event, facts, now)?;
            Ok(Outcome::Created(hangup(call, event, now)))
        }
    }
}

/// Whether the hub, not the PBX, closed the call because it rang too long: such an end is
/// provisional, and the PBX's own answer or hangup still counts (a caller may wait in a queue
/// longer than the ring timeout).
fn expired(call: &Call) -> bool {
    call.state == CallState::Ended && call.comment.as_deref() == Some(RING_TIMEOUT_CAUSE)
}

/// A call the janitor closed, back to ringing, so that the PBX's event applies to it.
fn reopened(call: &Call) -> Call {
    Call {
        state: CallState::Ringing,
        end_at: None,
        duration_waiting_time: None,
        ..call.clone()
    }
}

/// Closes a call the PBX never ended: one left ringing past the ring timeout, as a hangup
/// nobody answered (cause [`RING_TIMEOUT_CAUSE`]), or one answered longer ago than anybody
/// talks, whose hangup was lost (cause [`TALK_TIMEOUT_CAUSE`]).
pub fn expire(call: &Call, now: OffsetDateTime) -> Call {
    let cause = match call.state {
        CallState::Answered => TALK_TIMEOUT_CAUSE,
        CallState::Ringing | CallState::Ended => RING_TIMEOUT_CAUSE,
    };
    let event = CallEvent {
        kind: Some(EventKind::Hangup),
        call_id: call.call_id.clone(),
        cause: Some(cause.to_owned()),
        ..CallEvent::default()
    };
    hangup(call.clone(), &event, now)
}

/// The cause the janitor records for a call closed after the ring timeout.
pub const RING_TIMEOUT_CAUSE: &str = "ringTimeout";

/// The cause the janitor records for an answered call whose hangup never came.
pub const TALK_TIMEOUT_CAUSE: &str = "talkTimeout";

fn new_call(
    provider: Provider,
    event: &CallEvent,
    facts: &Enrichment,
    now: OffsetDateTime,
) -> Result<Call, JournalError> {
    let direction = event.direction.ok_or(JournalError::InvalidDirection)?;
    let (Some(from), Some(to)) = (non_empty(&event.from), non_empty(&event.to)) else {
        return Err(JournalError::MissingNumbers);
    };
    let match_comment = facts.caller.as_ref().and_then(CallerMatch::comment);
    let (from_comment, to_comment, queue) = match direction {
        // Zammad: the user if present (not blank), else the queue.
        Direction::In => (
            match_comment,
            event
                .user
                .clone()
                .filter(|user| !user.trim().is_empty())
                .or_else(|| event.queue.clone()),
            event.queue.clone().unwrap_or_else(|| to.to_owned()),
        ),
        Direction::Out => (
            event.user.clone(),
            match_comment,
            event.queue.clone().unwrap_or_else(|| from.to_owned()),
        ),
    };
    Ok(Call {
        id: 0,
        provider,
        call_id: event.call_id.clone(),
        direction,
        state: CallState::Ringing,
        from: from.to_owned(),
        from_comment,
        from_pretty: facts.from_pretty.clone().unwrap_or_else(|| from.to_owned()),
        to: to.to_owned(),
        to_comment,
        to_pretty: facts.to_pretty.clone().unwrap_or_else(|| to.to_owned()),
        queue: Some(queue),
        comment: event.cause.clone(),
        done: direction == Direction::Out,
        initialized_at: Some(now),
        start_at: None,
        end_at: None,
        duration_waiting_time: None,
        duration_talking_time: None,
        answered_by: None,
        offered_to: facts.offered_to.clone(),
        caller: facts.caller.clone().map(CallerMatch::capped),
        ticket: None,
        created_at: now,
        updated_at: now,
    })
}

/// An entry for a call whose `newCall` the hub never saw.
fn created_late(
    provider: Provider,
    event: &CallEvent,
    facts: &Enrichment,
    now: OffsetDateTime,
) -> Result<Call, JournalError> {
    let complete = event.direction.is_some()
        && non_empty(&event.from).is_some()
        && non_empty(&event.to).is_some();
    if !complete {
        return Err(JournalError::UnknownCall(event.call_id.clone()));
    }
    let ringing = CallEvent {
        kind: Some(EventKind::NewCall),
        // The user of an answer names who picked up, not whom the call was for.
        user: None,
        ..event.clone()
    };
    new_call(provider, &ringing, facts, now)
}

fn answer(mut call: Call, event: &CallEvent, facts: &Enrichment, now: OffsetDateTime) -> Call {
    call.state = CallState::Answered;
    call.start_at = Some(now);
    call.duration_waiting_time = call.initialized_at.map(|at| whole_seconds(at, now));
    if let Some(user) = &event.user {
        call.to_comment = Some(user.clone());
    }
    if facts.answered_by.is_some() {
        call.answered_by = facts.answered_by.clone();
    }
    call.done = true;
    call.comment = event.cause.clone();
    call.updated_at = now;
    call
}

fn hangup(mut call: Call, event: &CallEvent, now: OffsetDateTime) -> Call {
    let inbound = event.direction.unwrap_or(call.direction) == Direction::In;
    let unanswered =
        call.state == CallState::Ringing && event.cause.as_deref() != Some("forwarded");
    let voicemail = call.to_comment.as_deref() == Some("voicemail");
    call.done = !(inbound && (unanswered || voicemail));
    call.state = CallState::Ended;
    call.end_at = Some(now);
    if let Some(start) = call.start_at {
        call.duration_talking_time = Some(whole_seconds(start, now));
    } else if call.duration_waiting_time.is_none() {
        call.duration_waiting_time = call.initialized_at.map(|at| whole_seconds(at, now));
    }
    call.comment = event.cause.clone();
    call.updated_at = now;
    call
}

fn whole_seconds(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    to.unix_timestamp() - from.unix_timestamp()
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-21 10:00:00 UTC);

    fn at(seconds: i64) -> OffsetDateTime {
        T0 + time::Duration::seconds(seconds)
    }

    fn event(kind: EventKind, direction: Direction) -> CallEvent {
        CallEvent {
            kind: Some(kind),
            call_id: "c1".into(),
            direction: Some(direction),
            from: Some("4930609854180".into()),
            to: Some("4930609811111".into()),
            ..CallEvent::default()
        }
    }

    fn with(event: CallEvent, f: impl FnOnce(&mut CallEvent)) -> CallEvent {
        let mut event = event;
        f(&mut event);
        event
    }

    /// Plays a sequence of (seconds, event) and returns the final call.
    fn play(events: &[(i64, CallEvent)]) -> Call {
        let mut call: Option<Call> = None;
        for (seconds, event) in events {
            let outcome = apply(
                Provider::Generic,
                call.as_ref(),
                event,
                &Enrichment::default(),
                at(*seconds),
            )
            .expect("event applies");
            match outcome {
                Outcome::Created(c) | Outcome::Changed(c) => call = Some(c),
                Outcome::Unchanged => {}
            }
        }
        call.expect("a call")
    }

    #[test]
    fn inbound_new_call_is_not_done_and_queue_defaults_to_to() {
        let call = play(&[(0, event(EventKind::NewCall, Direction::In))]);
        assert_eq!(call.state, CallState::Ringing);
        assert!(!call.done);
        assert_eq!(call.queue.as_deref(), Some("4930609811111"));
        assert_eq!(call.initialized_at, Some(T0));
    }

    #[test]
    fn inbound_call_for_a_queue_and_no_user_shows_the_queue_as_to_comment() {
        let named = |user: Option<&str>| {
            play(&[(
                0,
                with(event(EventKind::NewCall, Direction::In), |e| {
                    e.queue = Some("support".into());
                    e.user = user.map(str::to_owned);
                }),
            )])
        };
        // Zammad: `to_comment = user if user.present?, else queue if queue.present?`; a
        // blank user is not present.
        for user in [None, Some(""), Some("  ")] {
            let call = named(user);
            assert_eq!(call.to_comment.as_deref(), Some("support"), "user {user:?}");
            assert_eq!(call.queue.as_deref(), Some("support"));
        }
        assert_eq!(named(Some("Anna")).to_comment.as_deref(), Some("Anna"));
        let no_queue = play(&[(0, event(EventKind::NewCall, Direction::In))]);
        assert_eq!(no_queue.to_comment, None);
    }

    #[test]
    fn outbound_calls_are_done_and_queue_defaults_to_from() {
        let call = play(&[
            (0, event(EventKind::NewCall, Direction::Out)),
            (5, event(EventKind::Hangup, Direction::Out)),
        ]);
        assert!(call.done);
        assert_eq!(call.queue.as_deref(), Some("4930609854180"));
    }

    #[test]
    fn answered_inbound_call_is_done_with_waiting_and_talking_time() {
        let call = play(&[
            (0, event(EventKind::NewCall, Direction::In)),
            (
                7,
                with(event(EventKind::Answer, Direction::In), |e| {
                    e.user = Some("Anna Agent".into())
                }),
            ),
            (
                67,
                with(event(EventKind::Hangup, Direction::In), |e| {
                    e.cause = Some("normalClearing".into())
                }),
            ),
        ]);
        assert!(call.done);
        assert_eq!(call.state, CallState::Ended);
        assert_eq!(call.duration_waiting_time, Some(7));
        assert_eq!(call.duration_talking_time, Some(60));
        assert_eq!(call.to_comment.as_deref(), Some("Anna Agent"));
        assert_eq!(call.comment.as_deref(), Some("normalClearing"));
    }

    #[test]
    fn missed_inbound_call_stays_not_done_with_waiting_time_only() {
        let call = play(&[
            (0, event(EventKind::NewCall, Direction::In)),
            (
                12,
                with(event(EventKind::Hangup, Direction::In), |e| {
                    e.cause = Some("cancel".into())
                }),
            ),
        ]);
        assert!(!call.done);
        assert_eq!(call.duration_waiting_time, Some(12));
        assert_eq!(call.duration_talking_time, None);
        assert!(call.is_open_missed());
    }

    #[test]
    fn voicemail_is_done_while_answered_and_not_done_after_hangup() {
        let answered = play(&[
            (0, event(EventKind::NewCall, Direction::In)),
            (
                20,
                with(event(EventKind::Answer, Direction::In), |e| {
                    e.user = Some("voicemail".into())
                }),
            ),
        ]);
        assert!(answered.done);
        let ended = play(&[
            (0, event(EventKind::NewCall, Direction::In)),
            (
                20,
                with(event(EventKind::Answer, Direction::In), |e| {
                    e.user = Some("voicemail".into())
                }),
            ),
            (50, event(EventKind::Hangup, Direction::In)),
        ]);
        assert!(!ended.done);
        assert_eq!(ended.duration_talking_time, Some(30));
    }

    #[test]
    fn forwarded_unanswered_call_is_done() {
        let call = play(&[
            (0, event(EventKind::NewCall, Direction::In)),
            (
                3,
                with(event(EventKind::Hangup, Direction::In), |e| {
                    e.cause = Some("forwarded".into())
                }),
            ),
        ]);
        assert!(call.done);
    }

    #[test]
    fn repeated_events_change_nothing() {
        let ringing = play(&[(0, event(EventKind::NewCall, Direction::In))]);
        let again = apply(
            Provider::Generic,
            Some(&ringing),
            &event(EventKind::NewCall, Direction::In),
            &Enrichment::default(),
            at(1),
        );
        assert_eq!(again, Ok(Outcome::Unchanged));

        let ended = play(&[
            (0, event(EventKind::NewCall, Direction::In)),
            (9, event(EventKind::Hangup, Direction::In)),
            (10, event(EventKind::Hangup, Direction::In)),
        ]);
        // Zammad would set done back to true on the second hangup.
        assert!(!ended.done);
        assert_eq!(ended.end_at, Some(at(9)));
    }

    #[test]
    fn answer_after_hangup_is_ignored() {
        let call = play(&[
            (0, event(EventKind::NewCall, Direction::In)),
            (9, event(EventKind::Hangup, Direction::In)),
            (10, event(EventKind::Answer, Direction::In)),
        ]);
        assert_eq!(call.state, CallState::Ended);
        assert!(!call.done);
        assert_eq!(call.start_at, None);
    }

    #[test]
    fn new_call_after_answer_does_not_move_back() {
        let call = play(&[
            (0, event(EventKind::Answer, Direction::In)),
            (1, event(EventKind::NewCall, Direction::In)),
        ]);
        assert_eq!(call.state, CallState::Answered);
    }

    #[test]
    fn unknown_call_is_created_from_a_complete_event() {
        let call = play(&[(
            4,
            with(event(EventKind::Hangup, Direction::In), |e| {
                e.cause = Some("cancel".into())
            }),
        )]);
        assert_eq!(call.state, CallState::Ended);
        assert!(!call.done);
        assert_eq!(call.duration_waiting_time, Some(0));
    }

    #[test]
    fn unknown_call_without_numbers_is_an_error() {
        let bare = CallEvent {
            kind: Some(EventKind::Answer),
            call_id: "nope".into(),
            direction: Some(Direction::In),
            ..CallEvent::default()
        };
        let result = apply(Provider::Generic, None, &bare, &Enrichment::default(), T0);
        assert_eq!(result, Err(JournalError::UnknownCall("nope".into())));
    }

    #[test]
    fn new_call_needs_both_numbers() {
        let result = apply(
            Provider::Generic,
            None,
            &with(event(EventKind::NewCall, Direction::In), |e| e.to = None),
            &Enrichment::default(),
            T0,
        );
        assert_eq!(result, Err(JournalError::MissingNumbers));
    }

    #[test]
    fn hangup_overrides_a_manual_done_flag() {
        let mut ringing = play(&[(0, event(EventKind::NewCall, Direction::In))]);
        ringing.done = true;
        let outcome = apply(
            Provider::Generic,
            Some(&ringing),
            &event(EventKind::Hangup, Direction::In),
            &Enrichment::default(),
            at(5),
        );
        let Ok(Outcome::Changed(call)) = outcome else {
            panic!("expected a change, got {outcome:?}")
        };
        assert!(!call.done);
    }

    #[test]
    fn comments_follow_direction() {
        let facts = Enrichment {
            caller: Some(CallerMatch {
                number: "+4930609854180".into(),
                level: crate::caller::MatchLevel::Maybe,
                contacts: vec![crate::caller::ContactCard {
                    id: None,
                    name: "Bea".into(),
                    organization: None,
                    email: None,
                    profile_url: None,
                    new_ticket_url: None,
                    source: crate::caller::ContactSource::Import,
                    tickets: vec![],
                }],
            }),
            ..Enrichment::default()
        };
        let inbound = with(event(EventKind::NewCall, Direction::In), |e| {
            e.user = Some("Anna, Ben".into())
        });
        let Ok(Outcome::Created(call)) = apply(Provider::Generic, None, &inbound, &facts, T0)
        else {
            panic!("created")
        };
        assert_eq!(call.from_comment.as_deref(), Some("maybe Bea"));
        assert_eq!(call.to_comment.as_deref(), Some("Anna, Ben"));

        let outbound = with(event(EventKind::NewCall, Direction::Out), |e| {
            e.user = Some("Anna".into())
        });
        let Ok(Outcome::Created(call)) = apply(Provider::Generic, None, &outbound, &facts, T0)
        else {
            panic!("created")
        };
        assert_eq!(call.from_comment.as_deref(), Some("Anna"));
        assert_eq!(call.to_comment.as_deref(), Some("maybe Bea"));
    }

    #[test]
    fn the_pbx_overrules_the_ring_timeout() {
        let ringing = play(&[(0, event(EventKind::NewCall, Direction::In))]);
        let expired = expire(&ringing, at(120));
        let Ok(Outcome::Changed(answered)) = apply(
            Provider::Generic,
            Some(&expired),
            &event(EventKind::Answer, Direction::In),
            &Enrichment::default(),
            at(150),
        ) else {
            panic!("a late answer applies")
        };
        assert_eq!(answered.state, CallState::Answered);
        assert!(answered.done);
        assert_eq!(answered.duration_waiting_time, Some(150));
        assert_eq!(answered.end_at, None);

        let Ok(Outcome::Changed(hung_up)) = apply(
            Provider::Generic,
            Some(&expired),
            &with(event(EventKind::Hangup, Direction::In), |e| {
                e.cause = Some("cancel".into())
            }),
            &Enrichment::default(),
            at(130),
        ) else {
            panic!("a late hangup applies")
        };
        assert_eq!(hung_up.comment.as_deref(), Some("cancel"));
        assert_eq!(hung_up.end_at, Some(at(130)));
        assert!(!hung_up.done);
    }

    #[test]
    fn an_answered_call_without_a_hangup_is_closed_as_done() {
        let answered = play(&[
            (0, event(EventKind::NewCall, Direction::In)),
            (5, event(EventKind::Answer, Direction::In)),
        ]);
        let closed = expire(&answered, at(50_000));
        assert_eq!(closed.state, CallState::Ended);
        assert!(closed.done);
        assert_eq!(closed.comment.as_deref(), Some(TALK_TIMEOUT_CAUSE));
    }

    #[test]
    fn expired_ringing_call_is_missed() {
        let ringing = play(&[(0, event(EventKind::NewCall, Direction::In))]);
        let expired = expire(&ringing, at(120));
        assert_eq!(expired.state, CallState::Ended);
        assert!(!expired.done);
        assert_eq!(expired.comment.as_deref(), Some(RING_TIMEOUT_CAUSE));
        assert_eq!(expired.duration_waiting_time, Some(120));
    }
}
