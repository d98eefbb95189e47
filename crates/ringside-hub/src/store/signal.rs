//! Signals between the nodes of a hub on PostgreSQL: one node asks the node that holds a
//! lease ([`super::lease`]) to do its work now, or tells the others that the relay recorded
//! what became of a ticket, for an agent waiting on another node. A signal is a
//! `NOTIFY` on one channel, its payload the signal's name and the sending node; each
//! node's listener hands the other nodes' signals to what this node registered for them
//! ([`Receivers`]). The sender wakes its own tasks itself, as the one process of a SQLite
//! hub does, where sending a signal does nothing.

use std::sync::{Mutex, PoisonError};

use super::{Db, StoreError};

/// The channel the signals go on.
pub const CHANNEL: &str = "ringside_signals";

/// What one node tells the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// An admin asked for a full Zammad sync pass now ("Sync now").
    ZammadSync,
    /// The relay's outbox has items due that no event announced (a ticket asked for, failed
    /// items made pending again).
    ZammadRelay,
    /// The relay recorded what became of a ticket job.
    TicketOutcome,
}

impl Signal {
    const ALL: [Signal; 3] = [
        Signal::ZammadSync,
        Signal::ZammadRelay,
        Signal::TicketOutcome,
    ];

    /// Its payload on the channel.
    fn name(self) -> &'static str {
        match self {
            Signal::ZammadSync => "zammad-sync",
            Signal::ZammadRelay => "zammad-relay",
            Signal::TicketOutcome => "ticket-outcome",
        }
    }
}

/// A signal signed by the node that sends it, to go out from within a change.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    signal: Signal,
    from: String,
}

impl Outgoing {
    /// `signal` from the node `from`.
    pub(crate) fn new(signal: Signal, from: &str) -> Self {
        Outgoing {
            signal,
            from: from.to_owned(),
        }
    }

    /// Sends it to the other nodes: at the commit of the transaction `db` is in, or at
    /// once outside one. Nothing on SQLite.
    pub(crate) fn send(&self, db: &mut Db<'_>) -> Result<(), StoreError> {
        if let Db::Postgres(pg) = db {
            let payload = format!("{} {}", self.signal.name(), self.from);
            pg.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])?;
        }
        Ok(())
    }
}

/// A task's reaction to a signal: it wakes the task, and must not block.
type Reaction = Box<dyn Fn() + Send + Sync>;

/// What this node does when another node's signal arrives: each registered reaction of
/// that signal.
pub struct Receivers {
    node: String,
    reactions: Mutex<Vec<(Signal, Reaction)>>,
}

impl std::fmt::Debug for Receivers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reactions = self
            .reactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f.debug_list()
            .entries(reactions.iter().map(|(signal, _)| signal))
            .finish()
    }
}

impl Receivers {
    /// The receivers of the node named `node`, which ignore its own signals.
    pub fn of(node: &str) -> Self {
        Receivers {
            node: node.to_owned(),
            reactions: Mutex::default(),
        }
    }

    /// Runs `react` whenever `signal` arrives.
    pub fn on(&self, signal: Signal, react: impl Fn() + Send + Sync + 'static) {
        self.reactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((signal, Box::new(react)));
    }

    /// A notification on [`CHANNEL`] with `payload` arrived; this node's own and an unknown
    /// one (a newer node's signal) are ignored.
    pub(crate) fn receive(&self, payload: &str) {
        let Some((name, from)) = payload.split_once(' ') else {
            return;
        };
        if from == self.node {
            return;
        }
        let Some(signal) = Signal::ALL.into_iter().find(|s| s.name() == name) else {
            return;
        };
        let reactions = self
            .reactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (_, react) in reactions.iter().filter(|(s, _)| *s == signal) {
            react();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn another_nodes_signal_runs_the_reactions_registered_for_it_only() {
        let receivers = Receivers::of("node-a");
        let synced = Arc::new(AtomicUsize::new(0));
        let relayed = Arc::new(AtomicUsize::new(0));
        let counter = synced.clone();
        receivers.on(Signal::ZammadSync, move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let counter = relayed.clone();
        receivers.on(Signal::ZammadRelay, move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        receivers.receive("zammad-sync node-b");
        receivers.receive("zammad-sync node-c");
        receivers.receive("zammad-sync node-a");
        receivers.receive("a-newer-nodes-signal node-b");
        receivers.receive("ticket-outcome node-b");
        receivers.receive("zammad-relay");
        assert_eq!(synced.load(Ordering::SeqCst), 2, "not its own");
        assert_eq!(relayed.load(Ordering::SeqCst), 0);
    }
}
