//! What every request handler shares: the settings, the store, the writer, the webhook log
//! and the clock.

use std::sync::Arc;

use ringside_core::agent::{Identities, Role};
use ringside_core::call::Provider;
use ringside_core::number;

use crate::config::Settings;
use crate::recorder::Recorder;
use crate::store::{NewAgent, Store};
use crate::webhook_log::WebhookLog;
use ringside_clock::Clock;

/// The running hub's shared state.
#[derive(Debug)]
pub struct Hub {
    /// The checked configuration, as the hub started with it.
    pub settings: Settings,
    /// The block list, outbound routes and notify map in force: the configuration's at
    /// start, again at each reload.
    pub rules: crate::call_rules::LiveRules,
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
    /// The hub's clock: every time the hub records and every wait of the janitor come from
    /// it (the domain never reads one itself).
    pub clock: Arc<dyn Clock>,
    /// The sync from Zammad; `None` when `[zammad] url` is empty.
    pub zammad: Option<Arc<crate::zammad::task::ZammadSync>>,
    /// Whether Zammad answers; `None` when the hub does not ask it (no URL or API token).
    pub zammad_health: Option<Arc<crate::zammad::health::ZammadHealth>>,
    /// Fetches a ringing call's tickets from Zammad; `None` when the hub does not ask it.
    pub live_tickets: Option<Arc<crate::zammad::live::LiveTickets>>,
    /// Customers created in Zammad from a popup; `None` without the sync.
    pub zammad_customers: Option<crate::zammad::customer::Customers>,
    /// What `GET /metrics` reports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The certificate in force when the hub serves TLS itself, for `/metrics` to report
    /// when it expires; `None` without `[tls]`.
    pub certificates: Option<Arc<crate::tls::Certificates>>,
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
    /// The name is longer than [`MAX_NAME_CHARS`].
    #[error("the name must have at most {MAX_NAME_CHARS} characters")]
    NameTooLong,
    /// More than [`MAX_NUMBERS`] numbers, or one longer than [`MAX_NUMBER_CHARS`].
    #[error(
        "an agent has at most {MAX_NUMBERS} numbers of at most {MAX_NUMBER_CHARS} characters each"
    )]
    Numbers,
    /// A provider id for the generic endpoint (which has none), empty, or longer than
    /// [`MAX_IDENTITY_CHARS`].
    #[error(
        "provider ids are for placetel, sipgate and twilio, 1 to {MAX_IDENTITY_CHARS} characters each"
    )]
    Identities,
}

/// The longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The most numbers an agent has.
pub const MAX_NUMBERS: usize = 20;
/// The longest number as written, in characters.
pub const MAX_NUMBER_CHARS: usize = 64;
/// The longest provider id, in characters.
pub const MAX_IDENTITY_CHARS: usize = 200;

/// The display name without the spaces around it (ASCII whitespace, as the API describes
/// it), or why it cannot be one.
pub fn agent_name(name: &str) -> Result<&str, AgentInputError> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AgentInputError::NameTooLong);
    }
    let trimmed = name.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.is_empty() {
        return Err(AgentInputError::Name);
    }
    Ok(trimmed)
}

/// Checks an agent's numbers as written against the bounds.
pub fn check_numbers(numbers: &[String]) -> Result<(), AgentInputError> {
    let fits = numbers.len() <= MAX_NUMBERS
        && numbers
            .iter()
            .all(|n| n.chars().count() <= MAX_NUMBER_CHARS);
    fits.then_some(()).ok_or(AgentInputError::Numbers)
}

/// Checks an agent's provider ids: only providers that name agents, none empty or too long.
pub fn check_identities(identities: &Identities) -> Result<(), AgentInputError> {
    let fits = identities.iter().all(|(provider, id)| {
        *provider != Provider::Generic && !id.is_empty() && id.chars().count() <= MAX_IDENTITY_CHARS
    });
    fits.then_some(()).ok_or(AgentInputError::Identities)
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
    let name = agent_name(name)?;
    check_numbers(&numbers)?;
    check_identities(&identities)?;
    let normalized = normalized_numbers(&numbers, country);
    Ok(NewAgent {
        login: login.to_owned(),
        name: name.to_owned(),
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
    fn names_numbers_and_provider_ids_are_bounded() {
        let de = number::DefaultCountry::from_iso("DE").unwrap();
        let agent = |name: &str, numbers: Vec<String>, identities: Identities| {
            new_agent("anna", name, false, numbers, identities, &de)
        };
        let none = Identities::new;
        assert_eq!(agent(" Anna\t", vec![], none()).unwrap().name, "Anna");
        assert_eq!(agent("\u{a0}", vec![], none()).unwrap().name, "\u{a0}");
        assert!(agent(&"a".repeat(200), vec![], none()).is_ok());
        assert!(agent(&"a".repeat(201), vec![], none()).is_err());
        assert!(agent("Anna", vec!["1".repeat(64); 20], none()).is_ok());
        assert!(agent("Anna", vec!["1".repeat(65)], none()).is_err());
        assert!(agent("Anna", vec!["1".into(); 21], none()).is_err());
        let ids = |provider: Provider, id: &str| Identities::from([(provider, id.to_owned())]);
        assert!(agent("Anna", vec![], ids(Provider::Sipgate, "w0")).is_ok());
        assert!(agent("Anna", vec![], ids(Provider::Sipgate, "")).is_err());
        assert!(agent("Anna", vec![], ids(Provider::Twilio, &"c".repeat(201))).is_err());
        assert!(agent("Anna", vec![], ids(Provider::Generic, "anna")).is_err());
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
