//! Which agents have live streams, and what the event log last said about it.
//!
//! The streams count themselves in and out here at once, without waiting for any write, so
//! that whom Twilio rings and what the API answers follow the streams even when the writer is
//! slow or a write fails. Presence events that tell the team are a consequence: agents whose
//! state differs from what the log last said are *unsettled*, and a write (queued after each
//! change, and before any later write until one succeeds) records their state as it is then.
//!
//! On PostgreSQL, what the log last said is the database's, shared by the nodes
//! ([`crate::store::nodes`]); here `said` is what this node last recorded of its own
//! streams there, and the settling write records them and tells the team what all nodes
//! together make of it.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// The live count per agent and the log's view of it; see the module documentation.
#[derive(Debug)]
pub struct Online {
    state: Mutex<State>,
    /// This hub process's name among the nodes of a hub on PostgreSQL (random).
    node: String,
}

impl Default for Online {
    fn default() -> Self {
        let bytes: [u8; 8] = rand::random();
        Online {
            state: Mutex::default(),
            node: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// Live streams per agent; agents without one are absent.
    streams: HashMap<String, usize>,
    /// The `online` of the last presence event this hub recorded per agent; absent: offline.
    said: HashMap<String, bool>,
    /// Agents whose live state may differ from what the log said.
    unsettled: HashSet<String>,
    /// Whether a write that settles them is queued and has not started.
    settle_queued: bool,
}

impl State {
    fn is_online(&self, login: &str) -> bool {
        self.streams.contains_key(login)
    }
}

impl Online {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent at every step, so a panic elsewhere does not spoil it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This hub process's name among the nodes of a hub on PostgreSQL.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The database forgot this node's streams (it counted the node gone): every agent
    /// streaming here is unsettled again, so that the next settling write records it.
    pub fn forgotten(&self) {
        let mut state = self.state();
        state.said.clear();
        let streaming: Vec<String> = state.streams.keys().cloned().collect();
        state.unsettled.extend(streaming);
    }

    /// Counts a new live stream of `login`.
    pub fn opened(&self, login: &str) {
        let mut state = self.state();
        *state.streams.entry(login.to_owned()).or_default() += 1;
        state.unsettled.insert(login.to_owned());
    }

    /// Counts a closed live stream of `login`.
    pub fn closed(&self, login: &str) {
        let mut state = self.state();
        if let Some(count) = state.streams.get_mut(login) {
            *count -= 1;
            if *count == 0 {
                state.streams.remove(login);
            }
        }
        state.unsettled.insert(login.to_owned());
    }

    /// Whether `login` has a live stream now.
    pub fn is_online(&self, login: &str) -> bool {
        self.state().is_online(login)
    }

    /// True when agents are unsettled and no settling write is queued; the caller must then
    /// queue one (this marks it queued).
    pub fn claim_settle(&self) -> bool {
        let mut state = self.state();
        if state.unsettled.is_empty() || state.settle_queued {
            return false;
        }
        state.settle_queued = true;
        true
    }

    /// For the settling write, as it starts: the agents whose live state the log must be
    /// told, with that state.
    pub fn to_settle(&self) -> Vec<(String, bool)> {
        let mut state = self.state();
        state.settle_queued = false;
        let state = &mut *state;
        let mut out = Vec::new();
        state.unsettled.retain(|login| {
            let live = state.streams.contains_key(login);
            if state.said.get(login).copied().unwrap_or(false) == live {
                return false;
            }
            out.push((login.clone(), live));
            true
        });
        out
    }

    /// The queued settling write was dropped without running: the next write queues another.
    pub fn settle_dropped(&self) {
        self.state().settle_queued = false;
    }

    /// Presence events were committed saying these states; agents whose live state is
    /// still another one stay unsettled.
    pub fn said(&self, said: Vec<(String, bool)>) {
        let mut state = self.state();
        for (login, online) in said {
            if state.is_online(&login) == online {
                state.unsettled.remove(&login);
            } else {
                state.unsettled.insert(login.clone());
            }
            state.said.insert(login, online);
        }
    }

    /// The agent was removed: there is nothing more to say about it.
    pub fn forget(&self, login: &str) {
        let mut state = self.state();
        state.said.remove(login);
        state.unsettled.remove(login);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_follows_the_streams_and_settles_once_said() {
        let online = Online::default();
        online.opened("anna");
        online.opened("anna");
        online.closed("anna");
        assert!(online.is_online("anna"));
        assert!(online.claim_settle());
        assert!(!online.claim_settle(), "one settling write at a time");
        assert_eq!(online.to_settle(), vec![("anna".to_owned(), true)]);
        online.said(vec![("anna".to_owned(), true)]);
        assert!(!online.claim_settle(), "settled");
        online.closed("anna");
        assert!(!online.is_online("anna"));
        assert!(online.claim_settle());
        assert_eq!(online.to_settle(), vec![("anna".to_owned(), false)]);
    }

    #[test]
    fn a_failed_settle_is_tried_again_and_a_stale_event_unsettles() {
        let online = Online::default();
        online.opened("anna");
        assert!(online.claim_settle());
        online.settle_dropped();
        assert!(online.claim_settle(), "a dropped settle is queued again");
        assert_eq!(online.to_settle().len(), 1);
        // Its commit failed: nothing was said.
        assert!(online.claim_settle(), "still unsettled after the failure");
        assert_eq!(online.to_settle(), vec![("anna".to_owned(), true)]);
        // An event computed while anna was online, committed after her stream closed.
        online.closed("anna");
        online.said(vec![("anna".to_owned(), true)]);
        assert!(online.claim_settle());
        assert_eq!(online.to_settle(), vec![("anna".to_owned(), false)]);
    }

    #[test]
    fn nothing_to_settle_when_the_state_came_back() {
        let online = Online::default();
        online.opened("anna");
        online.closed("anna");
        assert!(online.claim_settle());
        assert!(online.to_settle().is_empty());
        assert!(!online.claim_settle());
    }
}
