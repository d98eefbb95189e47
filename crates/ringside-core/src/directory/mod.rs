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
mod lines;
mod table;
mod tickets;
mod tickets_csv;
mod vcard;

pub use contacts_csv::{contacts_csv, ContactsCsv};
pub use tickets::{tickets_jsonl, TicketRecord};
pub use tickets_csv::{tickets_csv, TicketsCsv};
pub use vcard::parse_vcards;

use std::fmt;

use crate::limits::{
    self, MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_NUMBERS_PER_RECORD, MAX_NUMBER_CHARS,
    MAX_PHONES_PER_CONTACT, MAX_TEXT_CHARS, MAX_URL_CHARS,
};
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

/// A record was imported, but not whole: a field longer than its bound in
/// [`crate::limits`] was cut or left out, or values beyond a count were dropped. It names
/// the line, so that the file can be fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportWarning {
    /// Where the record starts.
    pub line: u64,
    /// What was cut, for a human.
    pub message: String,
}

impl fmt::Display for ImportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Collects the warnings of one record, which starts on `line`.
#[derive(Debug)]
struct Trimmer {
    line: u64,
    warnings: Vec<ImportWarning>,
}

impl Trimmer {
    fn new(line: u64) -> Self {
        Trimmer {
            line,
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, message: String) {
        self.warnings.push(ImportWarning {
            line: self.line,
            message,
        });
    }

    /// The value cut to `limit` characters, with a warning naming `what` when it was cut.
    fn cut(&mut self, value: String, limit: usize, what: &str) -> String {
        match limits::cut(&value, limit) {
            (_, false) => value,
            (kept, true) => {
                self.warn(format!("{what} was cut to {limit} characters"));
                kept.to_owned()
            }
        }
    }

    /// The value, or `None` with a warning when it is longer than `limit` characters: for
    /// values that a cut would make wrong (an address, a link, a number).
    fn whole(&mut self, value: String, limit: usize, what: &str) -> Option<String> {
        if limits::exceeds(&value, limit) {
            self.warn(format!(
                "{what} longer than {limit} characters was left out"
            ));
            return None;
        }
        Some(value)
    }

    /// The first `limit` values, with a warning naming `what` when there were more.
    fn first<T>(&mut self, mut values: Vec<T>, limit: usize, what: &str) -> Vec<T> {
        if values.len() > limit {
            self.warn(format!("only the first {limit} {what} were kept"));
            values.truncate(limit);
        }
        values
    }
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
    /// in that order; at most [`MAX_NUMBERS_PER_RECORD`].
    pub numbers: Vec<E164>,
    /// What was cut to keep the contact within [`crate::limits`].
    pub warnings: Vec<ImportWarning>,
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
    /// Applies the shared rules (trimming, the bounds of [`crate::limits`], the name
    /// fallbacks, the known numbers); `None` when the contact has no name, no number and no
    /// e-mail address. `line` is where the contact starts, for the warnings.
    fn finish(self, line: u64, country: &DefaultCountry) -> Option<ContactRecord> {
        let mut trim = Trimmer::new(line);
        let phones: Vec<String> = self.phones.iter().filter_map(|p| filled(p)).collect();
        let phones = trim.first(phones, MAX_PHONES_PER_CONTACT, "phone fields");
        let phones: Vec<String> = phones
            .into_iter()
            .filter_map(|p| trim.whole(p, MAX_NUMBER_CHARS, "a phone field"))
            .collect();
        let mut emails: Vec<String> = Vec::new();
        for email in self.emails.iter().filter_map(|e| filled(e)) {
            if email.contains('@') && !emails.iter().any(|e| e.eq_ignore_ascii_case(&email)) {
                emails.push(email);
            }
        }
        let emails = trim.first(emails, MAX_PHONES_PER_CONTACT, "e-mail addresses");
        let emails: Vec<String> = emails
            .into_iter()
            .filter_map(|e| trim.whole(e, MAX_EMAIL_CHARS, "an e-mail address"))
            .collect();
        let note = self.note.as_deref().and_then(filled);
        let note = note.map(|n| trim.cut(n, MAX_TEXT_CHARS, "the note"));
        let mut numbers: Vec<E164> = Vec::new();
        let from_phones = phones.iter().filter_map(|p| normalize(p, country));
        let from_note = note.iter().flat_map(|n| extract(n, country));
        for number in from_phones.chain(from_note) {
            if !numbers.contains(&number) {
                if numbers.len() == MAX_NUMBERS_PER_RECORD {
                    trim.warn(format!(
                        "only the first {MAX_NUMBERS_PER_RECORD} phone numbers were kept"
                    ));
                    break;
                }
                numbers.push(number);
            }
        }
        let mut name_part = |part: Option<String>, what: &str| {
            part.as_deref()
                .and_then(filled)
                .map(|p| trim.cut(p, MAX_NAME_CHARS, what))
        };
        let organization = name_part(self.organization, "the organization");
        let full_name = name_part(self.full_name, "the name");
        let given_family: Vec<String> = [
            name_part(self.given_name, "the given name"),
            name_part(self.family_name, "the family name"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let name = full_name
            .or_else(|| (!given_family.is_empty()).then(|| given_family.join(" ")))
            .or_else(|| organization.clone())
            .or_else(|| emails.first().cloned())
            .or_else(|| numbers.first().map(pretty))?;
        let name = trim.cut(name, MAX_NAME_CHARS, "the name");
        let profile_url = self
            .profile_url
            .as_deref()
            .and_then(filled)
            .and_then(|u| trim.whole(u, MAX_URL_CHARS, "the profile link"));
        Some(ContactRecord {
            name,
            organization,
            emails,
            phones,
            note,
            profile_url,
            numbers,
            warnings: trim.warnings,
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
        assert_eq!(draft().finish(1, &de()).unwrap().name, "Anna Example");
        let no_family = ContactDraft {
            family_name: None,
            ..draft()
        };
        assert_eq!(no_family.finish(1, &de()).unwrap().name, "Anna");
        let no_person = || ContactDraft {
            given_name: None,
            family_name: None,
            ..draft()
        };
        assert_eq!(no_person().finish(1, &de()).unwrap().name, "Example Inc.");
        let email_only = ContactDraft {
            organization: None,
            phones: vec![],
            ..no_person()
        };
        assert_eq!(
            email_only.finish(1, &de()).unwrap().name,
            "anna@example.com"
        );
        let number_only = ContactDraft {
            phones: vec!["030 609854180".into()],
            ..ContactDraft::default()
        };
        assert_eq!(
            number_only.finish(1, &de()).unwrap().name,
            "+49 30 609854180"
        );
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
        assert_eq!(nothing.finish(1, &de()), None);
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
        let contact = draft.finish(1, &de()).unwrap();
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

    #[test]
    fn overlong_fields_are_cut_or_left_out_with_a_warning_naming_the_line() {
        let draft = ContactDraft {
            full_name: Some(format!("  {}  ", "N".repeat(MAX_NAME_CHARS + 1))),
            organization: Some("Ä".repeat(MAX_NAME_CHARS + 5)),
            emails: vec![
                format!("{}@example.com", "a".repeat(250)),
                "b@example.com".into(),
            ],
            phones: (0..60).map(|n| format!("030 6098541{n:02}")).collect(),
            note: Some("n".repeat(MAX_TEXT_CHARS + 1)),
            profile_url: Some(format!(
                "https://desk.example.com/{}",
                "p".repeat(MAX_URL_CHARS)
            )),
            ..ContactDraft::default()
        };
        let contact = draft.finish(7, &de()).unwrap();
        assert_eq!(contact.name, "N".repeat(MAX_NAME_CHARS));
        assert_eq!(contact.organization, Some("Ä".repeat(MAX_NAME_CHARS)));
        assert_eq!(contact.emails, ["b@example.com"]);
        assert_eq!(contact.phones.len(), MAX_PHONES_PER_CONTACT);
        assert_eq!(contact.numbers.len(), MAX_NUMBERS_PER_RECORD);
        assert_eq!(contact.note.unwrap().chars().count(), MAX_TEXT_CHARS);
        assert_eq!(contact.profile_url, None);
        let warnings: Vec<String> = contact.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "line 7: only the first 50 phone fields were kept",
                "line 7: an e-mail address longer than 254 characters was left out",
                "line 7: the note was cut to 32768 characters",
                "line 7: the organization was cut to 256 characters",
                "line 7: the name was cut to 256 characters",
                "line 7: the profile link longer than 2048 characters was left out",
            ]
        );
    }
}
