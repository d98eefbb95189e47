//! Whether Zammad answers, as the hub last found it: up, slow (a ticket fetch took longer
//! than its deadline) or down (unreachable, failing with 5xx, or refusing the token), with
//! since when and the last error in words. Kept in memory, fed by every ticket fetch and
//! every sync pass, read by the admin API and the agents' `GET /api/v1/helpdesk`. Only
//! changes of state are logged, so an outage costs one line, not one per call.

use ringside_core::api::{HelpdeskConnection, HelpdeskState};
use time::OffsetDateTime;
use tokio::sync::watch;

use super::client::ZammadError;

/// What one request to Zammad found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// It answered in time.
    Answered,
    /// It answered, but only after the deadline (or not before it).
    Slow(String),
    /// It could not be reached, failed or refused the token.
    Down(String),
}

impl Finding {
    /// What an error says about Zammad; `None` when it says nothing about its health (a
    /// request it answered and refused for a reason of its own, an answer the hub could
    /// not read).
    pub fn of_error(error: &ZammadError) -> Option<Finding> {
        match error {
            ZammadError::Timeout { .. } => Some(Finding::Slow(error.to_string())),
            ZammadError::Unreachable { .. }
            | ZammadError::TokenRefused { .. }
            | ZammadError::Forbidden { .. } => Some(Finding::Down(error.to_string())),
            ZammadError::Status { status, .. } if *status >= 500 => {
                Some(Finding::Down(error.to_string()))
            }
            _ => None,
        }
    }
}

/// The connection state, shared by the ticket fetches, the sync and the API.
#[derive(Debug, Default)]
pub struct ZammadHealth {
    state: watch::Sender<HelpdeskConnection>,
}

impl ZammadHealth {
    /// The state now.
    pub fn connection(&self) -> HelpdeskConnection {
        self.state.borrow().clone()
    }

    /// The state from now on, for whoever waits for a change (tests, say).
    pub fn watch(&self) -> watch::Receiver<HelpdeskConnection> {
        self.state.subscribe()
    }

    /// Records what a ticket fetch found at `now`.
    pub fn fetched(&self, finding: Finding, now: OffsetDateTime) {
        let (state, error) = match finding {
            Finding::Answered => (HelpdeskState::Up, None),
            Finding::Slow(error) => (HelpdeskState::Slow, Some(error)),
            Finding::Down(error) => (HelpdeskState::Down, Some(error)),
        };
        self.enter(state, error, now);
    }

    /// Records what a sync pass found at `now`. A pass has no deadline of its own, so one
    /// that succeeded ends an outage but does not clear `slow`: only a ticket fetch in time
    /// does.
    pub fn synced(&self, finding: Finding, now: OffsetDateTime) {
        match finding {
            Finding::Answered => {
                let current = self.state.borrow().state;
                if current != HelpdeskState::Slow {
                    self.enter(HelpdeskState::Up, None, now);
                }
            }
            other => self.fetched(other, now),
        }
    }

    fn enter(&self, state: HelpdeskState, error: Option<String>, now: OffsetDateTime) {
        self.state.send_if_modified(|current| {
            let mut modified = false;
            if error.is_some() && current.last_error != error {
                current.last_error = error.clone();
                modified = true;
            }
            if current.state == state {
                return modified;
            }
            match (state, &error) {
                (HelpdeskState::Up, _) => tracing::info!("zammad: answering again"),
                (_, Some(error)) => tracing::warn!("zammad: {}: {error}", word(state)),
                (_, None) => tracing::warn!("zammad: {}", word(state)),
            }
            current.state = state;
            current.since = Some(now);
            true
        });
    }
}

fn word(state: HelpdeskState) -> &'static str {
    match state {
        HelpdeskState::Unknown => "unknown",
        HelpdeskState::Up => "up",
        HelpdeskState::Slow => "slow",
        HelpdeskState::Down => "down",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    #[test]
    fn the_state_changes_with_what_requests_find_and_keeps_since_when() {
        let health = ZammadHealth::default();
        assert_eq!(health.connection().state, HelpdeskState::Unknown);
        health.fetched(Finding::Answered, at(1));
        health.fetched(Finding::Answered, at(2));
        assert_eq!(health.connection().state, HelpdeskState::Up);
        assert_eq!(health.connection().since, Some(at(1)));
        health.fetched(Finding::Down("refused".into()), at(3));
        health.fetched(Finding::Down("still refused".into()), at(4));
        let down = health.connection();
        assert_eq!(
            (down.state, down.since, down.last_error.as_deref()),
            (HelpdeskState::Down, Some(at(3)), Some("still refused"))
        );
        health.fetched(Finding::Answered, at(5));
        let up = health.connection();
        assert_eq!(up.state, HelpdeskState::Up);
        assert_eq!(up.since, Some(at(5)));
        assert_eq!(up.last_error.as_deref(), Some("still refused"), "kept");
    }

    #[test]
    fn a_sync_pass_ends_an_outage_but_not_slowness() {
        let health = ZammadHealth::default();
        health.fetched(Finding::Slow("2 s".into()), at(1));
        health.synced(Finding::Answered, at(2));
        assert_eq!(health.connection().state, HelpdeskState::Slow);
        health.synced(Finding::Down("503".into()), at(3));
        assert_eq!(health.connection().state, HelpdeskState::Down);
        health.synced(Finding::Answered, at(4));
        assert_eq!(health.connection().state, HelpdeskState::Up);
    }

    #[test]
    fn errors_are_told_apart_by_what_they_say_about_zammad() {
        let timeout = ZammadError::Timeout {
            url: "u".into(),
            secs: 2,
            attempts: 1,
        };
        assert!(matches!(
            Finding::of_error(&timeout),
            Some(Finding::Slow(_))
        ));
        let failing = ZammadError::Status {
            what: "w".into(),
            status: 503,
            message: "m".into(),
        };
        assert!(matches!(
            Finding::of_error(&failing),
            Some(Finding::Down(_))
        ));
        let refused = ZammadError::TokenRefused {
            message: "Invalid token!".into(),
        };
        assert!(matches!(
            Finding::of_error(&refused),
            Some(Finding::Down(_))
        ));
        let unknown = ZammadError::Status {
            what: "w".into(),
            status: 422,
            message: "m".into(),
        };
        assert_eq!(Finding::of_error(&unknown), None);
    }
}
