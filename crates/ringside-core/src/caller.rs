//! Who is calling: the directory's answer for one phone number.
//!
//! As in Zammad, a number that belongs to a contact (`known`) hides numbers that were only
//! found in ticket text such as an e-mail signature (`maybe`), and several contacts that
//! share a number are all returned, newest first.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How sure the match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum MatchLevel {
    /// The number is in a contact's phone fields or notes.
    Known,
    /// The number was only found in the text of a ticket.
    Maybe,
}

impl MatchLevel {
    /// The database name.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchLevel::Known => "known",
            MatchLevel::Maybe => "maybe",
        }
    }

    /// Parses the database name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "known" => Some(MatchLevel::Known),
            "maybe" => Some(MatchLevel::Maybe),
            _ => None,
        }
    }
}

/// The most a match carries, as in Zammad's lookup.
pub const MAX_CONTACTS: usize = 20;
/// The most recent tickets a popup shows for each contact.
pub const MAX_TICKETS: usize = 5;
/// The most tickets one match carries over all its candidates, the first candidates' first.
/// With [`MAX_CONTACTS`] and the bounds on each text it keeps a call small enough that its
/// stream event always fits in a frame ([`crate::stream::MAX_FRAME_BYTES`]), however many
/// contacts share the caller's number.
pub const MAX_TICKETS_PER_CALL: usize = 20;

/// The directory's answer for one number: everything a popup shows, so that it needs no
/// second request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallerMatch {
    /// The number that was looked up, in E.164.
    pub number: String,
    /// `known` or `maybe`.
    pub level: MatchLevel,
    /// The candidates, newest first, at most [`MAX_CONTACTS`].
    pub contacts: Vec<ContactCard>,
}

impl CallerMatch {
    /// The match cut to what a call carries: at most [`MAX_CONTACTS`] candidates, each with
    /// at most [`MAX_TICKETS`] tickets, and [`MAX_TICKETS_PER_CALL`] tickets in all.
    pub fn capped(mut self) -> Self {
        self.contacts.truncate(MAX_CONTACTS);
        let mut left = MAX_TICKETS_PER_CALL;
        for contact in &mut self.contacts {
            contact.tickets.truncate(MAX_TICKETS.min(left));
            left -= contact.tickets.len();
        }
        self
    }

    /// The display name Zammad stores as `from_comment`/`to_comment`: the names joined with
    /// `,`, prefixed with `maybe ` for a maybe-match.
    pub fn comment(&self) -> Option<String> {
        let names: Vec<&str> = self.contacts.iter().map(|c| c.name.as_str()).collect();
        if names.is_empty() {
            return None;
        }
        let joined = names.join(",");
        Some(match self.level {
            MatchLevel::Known => joined,
            MatchLevel::Maybe => format!("maybe {joined}"),
        })
    }
}

/// Where a candidate came from, so that the popup and the admin can tell a help desk's
/// customer from a contact someone imported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ContactSource {
    /// A file imported with `ringside-hub import` (also what calls recorded before the
    /// sources were known say).
    #[default]
    Import,
    /// Zammad's users and organizations, synced.
    Zammad,
}

/// One candidate for who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactCard {
    /// The hub's contact id, or `None` for a candidate known only from a ticket.
    pub id: Option<i64>,
    /// The name to show.
    pub name: String,
    /// The contact's organization.
    pub organization: Option<String>,
    /// The contact's e-mail address.
    pub email: Option<String>,
    /// A link to the contact's profile in the help desk.
    pub profile_url: Option<String>,
    /// A link to the help desk's "new ticket" screen with this contact as the customer
    /// (Zammad's users only).
    #[serde(default)]
    pub new_ticket_url: Option<String>,
    /// Where the contact came from.
    #[serde(default)]
    pub source: ContactSource,
    /// The contact's most recent tickets, newest first, at most [`MAX_TICKETS`].
    pub tickets: Vec<TicketSummary>,
}

/// A ticket as a popup lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TicketSummary {
    /// The help desk's ticket id or number.
    pub id: String,
    /// The ticket's title.
    pub title: String,
    /// The ticket's state, e.g. `open`.
    pub state: Option<String>,
    /// When the ticket last changed.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    /// A link to the ticket in the help desk.
    pub url: Option<String>,
}

/// A contact found by name or organization, with one of its numbers: what the dial field
/// suggests while the agent types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactHit {
    /// The contact's name.
    pub name: String,
    /// Their organization, when known.
    pub organization: Option<String>,
    /// The number in E.164, what the dialer is given.
    pub number: String,
    /// The number formatted for humans.
    pub number_pretty: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(name: &str) -> ContactCard {
        ContactCard {
            id: Some(1),
            name: name.into(),
            organization: None,
            email: None,
            profile_url: None,
            new_ticket_url: None,
            source: ContactSource::Import,
            tickets: vec![],
        }
    }

    #[test]
    fn comment_joins_names_like_zammad() {
        let known = CallerMatch {
            number: "+49999992222222".into(),
            level: MatchLevel::Known,
            contacts: vec![card("CallerId Customer3"), card("CallerId Customer2")],
        };
        assert_eq!(
            known.comment().as_deref(),
            Some("CallerId Customer3,CallerId Customer2")
        );
        let maybe = CallerMatch {
            level: MatchLevel::Maybe,
            contacts: vec![card("Anna")],
            ..known
        };
        assert_eq!(maybe.comment().as_deref(), Some("maybe Anna"));
    }

    fn ticket(id: usize) -> TicketSummary {
        TicketSummary {
            id: id.to_string(),
            title: format!("Ticket {id}"),
            state: None,
            updated_at: None,
            url: None,
        }
    }

    #[test]
    fn a_match_carries_at_most_the_capped_candidates_and_tickets() {
        let busy = CallerMatch {
            number: "+4930609854180".into(),
            level: MatchLevel::Known,
            contacts: (0..30)
                .map(|n| ContactCard {
                    tickets: (0..8).map(|t| ticket(n * 100 + t)).collect(),
                    ..card(&format!("Contact {n}"))
                })
                .collect(),
        };
        let capped = busy.capped();
        assert_eq!(capped.contacts.len(), 20);
        assert_eq!(
            capped.contacts[0].name, "Contact 0",
            "the first candidates kept"
        );
        let per_contact: Vec<usize> = capped.contacts.iter().map(|c| c.tickets.len()).collect();
        assert_eq!(per_contact[..4], [5, 5, 5, 5]);
        assert!(per_contact[4..].iter().all(|&n| n == 0), "{per_contact:?}");
        assert_eq!(
            capped.contacts[0].tickets[0].id, "0",
            "the newest tickets kept"
        );
    }

    #[test]
    fn empty_match_has_no_comment() {
        let none = CallerMatch {
            number: "+4930".into(),
            level: MatchLevel::Known,
            contacts: vec![],
        };
        assert_eq!(none.comment(), None);
    }
}
