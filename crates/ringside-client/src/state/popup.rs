//! When the caller-ID popup opens, changes and closes: for an inbound call ringing for this
//! agent, fresh enough to still be picked up, and only once per call.

use std::time::Duration;

use ringside_core::call::{Call, CallState, Direction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Effect;

/// The popup rules for one agent.
#[derive(Debug, Clone)]
pub(super) struct PopupRules {
    /// The agent's login.
    pub(super) me: String,
    /// How old a ringing call may be and still pop up.
    pub(super) window: Duration,
    pub(super) popup_on: PopupOn,
}

/// When this agent's popup opens: the per-agent setting "pop on ring, on answer, or never".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum PopupOn {
    /// While an inbound call rings for this agent (or for everyone).
    #[default]
    Ring,
    /// Once this agent has answered an inbound call: a screen pop for the call in hand.
    Answer,
    /// Never: the agent uses the journal and click-to-dial only.
    Never,
}

impl PopupRules {
    /// What the popup must do now that `call` is the call's current version; `popped` tells
    /// whether its popup is open.
    pub(super) fn transition(
        &self,
        call: &Call,
        popped: bool,
        now: OffsetDateTime,
    ) -> Option<Effect> {
        let ringing_for_me = call.direction == Direction::In
            && call.state == CallState::Ringing
            && self.meant_for_me(call);
        if !popped {
            let opens = match self.popup_on {
                PopupOn::Ring => ringing_for_me,
                PopupOn::Answer => {
                    call.direction == Direction::In
                        && call.state == CallState::Answered
                        && call.answered_by.as_deref() == Some(self.me.as_str())
                }
                PopupOn::Never => false,
            };
            return (opens && self.is_fresh(call, now))
                .then(|| Effect::ShowPopup(Box::new(call.clone())));
        }
        let keep = match call.state {
            CallState::Ringing => ringing_for_me,
            CallState::Answered => call.answered_by.as_deref().is_none_or(|by| by == self.me),
            CallState::Ended => false,
        };
        Some(if keep {
            Effect::UpdatePopup(Box::new(call.clone()))
        } else {
            Effect::ClosePopup(call.id)
        })
    }

    /// `offered_to` null means everyone.
    fn meant_for_me(&self, call: &Call) -> bool {
        call.offered_to
            .as_ref()
            .is_none_or(|logins| logins.contains(&self.me))
    }

    /// A call that started ringing longer ago than the window goes to the journal only; a
    /// call stamped in the future (hub clock ahead) counts as fresh.
    /// Whether the moment that opens the popup (the ring, or the answer) is recent enough.
    fn is_fresh(&self, call: &Call, now: OffsetDateTime) -> bool {
        let since = match call.state {
            CallState::Answered => call.start_at.unwrap_or(call.updated_at),
            _ => call.initialized_at.unwrap_or(call.created_at),
        };
        now - since <= self.window
    }
}
