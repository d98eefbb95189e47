//! How long a text and how many of a thing the hub keeps from outside: PBX webhooks, help-desk
//! exports. Each bound is far above any real value (a phone number, a call id, a person's
//! name, a ticket title) and far below what would let one request or one record grow the
//! store or slow a lookup. Webhooks refuse a longer field with a 4xx naming the field and
//! the bound ([`OverLimit`]); importers cut it and warn, naming the line.
//!
//! Lengths count characters (Unicode scalar values), as people count them.

use thiserror::Error;
use time::OffsetDateTime;

/// A phone number or phone identity as a PBX sends it: E.164 has at most 15 digits, a
/// dial string with spaces and a prefix a few more; SIP URIs (`sip:agent@pbx.example.com`)
/// and Twilio Client identities (`client:` and at most 121 characters) are the long ones.
pub const MAX_NUMBER_CHARS: usize = 256;

/// A call id: Twilio's `CallSid` has 34 characters, Placetel's `call_id` 64, a SIP
/// `Call-ID` (which some PBXs pass on) rarely 100.
pub const MAX_CALL_ID_CHARS: usize = 256;

/// A name: an agent, a user, a contact, an organization, a queue.
pub const MAX_NAME_CHARS: usize = 256;

/// A word of a provider's vocabulary: an event name, a direction, a cause, a call status.
pub const MAX_WORD_CHARS: usize = 64;

/// The users one webhook names (`user[]`, `userId[]`): a team's hunt group, not a company.
pub const MAX_USERS_PER_EVENT: usize = 100;

/// An e-mail address (RFC 5321's limit on a path).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A link to a contact's profile or a ticket.
pub const MAX_URL_CHARS: usize = 2048;

/// A ticket's id or number in the help desk.
pub const MAX_TICKET_ID_CHARS: usize = 256;

/// A ticket's title or state.
pub const MAX_TITLE_CHARS: usize = 1024;

/// A free text: a contact's note, a ticket's text. Only searched for numbers and stored for
/// a human to read; a first message or a signature fits many times over.
pub const MAX_TEXT_CHARS: usize = 32 * 1024;

/// The phone fields of one contact as written, and the e-mail addresses.
pub const MAX_PHONES_PER_CONTACT: usize = 50;

/// The numbers that identify one contact (from its phone fields and note) or that one
/// ticket's text may name: each is a row of the caller index.
pub const MAX_NUMBERS_PER_RECORD: usize = 50;

/// One line of an import file (a JSON line, a vCard content line once unfolded, a CSV
/// record): a record whose every field is at its bound still fits.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// The most bytes of a vCard file: it is read whole before its cards are parsed, and a
/// million contacts take about 300 MB.
pub const MAX_VCARD_FILE_BYTES: u64 = 1 << 30;

/// The most lines an import file may have: ten million contacts or tickets at one line each.
pub const MAX_LINES_PER_FILE: u64 = 10_000_000;

/// The earliest time a ticket may carry: the first instant RFC 3339 can write in UTC, the
/// form the hub stores and answers with.
pub const EARLIEST_TIME: OffsetDateTime = time::macros::datetime!(0001-01-01 00:00:00 UTC);

/// The latest time a ticket may carry: the last second RFC 3339 can write in UTC.
pub const LATEST_TIME: OffsetDateTime = time::macros::datetime!(9999-12-31 23:59:59 UTC);

/// A field over its bound: why a webhook was refused. The message names the field as the
/// sender spelled it and the bound, so that the admin can tell what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OverLimit {
    /// A value has more characters than the field allows.
    #[error("{field:?} is longer than {limit} characters")]
    TooLong {
        /// The field as the sender named it, e.g. `callId`.
        field: String,
        /// The bound, in characters.
        limit: usize,
    },
    /// A field is repeated more often than it may be.
    #[error("more than {limit} values of {field:?}")]
    TooMany {
        /// The field as the sender named it, e.g. `user[]`.
        field: String,
        /// The bound.
        limit: usize,
    },
}

/// Whether `text` has more than `limit` characters, without counting past the bound.
pub fn exceeds(text: &str, limit: usize) -> bool {
    text.len() > limit && text.chars().nth(limit).is_some()
}

/// `text` cut to at most `limit` characters (on a character boundary), and whether it was
/// cut.
pub fn cut(text: &str, limit: usize) -> (&str, bool) {
    match text.char_indices().nth(limit) {
        Some((end, _)) => (&text[..end], true),
        None => (text, false),
    }
}

/// Whether a ticket time can be stored and written back as RFC 3339.
pub fn time_in_range(at: OffsetDateTime) -> bool {
    (EARLIEST_TIME..=LATEST_TIME).contains(&at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(!exceeds("abc", 3));
        assert!(exceeds("abcd", 3));
        assert!(!exceeds("äöü", 3));
        assert!(exceeds("äöüß", 3));
        assert_eq!(cut("äöüß", 3), ("äöü", true));
        assert_eq!(cut("äöü", 3), ("äöü", false));
        assert_eq!(cut("", 0), ("", false));
    }

    #[test]
    fn times_are_those_rfc_3339_writes_in_utc() {
        assert!(time_in_range(datetime!(2024-05-01 10:00 +02:00)));
        assert!(time_in_range(datetime!(0001-01-01 00:00 UTC)));
        assert!(!time_in_range(datetime!(0000-12-31 23:59:59 UTC)));
        assert!(!time_in_range(datetime!(0001-01-01 00:30 +01:00)));
        assert!(time_in_range(datetime!(9999-12-31 23:59:59 UTC)));
        assert!(!time_in_range(datetime!(9999-12-31 23:30 -01:00)));
    }

    #[test]
    fn messages_name_the_field_and_the_bound() {
        let too_long = OverLimit::TooLong {
            field: "callId".into(),
            limit: MAX_CALL_ID_CHARS,
        };
        assert_eq!(
            too_long.to_string(),
            "\"callId\" is longer than 256 characters"
        );
        let too_many = OverLimit::TooMany {
            field: "user[]".into(),
            limit: MAX_USERS_PER_EVENT,
        };
        assert_eq!(too_many.to_string(), "more than 100 values of \"user[]\"");
    }
}
