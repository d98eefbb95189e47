//! Phone links the agent did not type: a `tel:`/`callto:` link from any web page, a mail or
//! another program, or one in caller data shown in the app's windows (imported contacts,
//! the help desk's tickets). None of them starts a call by itself: the agent confirms each
//! in a small prompt that shows the number and who it is (Enter dials, Esc cancels). Only
//! for links in the app's own windows can the agent turn the prompt off.
//!
//! Pure: the app asks [`needs_confirmation`], keeps the prompts waiting for an answer in
//! [`PendingDials`] and shows what [`DialPrompt`] says.

use std::collections::VecDeque;

use ringside_core::caller::MatchLevel;
use ringside_core::number::{self, E164};
use serde::Serialize;

use crate::rest::{CallerLookup, DialResult};

/// How many prompts may wait at once: a page that fires links in a loop cannot pile up
/// prompts without end.
pub const MAX_PENDING: usize = 5;

/// Where a phone link came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LinkOrigin {
    /// Handed to the app by the desktop: a web page, a mail, another program. Anyone can
    /// put such a link in front of the agent.
    Desktop,
    /// Clicked in one of the app's own windows: a link in caller data (imported contacts,
    /// the help desk's tickets).
    AppWindow,
}

/// Whether a phone link from `origin` is dialed only once the agent confirms. Links from
/// the desktop always are; links in the app's windows are unless the agent turned that off
/// (`confirm_app_links`).
pub fn needs_confirmation(origin: LinkOrigin, confirm_app_links: bool) -> bool {
    match origin {
        LinkOrigin::Desktop => true,
        LinkOrigin::AppWindow => confirm_app_links,
    }
}

/// What the confirmation prompt shows: the number and whom it belongs to, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DialPrompt {
    /// Names this prompt in the agent's answer.
    pub id: u64,
    /// The number as the link has it: what is dialed.
    pub number: String,
    /// The number in its readable international form, when the hub could read it.
    pub number_pretty: String,
    /// Who the directory says the number belongs to; `None` for an unknown number.
    pub contact: Option<String>,
    /// The contact's organization, when known.
    pub organization: Option<String>,
    /// Where the link came from.
    pub origin: LinkOrigin,
}

impl DialPrompt {
    /// The prompt for `number` from a link of `origin`, with what the hub's directory says
    /// about it (`None` when it could not be asked).
    fn new(id: u64, number: &str, lookup: Option<&CallerLookup>, origin: LinkOrigin) -> Self {
        let number_pretty = lookup
            .and_then(|lookup| E164::parse(&lookup.number).ok())
            .map_or_else(|| number.to_owned(), |e164| number::pretty(&e164));
        let caller = lookup.and_then(|lookup| lookup.caller_match.as_ref());
        let contacts = caller.map(|c| c.contacts.as_slice()).unwrap_or_default();
        let maybe = caller.is_some_and(|c| c.level == MatchLevel::Maybe);
        let contact = match contacts {
            [] => None,
            [one] if maybe => Some(format!("{} (maybe)", one.name)),
            [one] => Some(one.name.clone()),
            [first, rest @ ..] => Some(format!("{} or {} more", first.name, rest.len())),
        };
        DialPrompt {
            id,
            number: number.to_owned(),
            number_pretty,
            contact,
            organization: contacts.first().and_then(|c| c.organization.clone()),
            origin,
        }
    }
}

/// Why a link was not put before the agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromptRefused {
    /// Too many links wait for an answer already.
    #[error("{MAX_PENDING} phone links already wait for an answer: answer them first")]
    TooMany,
}

/// The prompts waiting for the agent's answer, oldest first; the oldest is shown.
#[derive(Debug, Clone, Default)]
pub struct PendingDials {
    last_id: u64,
    waiting: VecDeque<DialPrompt>,
}

impl PendingDials {
    /// Puts a link to `number` before the agent. The same number already waiting is not
    /// asked twice (its prompt is returned); at most [`MAX_PENDING`] wait.
    pub fn ask(
        &mut self,
        number: &str,
        lookup: Option<&CallerLookup>,
        origin: LinkOrigin,
    ) -> Result<DialPrompt, PromptRefused> {
        if let Some(waiting) = self.waiting.iter().find(|p| p.number == number) {
            return Ok(waiting.clone());
        }
        if self.waiting.len() >= MAX_PENDING {
            return Err(PromptRefused::TooMany);
        }
        self.last_id += 1;
        let prompt = DialPrompt::new(self.last_id, number, lookup, origin);
        self.waiting.push_back(prompt.clone());
        Ok(prompt)
    }

    /// The prompt to show now.
    pub fn current(&self) -> Option<&DialPrompt> {
        self.waiting.front()
    }

    /// Takes the prompt `id` the agent answered; `None` when it is no longer waiting (an
    /// answer given twice dials once).
    pub fn answer(&mut self, id: u64) -> Option<DialPrompt> {
        let at = self.waiting.iter().position(|p| p.id == id)?;
        self.waiting.remove(at)
    }
}

/// What the agent is told once a provider took the call.
pub fn placed_message(dialed: &DialResult) -> String {
    let provider = dialed
        .provider()
        .map_or("tel", |provider| provider.display_name());
    let number = E164::parse(dialed.number())
        .map(|e164| number::pretty(&e164))
        .unwrap_or_else(|_| dialed.number().to_owned());
    format!("Calling {number}: {provider} is ringing your phone first.")
}

#[cfg(test)]
mod tests {
    use ringside_core::api::PlacedCall;
    use ringside_core::caller::{CallerMatch, ContactCard};

    use super::*;

    fn contact(name: &str, organization: Option<&str>) -> ContactCard {
        ContactCard {
            id: Some(1),
            name: name.into(),
            organization: organization.map(str::to_owned),
            email: None,
            profile_url: None,
            new_ticket_url: None,
            source: ringside_core::caller::ContactSource::Import,
            tickets: vec![],
        }
    }

    fn lookup(level: MatchLevel, contacts: Vec<ContactCard>) -> CallerLookup {
        CallerLookup {
            number: "+4930609854180".into(),
            caller_match: Some(CallerMatch {
                number: "+4930609854180".into(),
                level,
                contacts,
            }),
        }
    }

    #[test]
    fn links_from_the_desktop_are_always_confirmed() {
        assert!(needs_confirmation(LinkOrigin::Desktop, true));
        assert!(needs_confirmation(LinkOrigin::Desktop, false));
    }

    #[test]
    fn links_in_the_app_are_confirmed_unless_turned_off() {
        assert!(needs_confirmation(LinkOrigin::AppWindow, true));
        assert!(!needs_confirmation(LinkOrigin::AppWindow, false));
    }

    #[test]
    fn the_prompt_shows_the_number_and_the_contact() {
        let mut pending = PendingDials::default();
        let known = lookup(
            MatchLevel::Known,
            vec![contact("Carla Customer", Some("Acme GmbH"))],
        );
        let prompt = pending
            .ask("030609854180", Some(&known), LinkOrigin::Desktop)
            .unwrap();
        assert_eq!(
            prompt,
            DialPrompt {
                id: prompt.id,
                number: "030609854180".into(),
                number_pretty: "+49 30 609854180".into(),
                contact: Some("Carla Customer".into()),
                organization: Some("Acme GmbH".into()),
                origin: LinkOrigin::Desktop,
            }
        );
    }

    #[test]
    fn unknown_maybe_and_several_contacts() {
        let mut pending = PendingDials::default();
        let unknown = CallerLookup {
            number: "+4930609854180".into(),
            caller_match: None,
        };
        let prompt = pending
            .ask("+4930609854180", Some(&unknown), LinkOrigin::AppWindow)
            .unwrap();
        assert_eq!(prompt.contact, None);
        assert_eq!(prompt.number_pretty, "+49 30 609854180");
        let maybe = lookup(MatchLevel::Maybe, vec![contact("Carla", None)]);
        assert_eq!(
            pending
                .ask("1", Some(&maybe), LinkOrigin::Desktop)
                .unwrap()
                .contact
                .as_deref(),
            Some("Carla (maybe)")
        );
        let several = lookup(
            MatchLevel::Known,
            vec![contact("Carla", None), contact("Dieter", None)],
        );
        assert_eq!(
            pending
                .ask("2", Some(&several), LinkOrigin::Desktop)
                .unwrap()
                .contact
                .as_deref(),
            Some("Carla or 1 more")
        );
    }

    #[test]
    fn without_a_lookup_the_number_shows_as_the_link_has_it() {
        let mut pending = PendingDials::default();
        let prompt = pending
            .ask("030 1234567", None, LinkOrigin::Desktop)
            .unwrap();
        assert_eq!(prompt.number_pretty, "030 1234567");
        assert_eq!(prompt.contact, None);
        assert_eq!(prompt.organization, None);
    }

    #[test]
    fn prompts_wait_in_order_and_each_is_answered_once() {
        let mut pending = PendingDials::default();
        let first = pending.ask("0301", None, LinkOrigin::Desktop).unwrap();
        let second = pending.ask("0302", None, LinkOrigin::Desktop).unwrap();
        assert_ne!(first.id, second.id);
        assert_eq!(pending.current(), Some(&first));
        assert_eq!(pending.answer(first.id), Some(first.clone()));
        assert_eq!(
            pending.answer(first.id),
            None,
            "a second answer does nothing"
        );
        assert_eq!(pending.current(), Some(&second));
        assert_eq!(pending.answer(second.id), Some(second));
        assert_eq!(pending.current(), None);
        let third = pending.ask("0301", None, LinkOrigin::Desktop).unwrap();
        assert_ne!(third.id, first.id, "an id is never reused");
    }

    #[test]
    fn the_same_number_is_asked_once_and_the_queue_is_bounded() {
        let mut pending = PendingDials::default();
        let first = pending.ask("0301", None, LinkOrigin::Desktop).unwrap();
        assert_eq!(
            pending.ask("0301", None, LinkOrigin::Desktop).unwrap(),
            first
        );
        for n in 2..=MAX_PENDING {
            pending
                .ask(&format!("030{n}"), None, LinkOrigin::Desktop)
                .unwrap();
        }
        assert_eq!(
            pending.ask("0309", None, LinkOrigin::Desktop),
            Err(PromptRefused::TooMany)
        );
    }

    #[test]
    fn the_message_after_a_provider_dial_names_it_and_the_number() {
        let dialed = DialResult::Placetel(PlacedCall {
            number: "+4930609854180".into(),
            caller_id: None,
            call_id: None,
        });
        assert_eq!(
            placed_message(&dialed),
            "Calling +49 30 609854180: Placetel is ringing your phone first."
        );
    }
}
