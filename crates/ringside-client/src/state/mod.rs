//! The app's picture of the hub, built by reducing stream messages: pure (no IO, the time
//! is passed in) and idempotent, so that replays, duplicates and reconnects are harmless.
//!
//! [`ClientState::apply`] takes each [`ServerMessage`] and returns the [`Effect`]s the UI
//! must carry out; the queries answer what the windows show.

mod order;
mod popup;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ringside_core::agent::Presence;
use ringside_core::call::{Call, CallState};
use ringside_core::stream::{EventBody, ResumeFrom, ServerMessage, Snapshot, StreamEvent};
use time::OffsetDateTime;

use order::supersedes;
pub use popup::PopupOn;
use popup::PopupRules;

/// How old a ringing call may be and still pop up: older ones only reach the journal (a
/// popup for a call that stopped ringing long ago is noise).
pub const DEFAULT_POPUP_WINDOW: Duration = Duration::from_secs(60);

/// How long a finished call (ended and done) is kept after its last change. It is only
/// kept so that a late event for it cannot resurrect it; after that, memory is freed.
const FINISHED_RETENTION: Duration = Duration::from_secs(10 * 60);

/// What the UI must do after a message was applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Open the caller-ID popup (and the native notification) for a call ringing for us.
    ShowPopup(Box<Call>),
    /// Refresh an open popup with the call's new version (answered, caller found).
    UpdatePopup(Box<Call>),
    /// Close the popup of this call: it ended, or someone else took it.
    ClosePopup(i64),
    /// Calls changed: refresh the journal and the active-call views.
    JournalChanged,
    /// Someone's presence changed: refresh the team view and the tray.
    PresenceChanged,
}

/// Current calls and presence as the stream has told them, and the stream position
/// they reflect.
#[derive(Debug, Clone)]
pub struct ClientState {
    rules: PopupRules,
    position: Option<ResumeFrom>,
    calls: BTreeMap<i64, Call>,
    presence: BTreeMap<String, Presence>,
    popped: BTreeSet<i64>,
}

impl ClientState {
    /// An empty state for the agent `login`; calls that started ringing longer than
    /// `popup_window` ago never pop up.
    pub fn new(login: impl Into<String>, popup_window: Duration) -> Self {
        ClientState {
            rules: PopupRules {
                me: login.into(),
                window: popup_window,
                popup_on: PopupOn::Ring,
            },
            position: None,
            calls: BTreeMap::new(),
            presence: BTreeMap::new(),
            popped: BTreeSet::new(),
        }
    }

    /// Applies one stream message at time `now` and says what the UI must do. Applying the
    /// same message twice changes nothing the second time.
    pub fn apply(&mut self, message: ServerMessage, now: OffsetDateTime) -> Vec<Effect> {
        let effects = match message {
            ServerMessage::Event(event) => self.apply_event(event, now),
            ServerMessage::Snapshot(snapshot) => self.apply_snapshot(snapshot, now),
        };
        self.forget_finished(now);
        effects
    }

    /// Changes when popups open from now on; popups already open still follow their call.
    pub fn set_popup_on(&mut self, popup_on: PopupOn) {
        self.rules.popup_on = popup_on;
    }

    /// The last applied `(epoch, seq)`: what the stream resumes from. `None` until the
    /// first snapshot.
    pub fn position(&self) -> Option<&ResumeFrom> {
        self.position.as_ref()
    }

    /// The agent this state is for.
    pub fn login(&self) -> &str {
        &self.rules.me
    }

    /// One call by hub id, if it is current (active, open missed, or recently finished).
    pub fn call(&self, id: i64) -> Option<&Call> {
        self.calls.get(&id)
    }

    /// Calls ringing or in progress, anywhere on the team, newest first.
    pub fn active_calls(&self) -> Vec<&Call> {
        self.calls_where(|call| call.state != CallState::Ended)
    }

    /// Missed inbound calls nobody has dealt with yet, newest first.
    pub fn open_missed_calls(&self) -> Vec<&Call> {
        self.calls_where(Call::is_open_missed)
    }

    /// Every agent's presence, by login.
    pub fn presence(&self) -> Vec<&Presence> {
        self.presence.values().collect()
    }

    /// This agent's own presence (do-not-disturb, on a call), for the tray.
    pub fn my_presence(&self) -> Option<&Presence> {
        self.presence.get(&self.rules.me)
    }

    fn apply_event(&mut self, event: StreamEvent, now: OffsetDateTime) -> Vec<Effect> {
        // Without a snapshot there is nothing to apply an event to; from another epoch the
        // seq means nothing. Both wait for the snapshot the hub sends in such cases.
        match &self.position {
            Some(at) if at.epoch == event.epoch && event.seq > at.seq => {}
            _ => return vec![],
        }
        self.position = Some(ResumeFrom {
            epoch: event.epoch,
            seq: event.seq,
        });
        match event.body {
            EventBody::Call { call } => self.apply_call(*call, now),
            EventBody::Presence { presence } => self.apply_presence(presence),
            EventBody::AgentRemoved { login } => match self.presence.remove(&login) {
                Some(_) => vec![Effect::PresenceChanged],
                None => vec![],
            },
        }
    }

    fn apply_call(&mut self, call: Call, now: OffsetDateTime) -> Vec<Effect> {
        if let Some(current) = self.calls.get(&call.id) {
            if !supersedes(&call, current) {
                return vec![];
            }
        }
        let mut effects = Vec::with_capacity(2);
        effects.extend(self.popup_transition(&call, now));
        effects.push(Effect::JournalChanged);
        self.calls.insert(call.id, call);
        effects
    }

    fn apply_presence(&mut self, presence: Presence) -> Vec<Effect> {
        if self.presence.get(&presence.login) == Some(&presence) {
            return vec![];
        }
        self.presence.insert(presence.login.clone(), presence);
        vec![Effect::PresenceChanged]
    }

    fn apply_snapshot(&mut self, snapshot: Snapshot, now: OffsetDateTime) -> Vec<Effect> {
        // A snapshot is the hub's state now, whatever its position: even one behind what was
        // applied (a hub restored from a backup) replaces everything.
        let same_epoch = self
            .position
            .as_ref()
            .is_some_and(|at| at.epoch == snapshot.epoch);

        let mut effects = vec![];
        if !same_epoch {
            // Ids of another epoch may name other calls now: start the popups afresh.
            effects.extend(self.popped.iter().map(|&id| Effect::ClosePopup(id)));
            self.popped.clear();
            self.calls.clear();
        }
        let mut calls = BTreeMap::new();
        for call in snapshot
            .active_calls
            .into_iter()
            .chain(snapshot.open_missed_calls)
        {
            match calls.get(&call.id) {
                Some(other) if !supersedes(&call, other) => {}
                _ => {
                    calls.insert(call.id, call);
                }
            }
        }
        let vanished: Vec<i64> = self
            .popped
            .iter()
            .copied()
            .filter(|id| !calls.contains_key(id))
            .collect();
        for id in vanished {
            self.popped.remove(&id);
            effects.push(Effect::ClosePopup(id));
        }
        for call in calls.values() {
            if self.calls.get(&call.id) != Some(call) {
                effects.extend(self.popup_transition(call, now));
            }
        }

        self.position = Some(ResumeFrom {
            epoch: snapshot.epoch,
            seq: snapshot.seq,
        });
        self.calls = calls;
        self.presence = snapshot
            .presence
            .into_iter()
            .map(|presence| (presence.login.clone(), presence))
            .collect();
        effects.push(Effect::JournalChanged);
        effects.push(Effect::PresenceChanged);
        effects
    }

    /// The popup's effect for the call's new version, keeping track of open popups.
    fn popup_transition(&mut self, call: &Call, now: OffsetDateTime) -> Option<Effect> {
        let popped = self.popped.contains(&call.id);
        // Do-not-disturb: new calls go to the journal only; an open popup still follows its
        // call to the end.
        let undisturbed = self
            .my_presence()
            .is_some_and(|me| me.dnd || me.out_of_office);
        if undisturbed && !popped {
            return None;
        }
        let effect = self.rules.transition(call, popped, now)?;
        match effect {
            Effect::ShowPopup(_) => {
                self.popped.insert(call.id);
            }
            Effect::ClosePopup(id) => {
                self.popped.remove(&id);
            }
            _ => {}
        }
        Some(effect)
    }

    /// Drops calls that are over and need nothing more, once no late event can matter.
    fn forget_finished(&mut self, now: OffsetDateTime) {
        self.calls.retain(|_, call| {
            call.state != CallState::Ended
                || call.is_open_missed()
                || now - call.updated_at < FINISHED_RETENTION
        });
    }

    fn calls_where(&self, keep: impl Fn(&Call) -> bool) -> Vec<&Call> {
        let mut calls: Vec<&Call> = self.calls.values().filter(|call| keep(call)).collect();
        calls.sort_by_key(|call| {
            std::cmp::Reverse((call.initialized_at.unwrap_or(call.created_at), call.id))
        });
        calls
    }
}
