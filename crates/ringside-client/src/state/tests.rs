use std::time::Duration;

use ringside_core::agent::{Presence, Role};
use ringside_core::call::{Call, CallState, Direction, Provider};
use ringside_core::stream::{EventBody, ResumeFrom, ServerMessage, Snapshot, StreamEvent};
use time::macros::datetime;
use time::OffsetDateTime;

use super::{ClientState, Effect, PopupOn, DEFAULT_POPUP_WINDOW};

const ME: &str = "alice";
const T0: OffsetDateTime = datetime!(2026-01-05 09:00:00 UTC);

fn at(secs: i64) -> OffsetDateTime {
    T0 + time::Duration::seconds(secs)
}

/// An inbound call ringing for everyone since T0.
fn ringing(id: i64) -> Call {
    Call {
        id,
        provider: Provider::Generic,
        call_id: format!("pbx-{id}"),
        direction: Direction::In,
        state: CallState::Ringing,
        from: "+4930123".into(),
        from_comment: None,
        from_pretty: "+49 30 123".into(),
        to: "+4930999".into(),
        to_comment: None,
        to_pretty: "+49 30 999".into(),
        queue: None,
        comment: None,
        done: false,
        initialized_at: Some(T0),
        start_at: None,
        end_at: None,
        duration_waiting_time: None,
        duration_talking_time: None,
        answered_by: None,
        offered_to: None,
        caller: None,
        ticket: None,
        created_at: T0,
        updated_at: T0,
    }
}

fn answered(id: i64, by: Option<&str>, secs: i64) -> Call {
    Call {
        state: CallState::Answered,
        answered_by: by.map(str::to_owned),
        start_at: Some(at(secs)),
        done: true,
        updated_at: at(secs),
        ..ringing(id)
    }
}

fn ended(call: Call, secs: i64) -> Call {
    Call {
        state: CallState::Ended,
        end_at: Some(at(secs)),
        updated_at: at(secs),
        ..call
    }
}

fn missed(id: i64, secs: i64) -> Call {
    ended(ringing(id), secs)
}

fn presence(login: &str, dnd: bool) -> Presence {
    Presence {
        login: login.into(),
        name: login.to_uppercase(),
        role: Role::Agent,
        numbers: vec![],
        identities: Default::default(),
        online: true,
        dnd,
        out_of_office: false,
        on_call: None,
    }
}

fn event_in(epoch: &str, seq: u64, call: Call) -> ServerMessage {
    ServerMessage::Event(StreamEvent {
        epoch: epoch.into(),
        seq,
        at: call.updated_at,
        body: EventBody::Call {
            call: Box::new(call),
        },
    })
}

fn event(seq: u64, call: Call) -> ServerMessage {
    event_in("e1", seq, call)
}

fn presence_event(seq: u64, presence: Presence) -> ServerMessage {
    ServerMessage::Event(StreamEvent {
        epoch: "e1".into(),
        seq,
        at: T0,
        body: EventBody::Presence { presence },
    })
}

fn snapshot(epoch: &str, seq: u64, calls: Vec<Call>, presence: Vec<Presence>) -> ServerMessage {
    let (open_missed_calls, active_calls) = calls.into_iter().partition(Call::is_open_missed);
    ServerMessage::Snapshot(Snapshot {
        epoch: epoch.into(),
        seq,
        recovered: false,
        active_calls,
        open_missed_calls,
        presence,
    })
}

/// A state that has applied an empty snapshot of epoch `e1` at seq 10.
fn synced() -> ClientState {
    let mut state = ClientState::new(ME, DEFAULT_POPUP_WINDOW);
    state.apply(snapshot("e1", 10, vec![], vec![]), T0);
    state
}

fn show(call: Call) -> Effect {
    Effect::ShowPopup(Box::new(call))
}

fn update(call: Call) -> Effect {
    Effect::UpdatePopup(Box::new(call))
}

fn position(state: &ClientState) -> (String, u64) {
    let ResumeFrom { epoch, seq } = state.position().cloned().unwrap();
    (epoch, seq)
}

#[test]
fn a_ringing_call_for_everyone_pops_up() {
    let mut state = synced();
    let effects = state.apply(event(11, ringing(1)), at(2));
    assert_eq!(effects, [show(ringing(1)), Effect::JournalChanged]);
    assert_eq!(position(&state), ("e1".into(), 11));
    assert_eq!(state.active_calls(), [&ringing(1)]);
}

#[test]
fn duplicate_events_change_nothing() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    assert_eq!(state.apply(event(11, ringing(1)), at(2)), []);
    assert_eq!(
        state.apply(event(5, ringing(1)), at(2)),
        [],
        "seq already applied"
    );
    // The same version under a new seq (a PBX retry the hub logged twice) never pops twice.
    assert_eq!(state.apply(event(12, ringing(1)), at(2)), []);
    assert_eq!(position(&state), ("e1".into(), 12));
}

#[test]
fn a_ringing_update_refreshes_the_open_popup() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    let found = Call {
        from_comment: Some("Anna".into()),
        updated_at: at(1),
        ..ringing(1)
    };
    assert_eq!(
        state.apply(event(12, found.clone()), at(2)),
        [update(found), Effect::JournalChanged]
    );
}

#[test]
fn replayed_ringing_after_answer_never_pops() {
    let mut state = synced();
    state.apply(event(11, answered(1, Some("bob"), 5)), at(5));
    assert_eq!(state.apply(event(12, ringing(1)), at(6)), []);
    assert_eq!(state.call(1).unwrap().state, CallState::Answered);

    state.apply(event(13, missed(2, 20)), at(20));
    assert_eq!(state.apply(event(14, ringing(2)), at(21)), []);
    assert_eq!(state.call(2).unwrap().state, CallState::Ended);
}

#[test]
fn out_of_order_events_never_move_a_call_backwards() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    let hung_up = ended(answered(1, Some(ME), 5), 30);
    state.apply(event(13, hung_up.clone()), at(30));
    // seq 12 arrives late: already passed.
    assert_eq!(state.apply(event(12, answered(1, Some(ME), 5)), at(31)), []);
    // A later seq carrying an older version (two hub writers racing): ignored.
    assert_eq!(state.apply(event(14, answered(1, Some(ME), 5)), at(31)), []);
    // Same state, older updated_at: ignored.
    let older = ended(answered(1, Some(ME), 5), 29);
    assert_eq!(state.apply(event(15, older), at(31)), []);
    assert_eq!(state.call(1), Some(&hung_up));
    // Same state, newer updated_at (e.g. a note): accepted, no popup effect.
    let newer = Call {
        comment: Some("normalClearing".into()),
        updated_at: at(40),
        ..hung_up
    };
    assert_eq!(
        state.apply(event(16, newer.clone()), at(40)),
        [Effect::JournalChanged]
    );
    assert_eq!(state.call(1), Some(&newer));
}

#[test]
fn events_before_the_first_snapshot_are_ignored() {
    let mut state = ClientState::new(ME, DEFAULT_POPUP_WINDOW);
    assert_eq!(state.apply(event(1, ringing(1)), at(1)), []);
    assert!(state.position().is_none());
    assert!(state.active_calls().is_empty());
}

#[test]
fn an_epoch_change_waits_for_a_snapshot() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    // The hub lost its history: its seqs start over in a new epoch.
    assert_eq!(state.apply(event_in("e2", 1, ringing(7)), at(2)), []);
    assert_eq!(position(&state), ("e1".into(), 11));

    let effects = state.apply(snapshot("e2", 3, vec![ringing(1)], vec![]), at(3));
    assert_eq!(
        effects,
        [
            Effect::ClosePopup(1),
            show(ringing(1)),
            Effect::JournalChanged,
            Effect::PresenceChanged
        ],
        "popups of the old epoch start afresh"
    );
    assert_eq!(position(&state), ("e2".into(), 3));
    assert_eq!(
        state.apply(event_in("e2", 4, answered(1, Some(ME), 4)), at(4)),
        [update(answered(1, Some(ME), 4)), Effect::JournalChanged]
    );
}

#[test]
fn a_snapshot_replaces_calls_and_presence() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    state.apply(event(12, ringing(2)), at(1));
    state.apply(presence_event(13, presence("bob", false)), at(1));

    let calls = vec![answered(2, Some("bob"), 3), ringing(3), missed(4, 2)];
    let effects = state.apply(snapshot("e1", 20, calls, vec![presence(ME, true)]), at(5));
    assert_eq!(
        effects,
        [
            Effect::ClosePopup(1),
            Effect::ClosePopup(2),
            show(ringing(3)),
            Effect::JournalChanged,
            Effect::PresenceChanged
        ]
    );
    assert_eq!(position(&state), ("e1".into(), 20));
    assert_eq!(state.call(1), None);
    assert_eq!(
        state.active_calls(),
        [&ringing(3), &answered(2, Some("bob"), 3)]
    );
    assert_eq!(state.open_missed_calls(), [&missed(4, 2)]);
    assert_eq!(state.presence(), [&presence(ME, true)]);
    assert!(state.my_presence().unwrap().dnd);

    // Applying it again pops nothing twice.
    let again = snapshot(
        "e1",
        20,
        vec![answered(2, Some("bob"), 3), ringing(3), missed(4, 2)],
        vec![presence(ME, true)],
    );
    assert_eq!(
        state.apply(again, at(6)),
        [Effect::JournalChanged, Effect::PresenceChanged]
    );
}

#[test]
fn a_snapshot_behind_the_position_still_replaces_the_state() {
    // A hub restored from a backup: its snapshot is at an earlier seq of the same epoch, and
    // it is the truth now.
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    state.apply(presence_event(12, presence("bob", false)), at(1));
    let effects = state.apply(
        snapshot("e1", 9, vec![missed(4, 2)], vec![presence(ME, false)]),
        at(2),
    );
    assert_eq!(
        effects,
        [
            Effect::ClosePopup(1),
            Effect::JournalChanged,
            Effect::PresenceChanged
        ]
    );
    assert_eq!(position(&state), ("e1".into(), 9));
    assert_eq!(state.call(1), None);
    assert_eq!(state.open_missed_calls(), [&missed(4, 2)]);
    assert_eq!(state.presence(), [&presence(ME, false)]);
    // And the events after it apply.
    assert_eq!(
        state.apply(event(10, ringing(5)), at(3)),
        [show(ringing(5)), Effect::JournalChanged]
    );
}

#[test]
fn stale_ringing_calls_go_to_the_journal_only() {
    let mut state = synced();
    let window = DEFAULT_POPUP_WINDOW.as_secs() as i64;
    assert_eq!(
        state.apply(event(11, ringing(1)), at(window + 1)),
        [Effect::JournalChanged]
    );
    assert_eq!(
        state.active_calls(),
        [&ringing(1)],
        "still shown as ringing"
    );
    // On the boundary it still pops.
    assert_eq!(
        state.apply(event(12, ringing(2)), at(window)),
        [show(ringing(2)), Effect::JournalChanged]
    );
    // The window is configurable.
    let mut strict = ClientState::new(ME, Duration::from_secs(20));
    strict.apply(snapshot("e1", 1, vec![], vec![]), T0);
    assert_eq!(
        strict.apply(event(2, ringing(3)), at(21)),
        [Effect::JournalChanged]
    );
}

#[test]
fn a_stale_call_in_a_snapshot_does_not_pop() {
    let mut state = ClientState::new(ME, DEFAULT_POPUP_WINDOW);
    let effects = state.apply(snapshot("e1", 5, vec![ringing(1)], vec![]), at(600));
    assert_eq!(effects, [Effect::JournalChanged, Effect::PresenceChanged]);
}

#[test]
fn only_calls_meant_for_me_pop_up() {
    let mut state = synced();
    let for_bob = Call {
        offered_to: Some(vec!["bob".into()]),
        ..ringing(1)
    };
    assert_eq!(
        state.apply(event(11, for_bob), at(1)),
        [Effect::JournalChanged]
    );

    let for_both = Call {
        offered_to: Some(vec!["bob".into(), ME.into()]),
        ..ringing(2)
    };
    assert_eq!(
        state.apply(event(12, for_both.clone()), at(1)),
        [show(for_both), Effect::JournalChanged]
    );

    let nobody = Call {
        offered_to: Some(vec![]),
        ..ringing(3)
    };
    assert_eq!(
        state.apply(event(13, nobody), at(1)),
        [Effect::JournalChanged]
    );

    let outbound = Call {
        direction: Direction::Out,
        ..ringing(4)
    };
    assert_eq!(
        state.apply(event(14, outbound), at(1)),
        [Effect::JournalChanged]
    );
}

#[test]
fn answered_by_someone_else_closes_the_popup() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    assert_eq!(
        state.apply(event(12, answered(1, Some("bob"), 4)), at(4)),
        [Effect::ClosePopup(1), Effect::JournalChanged]
    );
    // Its hangup no longer concerns the popup.
    assert_eq!(
        state.apply(event(13, ended(answered(1, Some("bob"), 4), 9)), at(9)),
        [Effect::JournalChanged]
    );
}

#[test]
fn answered_by_me_updates_then_hangup_closes() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    assert_eq!(
        state.apply(event(12, answered(1, Some(ME), 4)), at(4)),
        [update(answered(1, Some(ME), 4)), Effect::JournalChanged]
    );
    assert_eq!(
        state.apply(event(13, ended(answered(1, Some(ME), 4), 60)), at(60)),
        [Effect::ClosePopup(1), Effect::JournalChanged]
    );
}

#[test]
fn answered_by_an_unknown_agent_updates_the_popup() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    assert_eq!(
        state.apply(event(12, answered(1, None, 4)), at(4)),
        [update(answered(1, None, 4)), Effect::JournalChanged]
    );
}

#[test]
fn a_missed_call_closes_its_popup_and_stays_open_in_the_journal() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    assert_eq!(
        state.apply(event(12, missed(1, 30)), at(30)),
        [Effect::ClosePopup(1), Effect::JournalChanged]
    );
    assert_eq!(state.open_missed_calls(), [&missed(1, 30)]);
    assert!(state.active_calls().is_empty());
}

#[test]
fn a_ringing_call_rerouted_away_from_me_closes_the_popup() {
    let mut state = synced();
    state.apply(event(11, ringing(1)), at(1));
    let rerouted = Call {
        offered_to: Some(vec!["bob".into()]),
        updated_at: at(3),
        ..ringing(1)
    };
    assert_eq!(
        state.apply(event(12, rerouted), at(3)),
        [Effect::ClosePopup(1), Effect::JournalChanged]
    );
}

#[test]
fn presence_events_update_the_team() {
    let mut state = synced();
    assert_eq!(
        state.apply(presence_event(11, presence("bob", false)), at(1)),
        [Effect::PresenceChanged]
    );
    assert_eq!(
        state.apply(presence_event(12, presence("bob", false)), at(1)),
        []
    );
    state.apply(presence_event(13, presence(ME, true)), at(1));
    assert_eq!(
        state.presence(),
        [&presence(ME, true), &presence("bob", false)]
    );
    assert_eq!(state.my_presence(), Some(&presence(ME, true)));
    assert_eq!(position(&state), ("e1".into(), 13));
}

#[test]
fn finished_calls_are_forgotten_after_a_while_but_missed_ones_stay() {
    let mut state = synced();
    state.apply(event(11, ended(answered(1, Some(ME), 2), 10)), at(10));
    state.apply(event(12, missed(2, 10)), at(10));
    state.apply(event(13, ringing(3)), at(10));
    assert!(state.call(1).is_some(), "kept while late events may come");

    state.apply(presence_event(14, presence("bob", false)), at(10 + 11 * 60));
    assert_eq!(state.call(1), None);
    assert_eq!(state.open_missed_calls(), [&missed(2, 10)]);
    assert_eq!(state.active_calls(), [&ringing(3)]);
}

#[test]
fn lists_are_newest_first() {
    let mut state = synced();
    let early = Call {
        initialized_at: Some(at(-30)),
        ..ringing(5)
    };
    state.apply(event(11, early.clone()), at(1));
    state.apply(event(12, ringing(3)), at(1));
    state.apply(event(13, ringing(4)), at(1));
    assert_eq!(state.active_calls(), [&ringing(4), &ringing(3), &early]);
}

#[test]
fn a_removed_agent_leaves_the_team() {
    let mut state = synced();
    state.apply(presence_event(11, presence("ben", false)), T0);
    let removed = ServerMessage::Event(StreamEvent {
        epoch: "e1".into(),
        seq: 12,
        at: T0,
        body: EventBody::AgentRemoved {
            login: "ben".into(),
        },
    });
    assert_eq!(
        state.apply(removed.clone(), T0),
        vec![Effect::PresenceChanged]
    );
    assert!(state.presence().is_empty());
    assert_eq!(
        state.apply(removed, T0),
        vec![],
        "a replayed removal changes nothing"
    );
}

#[test]
fn do_not_disturb_keeps_new_calls_in_the_journal_only() {
    let mut state = synced();
    state.apply(presence_event(11, presence(ME, true)), T0);
    let effects = state.apply(event(12, ringing(1)), T0);
    assert_eq!(effects, vec![Effect::JournalChanged], "no popup");

    // Back from do-not-disturb: the next call pops up.
    state.apply(presence_event(13, presence(ME, false)), T0);
    let effects = state.apply(event(14, ringing(2)), T0);
    assert_eq!(effects[0], show(ringing(2)));
}

#[test]
fn popup_on_answer_opens_when_i_answer_only() {
    let mut state = synced();
    state.set_popup_on(PopupOn::Answer);
    assert_eq!(
        state.apply(event(11, ringing(1)), at(1)),
        [Effect::JournalChanged]
    );
    assert_eq!(
        state.apply(event(12, answered(1, Some(ME), 4)), at(4)),
        [show(answered(1, Some(ME), 4)), Effect::JournalChanged]
    );
    assert_eq!(
        state.apply(event(13, ended(answered(1, Some(ME), 4), 60)), at(60)),
        [Effect::ClosePopup(1), Effect::JournalChanged]
    );
    state.apply(event(14, ringing(2)), at(61));
    assert_eq!(
        state.apply(event(15, answered(2, Some("bob"), 64)), at(64)),
        [Effect::JournalChanged],
        "a call someone else answered is not mine to pop"
    );
}

#[test]
fn popup_on_answer_ignores_answers_replayed_long_after() {
    let mut state = synced();
    state.set_popup_on(PopupOn::Answer);
    assert_eq!(
        state.apply(event(11, answered(1, Some(ME), 4)), at(600)),
        [Effect::JournalChanged]
    );
}

#[test]
fn pop_never_keeps_every_call_in_the_journal() {
    let mut state = synced();
    state.set_popup_on(PopupOn::Never);
    assert_eq!(
        state.apply(event(11, ringing(1)), at(1)),
        [Effect::JournalChanged]
    );
    assert_eq!(
        state.apply(event(12, answered(1, Some(ME), 4)), at(4)),
        [Effect::JournalChanged]
    );
}
