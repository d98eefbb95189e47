//! What every request handler shares: the settings, the store, the writer and the webhook log.

use ringside_core::agent::{Identities, Role};
use ringside_core::number;
use time::OffsetDateTime;

use crate::config::Settings;
use crate::recorder::Recorder;
use crate::store::{NewAgent, Store};
use crate::webhook::log::WebhookLog;

/// The running hub's shared state.
#[derive(Debug)]
pub struct Hub {
    /// The checked configuration.
    pub settings: Settings,
    /// Reads.
    pub store: Store,
    /// Writes that the stream reports.
    pub recorder: Recorder,
    /// The last webhook requests with their answers, for the admin.
    pub webhook_log: WebhookLog,
    /// Turns true when the hub stops, so that stream connections close too.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Names of Placetel's SIP users, from Placetel's API.
    pub placetel_users: crate::placetel_users::PlacetelUsers,
    /// Checks sipgate's signatures; `None` when switched off.
    pub sipgate_verifier: Option<ringside_providers::sipgate::SipgateVerifier>,
    /// The live streams each agent has open, bounded by `limits.streams_per_agent`.
    pub stream_slots: crate::stream_slots::StreamSlots,
}

impl Hub {
    /// The hub's clock; the domain never reads it itself.
    pub fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Why an agent cannot be created as asked.
#[derive(Debug, thiserror::Error)]
pub enum AgentInputError {
    /// The login has characters other than lower-case letters, digits, `.`, `_`, `-` and `@`.
    #[error("login {0:?} must be 1 to 64 characters of a-z, 0-9, '.', '_', '-' and '@'")]
    Login(String),
    /// The name is empty.
    #[error("the agent needs a name")]
    Name,
}

/// Checks and prepares a new agent, as the CLI and the admin API both create them.
pub fn new_agent(
    login: &str,
    name: &str,
    admin: bool,
    numbers: Vec<String>,
    identities: Identities,
    country: &number::DefaultCountry,
) -> Result<NewAgent, AgentInputError> {
    let valid = !login.is_empty()
        && login.len() <= 64
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if !valid {
        return Err(AgentInputError::Login(login.to_owned()));
    }
    if name.trim().is_empty() {
        return Err(AgentInputError::Name);
    }
    let normalized = normalized_numbers(&numbers, country);
    Ok(NewAgent {
        login: login.to_owned(),
        name: name.trim().to_owned(),
        role: if admin { Role::Admin } else { Role::Agent },
        numbers,
        normalized,
        identities,
    })
}

/// An agent's own numbers in E.164, for those that are numbers (extensions are not).
pub fn normalized_numbers(numbers: &[String], country: &number::DefaultCountry) -> Vec<String> {
    numbers
        .iter()
        .filter_map(|n| number::normalize(n, country))
        .map(|n| n.as_str().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_checked() {
        let de = number::DefaultCountry::from_iso("DE").unwrap();
        assert!(new_agent("anna", "Anna", false, vec![], Identities::new(), &de).is_ok());
        assert!(new_agent("Anna", "Anna", false, vec![], Identities::new(), &de).is_err());
        assert!(new_agent("an na", "Anna", false, vec![], Identities::new(), &de).is_err());
        assert!(new_agent("", "Anna", false, vec![], Identities::new(), &de).is_err());
        assert!(new_agent("anna", " ", false, vec![], Identities::new(), &de).is_err());
    }

    #[test]
    fn numbers_are_kept_raw_and_normalized() {
        let de = number::DefaultCountry::from_iso("DE").unwrap();
        let agent = new_agent(
            "anna",
            "Anna",
            true,
            vec!["030 600000001".into()],
            Identities::new(),
            &de,
        )
        .unwrap();
        assert_eq!(agent.role, Role::Admin);
        assert_eq!(agent.numbers, vec!["030 600000001"]);
        assert_eq!(agent.normalized, vec!["+4930600000001"]);
    }
}
