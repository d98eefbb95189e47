//! Contacts and tickets read from the files the hub imports (`ringside-hub import contacts
//! FILE`, `ringside-hub import tickets FILE`): vCard 3.0/4.0, CSV exports and JSON lines.
//!
//! The parsers only read; the hub stores. Every phone number is normalized here, once, with
//! the hub's [`DefaultCountry`], and every error names the line it is about.
//!
//! - [`parse_vcards`]: a vCard file (Nextcloud, Google, Apple, Outlook exports);
//! - [`contacts_csv`]: a contacts spreadsheet (Google Contacts, Outlook, hand-made);
//! - [`tickets_jsonl`] and [`tickets_csv`]: tickets exported from a help desk.

mod contacts_csv;
mod table;
mod tickets;
mod tickets_csv;
mod vcard;

pub use contacts_csv::{contacts_csv, ContactsCsv};
pub use tickets::{tickets_jsonl, TicketRecord};
pub use tickets_csv::{tickets_csv, TicketsCsv};
pub use vcard::parse_vcards;

use crate::number::{extract, normalize, pretty, DefaultCountry, E164};

/// Why an import file, or one record of it, could not be read. Every variant names the
/// 1-based line of the file it is about, so that the message can be acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// The file is not well-formed: vCard structure, CSV quoting, JSON, UTF-8.
    #[error("line {line}: {message}")]
    Syntax {
        /// Where the problem is.
        line: u64,
        /// What is wrong, for a human.
        message: String,
    },
    /// A well-formed record lacks what Ringside needs (a contact with nothing to call it
    /// by, a ticket without an id); the records around it can still be imported.
    #[error("line {line}: {message}")]
    Record {
        /// Where the record starts.
        line: u64,
        /// What is missing or wrong, for a human.
        message: String,
    },
    /// The CSV header row cannot be mapped to Ringside's fields; nothing can be imported.
    #[error("line {line}: {message}")]
    Header {
        /// The header's line.
        line: u64,
        /// What is wrong and which headers were found.
        message: String,
    },
    /// Reading the input failed; nothing after this line can be imported.
    #[error("line {line}: cannot read the input: {message}")]
    Read {
        /// The last line reached.
        line: u64,
        /// The operating system's message.
        message: String,
    },
}

/// One contact as imported: who it is, and the numbers that identify it as a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    /// The name to show: the full name, else "Given Family", else the organization, else
    /// the first e-mail address, else the first number.
    pub name: String,
    /// The organization, e.g. `Example Inc., Support`.
    pub organization: Option<String>,
    /// The e-mail addresses.
    pub emails: Vec<String>,
    /// The phone fields as written, including values that are not numbers (extensions).
    pub phones: Vec<String>,
    /// The free-text note.
    pub note: Option<String>,
    /// A link to the contact's profile in the help desk.
    pub profile_url: Option<String>,
    /// The known numbers: every number in the phone fields and in the note, deduplicated,
    /// in that order.
    pub numbers: Vec<E164>,
}

/// A contact's fields as read from any format, before the rules every format shares.
#[derive(Debug, Default)]
struct ContactDraft {
    full_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    organization: Option<String>,
    emails: Vec<String>,
    phones: Vec<String>,
    note: Option<String>,
    profile_url: Option<String>,
}

/// Why a draft is not a contact, shared by all formats.
const NOTHING_TO_CALL_IT_BY: &str =
    "the contact has no name, no phone number and no e-mail address";

impl ContactDraft {
    /// Applies the shared rules (trimming, the name fallbacks, the known numbers); `None`
    /// when the contact has no name, no number and no e-mail address.
    fn finish(self, country: &DefaultCountry) -> Option<ContactRecord> {
        let phones: Vec<String> = self.phones.iter().filter_map(|p| filled(p)).collect();
        let mut emails: Vec<String> = Vec::new();
        for email in self.emails.iter().filter_map(|e| filled(e)) {
            if email.contains('@') && !emails.iter().any(|e| e.eq_ignore_ascii_case(&email)) {
                emails.push(email);
            }
        }
        let note = self.note.as_deref().and_then(filled);
        let mut numbers: Vec<E164> = Vec::new();
        let from_phones = phones.iter().filter_map(|p| normalize(p, country));
        let from_note = note.iter().flat_map(|n| extract(n, country));
        for number in from_phones.chain(from_note) {
            if !numbers.contains(&number) {
                numbers.push(number);
            }
        }
        let organization = self.organization.as_deref().and_then(filled);
        let given_family: Vec<String> = [&self.given_name, &self.family_name]
            .into_iter()
            .filter_map(|part| part.as_deref().and_then(filled))
            .collect();
        let name = self
            .full_name
            .as_deref()
            .and_then(filled)
            .or_else(|| (!given_family.is_empty()).then(|| given_family.join(" ")))
            .or_else(|| organization.clone())
            .or_else(|| emails.first().cloned())
            .or_else(|| numbers.first().map(pretty))?;
        Some(ContactRecord {
            name,
            organization,
            emails,
            phones,
            note,
            profile_url: self.profile_url.as_deref().and_then(filled),
            numbers,
        })
    }
}

/// The trimmed value, or `None` when nothing is left.
fn filled(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A column or JSON key as matched: lower case, without spaces, `_` and `-`, so that
/// `Customer Email`, `customer_email` and `customer-email` are one key.
fn field_key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> DefaultCountry {
        DefaultCountry::from_iso("DE").unwrap()
    }

    #[test]
    fn name_falls_back_to_given_family_organization_email_number() {
        let draft = || ContactDraft {
            full_name: Some("  ".into()),
            given_name: Some("Anna".into()),
            family_name: Some("Example".into()),
            organization: Some("Example Inc.".into()),
            emails: vec!["anna@example.com".into()],
            phones: vec!["030 609854180".into()],
            ..ContactDraft::default()
        };
        assert_eq!(draft().finish(&de()).unwrap().name, "Anna Example");
        let no_family = ContactDraft {
            family_name: None,
            ..draft()
        };
        assert_eq!(no_family.finish(&de()).unwrap().name, "Anna");
        let no_person = || ContactDraft {
            given_name: None,
            family_name: None,
            ..draft()
        };
        assert_eq!(no_person().finish(&de()).unwrap().name, "Example Inc.");
        let email_only = ContactDraft {
            organization: None,
            phones: vec![],
            ..no_person()
        };
        assert_eq!(email_only.finish(&de()).unwrap().name, "anna@example.com");
        let number_only = ContactDraft {
            phones: vec!["030 609854180".into()],
            ..ContactDraft::default()
        };
        assert_eq!(number_only.finish(&de()).unwrap().name, "+49 30 609854180");
    }

    #[test]
    fn a_contact_needs_a_name_a_number_or_an_email() {
        let nothing = ContactDraft {
            phones: vec!["23".into()],
            emails: vec!["not an address".into()],
            note: Some("call after 5".into()),
            profile_url: Some("https://desk.example.com/users/1".into()),
            ..ContactDraft::default()
        };
        assert_eq!(nothing.finish(&de()), None);
    }

    #[test]
    fn numbers_come_from_phones_and_note_deduplicated() {
        let draft = ContactDraft {
            full_name: Some("CallerId Customer1".into()),
            phones: vec![
                "+49 99999 222222".into(),
                "+49 99999 222223".into(),
                "23".into(),
                " ".into(),
            ],
            emails: vec!["a@example.com".into(), "A@example.com".into()],
            note: Some("Phone at home: +49 99999 222224, office +49 99999 222222".into()),
            ..ContactDraft::default()
        };
        let contact = draft.finish(&de()).unwrap();
        let numbers: Vec<&str> = contact.numbers.iter().map(E164::as_str).collect();
        assert_eq!(
            numbers,
            ["+4999999222222", "+4999999222223", "+4999999222224"]
        );
        assert_eq!(
            contact.phones,
            ["+49 99999 222222", "+49 99999 222223", "23"]
        );
        assert_eq!(contact.emails, ["a@example.com"]);
    }

    #[test]
    fn field_keys_ignore_case_spaces_underscores_and_hyphens() {
        assert_eq!(field_key("Customer Email"), "customeremail");
        assert_eq!(field_key("customer_email"), "customeremail");
        assert_eq!(field_key("E-mail 1 - Value"), "email1value");
        assert_eq!(field_key("UPDATED-AT"), "updatedat");
    }
}
