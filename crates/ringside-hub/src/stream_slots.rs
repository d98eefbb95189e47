//! How many live streams each agent has open, so that one more than
//! `limits.streams_per_agent` is refused before it is upgraded: a leaked or stolen token cannot
//! take every connection the hub has.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Open streams per agent login.
type Open = Arc<Mutex<HashMap<String, usize>>>;

/// The counts; see the module documentation.
#[derive(Debug)]
pub struct StreamSlots {
    open: Open,
    per_agent: usize,
}

/// One open stream of an agent; its count goes down when this is dropped.
#[derive(Debug)]
pub struct StreamSlot {
    open: Open,
    login: String,
}

impl StreamSlots {
    /// Room for `per_agent` streams of each agent.
    pub fn new(per_agent: usize) -> Self {
        StreamSlots {
            open: Open::default(),
            per_agent,
        }
    }

    /// The most streams one agent may have open.
    pub fn per_agent(&self) -> usize {
        self.per_agent
    }

    /// The streams open now, of all agents.
    pub fn open_total(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.values().sum()
    }

    /// A slot for one more stream of `login`, or `None` when it has all it may have.
    pub fn take(&self, login: &str) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(login.to_owned()).or_default();
        if *count >= self.per_agent {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            open: self.open.clone(),
            login: login.to_owned(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.login) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.login);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_more_than_allowed_is_refused_until_one_closes() {
        let slots = StreamSlots::new(2);
        let first = slots.take("anna").unwrap();
        let _second = slots.take("anna").unwrap();
        assert!(slots.take("anna").is_none());
        assert!(slots.take("bert").is_some(), "each agent counts alone");
        drop(first);
        assert!(slots.take("anna").is_some());
    }

    #[test]
    fn the_total_counts_every_agent_s_open_streams() {
        let slots = StreamSlots::new(2);
        let anna = slots.take("anna").unwrap();
        let _bert = slots.take("bert").unwrap();
        let _bert_again = slots.take("bert").unwrap();
        assert_eq!(slots.open_total(), 3);
        drop(anna);
        assert_eq!(slots.open_total(), 2);
    }
}
