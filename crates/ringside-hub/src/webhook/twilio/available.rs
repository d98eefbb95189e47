//! Which agents a Twilio call may ring now, and which agent a rung phone belongs to.
//!
//! An agent is available with a Twilio identity (`+49…`, `client:anna`, `sip:…`), a live
//! stream (the desktop app is running), do-not-disturb off and no call in progress; the
//! caller is never rung for their own call. Phones are compared as the phone network sees
//! them: numbers as E.164 (`0170 1111111` is `+491701111111` in Germany), Client identities
//! by name, SIP addresses without regard to case.

use ringside_core::agent::Presence;
use ringside_core::call::Provider;
use ringside_core::number::{self, DefaultCountry};
use ringside_providers::twilio::RingTarget;

use crate::recorder::RecordError;
use crate::state::Hub;

/// An agent who can be rung now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Available {
    /// The agent's login.
    pub login: String,
    /// The agent's display name.
    pub name: String,
    /// The agent's Twilio identity as stored, which the pipeline maps back to the agent.
    pub identity: String,
    /// The phone to ring: the identity, a number in E.164.
    pub target: RingTarget,
}

/// The available agents (see the module documentation), by login, leaving out `caller`.
pub async fn available(hub: &Hub, caller: Option<&str>) -> Result<Vec<Available>, RecordError> {
    let team = hub.recorder.presence_list().await?;
    Ok(pick(team, caller, &hub.settings.country))
}

/// The agent whose Twilio identity is the phone `target`, with that identity as stored.
pub async fn owner_of(
    hub: &Hub,
    target: &RingTarget,
) -> Result<Option<(Presence, String)>, RecordError> {
    let line = line_of(target);
    let country = &hub.settings.country;
    Ok(hub
        .recorder
        .presence_list()
        .await?
        .into_iter()
        .find_map(|agent| {
            let identity = twilio_identity(&agent)?.to_owned();
            same_line(&identity, &line, country).then_some((agent, identity))
        }))
}

fn pick(team: Vec<Presence>, caller: Option<&str>, country: &DefaultCountry) -> Vec<Available> {
    team.into_iter()
        .filter(|agent| {
            agent.online && !agent.dnd && !agent.out_of_office && agent.on_call.is_none()
        })
        .filter_map(|agent| {
            let identity = twilio_identity(&agent)?.to_owned();
            if caller.is_some_and(|caller| same_line(&identity, caller, country)) {
                return None;
            }
            Some(Available {
                target: dialable(&identity, country),
                identity,
                login: agent.login,
                name: agent.name,
            })
        })
        .collect()
}

fn twilio_identity(agent: &Presence) -> Option<&str> {
    agent
        .identities
        .get(&Provider::Twilio)
        .map(|identity| identity.trim())
        .filter(|identity| !identity.is_empty())
}

/// How Twilio is to ring an identity: a number in E.164 when it is one.
fn dialable(identity: &str, country: &DefaultCountry) -> RingTarget {
    match RingTarget::of(identity) {
        RingTarget::Number(raw) => RingTarget::Number(
            number::normalize(&raw, country).map_or(raw, |e164| e164.as_str().to_owned()),
        ),
        other => other,
    }
}

/// A target written as Twilio writes it in `To` (and a Studio widget dials it).
pub fn line_of(target: &RingTarget) -> String {
    match target {
        RingTarget::Number(number) => number.clone(),
        RingTarget::Client(name) => format!("client:{name}"),
        RingTarget::Sip(uri) => uri.clone(),
    }
}

/// Whether two ways of writing a phone (identities, `From`, `To`) ring the same phone.
fn same_line(a: &str, b: &str, country: &DefaultCountry) -> bool {
    match (RingTarget::of(a.trim()), RingTarget::of(b.trim())) {
        (RingTarget::Client(a), RingTarget::Client(b)) => a == b,
        (RingTarget::Sip(a), RingTarget::Sip(b)) => a.eq_ignore_ascii_case(&b),
        (RingTarget::Number(a), RingTarget::Number(b)) => {
            match (
                number::normalize(&a, country),
                number::normalize(&b, country),
            ) {
                (Some(a), Some(b)) => a == b,
                _ => a == b,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::agent::{Identities, OnCall, Role};

    use super::*;

    fn de() -> DefaultCountry {
        DefaultCountry::from_iso("DE").unwrap()
    }

    fn agent(login: &str, twilio: Option<&str>) -> Presence {
        let mut identities = Identities::new();
        if let Some(identity) = twilio {
            identities.insert(Provider::Twilio, identity.to_owned());
        }
        Presence {
            login: login.into(),
            name: login.to_uppercase(),
            role: Role::Agent,
            numbers: vec![],
            identities,
            online: true,
            dnd: false,
            out_of_office: false,
            on_call: None,
        }
    }

    fn logins(available: &[Available]) -> Vec<&str> {
        available.iter().map(|a| a.login.as_str()).collect()
    }

    #[test]
    fn only_online_free_agents_with_a_twilio_identity() {
        let mut offline = agent("offline", Some("+491701111111"));
        offline.online = false;
        let mut dnd = agent("dnd", Some("+491702222222"));
        dnd.dnd = true;
        let mut busy = agent("busy", Some("+491703333333"));
        busy.on_call = Some(OnCall {
            call: 1,
            with: "+4930".into(),
            since: time::OffsetDateTime::UNIX_EPOCH,
        });
        let mut away = agent("away", Some("+491706666666"));
        away.out_of_office = true;
        let team = vec![
            agent("anna", Some("0170 4444444")),
            offline,
            dnd,
            busy,
            away,
            agent("nophone", None),
            agent("blank", Some("  ")),
            agent("web", Some("client:web")),
        ];
        let picked = pick(team, None, &de());
        assert_eq!(logins(&picked), ["anna", "web"]);
        assert_eq!(picked[0].identity, "0170 4444444");
        assert_eq!(picked[0].target, RingTarget::Number("+491704444444".into()));
        assert_eq!(picked[1].target, RingTarget::Client("web".into()));
    }

    #[test]
    fn the_caller_is_not_rung() {
        let team = vec![
            agent("anna", Some("0170 4444444")),
            agent("ben", Some("client:ben")),
            agent("carl", Some("sip:Carl@pbx.example")),
            agent("dora", Some("+491705555555")),
        ];
        let by = |caller| logins(&pick(team.clone(), Some(caller), &de())).join(",");
        assert_eq!(by("+491704444444"), "ben,carl,dora");
        assert_eq!(by("client:ben"), "anna,carl,dora");
        assert_eq!(by("sip:carl@pbx.example"), "anna,ben,dora");
        assert_eq!(by("anonymous"), "anna,ben,carl,dora");
    }

    #[test]
    fn lines_compare_as_the_network_sees_them() {
        assert!(same_line("+49 170 1111111", "01701111111", &de()));
        assert!(!same_line("client:anna", "+491701111111", &de()));
        assert!(!same_line("client:anna", "client:ann", &de()));
        assert!(same_line("anonymous", "anonymous", &de()));
        assert_eq!(line_of(&RingTarget::Client("anna".into())), "client:anna");
    }
}
