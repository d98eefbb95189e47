//! Tickets exported from a help desk, so that a popup can list a caller's recent tickets
//! and a number found only in a ticket (an e-mail signature) still names a `maybe` caller.
//!
//! This file holds the record and the JSON-lines format; `tickets_csv` reads the same
//! fields from a spreadsheet.

use std::io::BufRead;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::lines::{BoundedLines, Line};
use super::{field_key, DirectoryError, ImportWarning, Trimmer};
use crate::limits::{
    self, MAX_EMAIL_CHARS, MAX_LINES_PER_FILE, MAX_LINE_BYTES, MAX_NAME_CHARS,
    MAX_NUMBERS_PER_RECORD, MAX_NUMBER_CHARS, MAX_TEXT_CHARS, MAX_TICKET_ID_CHARS, MAX_TITLE_CHARS,
    MAX_URL_CHARS,
};
use crate::number::{extract, normalize, DefaultCountry, E164};

/// One ticket as imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    /// The help desk's ticket id or number.
    pub id: String,
    /// The ticket's title.
    pub title: String,
    /// The ticket's state, e.g. `open`.
    pub state: Option<String>,
    /// The customer's e-mail address, which links the ticket to a contact.
    pub customer_email: Option<String>,
    /// The customer's phone number, which links the ticket to a caller.
    pub customer_phone: Option<E164>,
    /// A link to the ticket in the help desk.
    pub url: Option<String>,
    /// When the ticket last changed; always between [`limits::EARLIEST_TIME`] and
    /// [`limits::LATEST_TIME`].
    pub updated_at: Option<OffsetDateTime>,
    /// The ticket's text, e.g. the customer's first message.
    pub text: Option<String>,
    /// Numbers found in the title and the text, other than `customer_phone`: callers that
    /// may be this ticket's customer; at most [`MAX_NUMBERS_PER_RECORD`].
    pub maybe_numbers: Vec<E164>,
    /// What was cut to keep the ticket within [`crate::limits`].
    pub warnings: Vec<ImportWarning>,
}

/// A ticket field and the column names or JSON keys that hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Id,
    Title,
    State,
    CustomerEmail,
    CustomerPhone,
    Url,
    UpdatedAt,
    Text,
}

/// How many fields a ticket has.
const FIELDS: usize = 8;

impl Field {
    const ALL: [Field; FIELDS] = [
        Field::Id,
        Field::Title,
        Field::State,
        Field::CustomerEmail,
        Field::CustomerPhone,
        Field::Url,
        Field::UpdatedAt,
        Field::Text,
    ];

    /// The keys, as matched by [`field_key`], that hold the field; preferred first.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Field::Id => &["id"],
            Field::Title => &["title"],
            Field::State => &["state"],
            Field::CustomerEmail => &["customeremail", "email", "customer"],
            Field::CustomerPhone => &["customerphone", "phone"],
            Field::Url => &["url"],
            Field::UpdatedAt => &["updatedat", "updated"],
            Field::Text => &["text", "body"],
        }
    }

    /// The field a column name or JSON key holds, and the key's rank among the field's
    /// keys (0 is preferred); `None` for keys Ringside does not read.
    pub(super) fn for_name(name: &str) -> Option<(Field, usize)> {
        let key = field_key(name);
        Field::ALL.into_iter().find_map(|field| {
            let rank = field.keys().iter().position(|k| *k == key)?;
            Some((field, rank))
        })
    }
}

/// A ticket's fields as read, before the checks every format shares.
#[derive(Debug, Default)]
pub(super) struct TicketDraft {
    /// Per field: the rank of the key the value came from, and the trimmed value.
    values: [Option<(usize, String)>; FIELDS],
}

impl TicketDraft {
    /// Records a value unless it is empty or a preferred key already gave one.
    pub(super) fn offer(&mut self, (field, rank): (Field, usize), value: &str) {
        let value = value.trim();
        let slot = &mut self.values[field as usize];
        if !value.is_empty() && slot.as_ref().is_none_or(|(held, _)| rank < *held) {
            *slot = Some((rank, value.to_owned()));
        }
    }

    fn take(&mut self, field: Field) -> Option<String> {
        self.values[field as usize].take().map(|(_, value)| value)
    }

    /// Checks the required fields and the time, applies the bounds of [`crate::limits`],
    /// normalizes the numbers.
    pub(super) fn finish(
        mut self,
        line: u64,
        country: &DefaultCountry,
    ) -> Result<TicketRecord, DirectoryError> {
        let invalid = |message: String| DirectoryError::Record { line, message };
        let mut trim = Trimmer::new(line);
        let id = self
            .take(Field::Id)
            .ok_or_else(|| invalid("the ticket has no id".into()))?;
        if limits::exceeds(&id, MAX_TICKET_ID_CHARS) {
            return Err(invalid(format!(
                "the ticket's id is longer than {MAX_TICKET_ID_CHARS} characters"
            )));
        }
        let title = self
            .take(Field::Title)
            .ok_or_else(|| invalid(format!("ticket {id} has no title")))?;
        let title = trim.cut(title, MAX_TITLE_CHARS, "the title");
        let updated_at = match self.take(Field::UpdatedAt) {
            Some(value) => Some(ticket_time(&value).map_err(|problem| {
                let (shown, _) = limits::cut(&value, 40);
                invalid(format!("ticket {id}: updated_at {shown:?} {problem}"))
            })?),
            None => None,
        };
        let customer_phone = self
            .take(Field::CustomerPhone)
            .and_then(|phone| trim.whole(phone, MAX_NUMBER_CHARS, "the customer's phone"))
            .and_then(|phone| normalize(&phone, country));
        let text = self
            .take(Field::Text)
            .map(|text| trim.cut(text, MAX_TEXT_CHARS, "the text"));
        let mut maybe_numbers: Vec<E164> = Vec::new();
        let found = extract(&title, country)
            .into_iter()
            .chain(text.iter().flat_map(|text| extract(text, country)));
        for number in found {
            if Some(&number) != customer_phone.as_ref() && !maybe_numbers.contains(&number) {
                if maybe_numbers.len() == MAX_NUMBERS_PER_RECORD {
                    trim.warn(format!(
                        "only the first {MAX_NUMBERS_PER_RECORD} phone numbers in the title and \
                         text were kept"
                    ));
                    break;
                }
                maybe_numbers.push(number);
            }
        }
        let state = self
            .take(Field::State)
            .map(|state| trim.cut(state, MAX_NAME_CHARS, "the state"));
        let customer_email = self
            .take(Field::CustomerEmail)
            .filter(|email| email.contains('@'))
            .and_then(|email| trim.whole(email, MAX_EMAIL_CHARS, "the customer's e-mail address"));
        let url = self
            .take(Field::Url)
            .and_then(|url| trim.whole(url, MAX_URL_CHARS, "the link"));
        Ok(TicketRecord {
            id,
            title,
            state,
            customer_email,
            customer_phone,
            url,
            updated_at,
            text,
            maybe_numbers,
            warnings: trim.warnings,
        })
    }
}

/// A ticket's time: RFC 3339, and within the years the hub can store and write back.
fn ticket_time(value: &str) -> Result<OffsetDateTime, &'static str> {
    let at = OffsetDateTime::parse(value, &Rfc3339)
        .map_err(|_| "is not an RFC 3339 time such as 2024-05-01T10:00:00Z")?;
    if !limits::time_in_range(at) {
        return Err("is outside the years 0001 to 9999 (in UTC)");
    }
    Ok(at)
}

/// Reads tickets from JSON lines: one object per line, blank lines skipped.
///
/// Keys (matched ignoring case, spaces, `_` and `-`): `id` (string or number), `title`,
/// `state`, `customer_email` (or `email`, `customer`), `customer_phone` (or `phone`),
/// `url`, `updated_at` (RFC 3339; or `updated`), `text` (or `body`); others are ignored.
/// `id` and `title` are required. A bad line gives an error naming it and reading goes on;
/// a read error ends the tickets.
pub fn tickets_jsonl<R: BufRead>(
    reader: R,
    country: &DefaultCountry,
) -> impl Iterator<Item = Result<TicketRecord, DirectoryError>> {
    let country = country.clone();
    let mut lines = BoundedLines::new(reader);
    std::iter::from_fn(move || loop {
        let (line, read) = lines.next()?;
        let syntax = |message: String| DirectoryError::Syntax { line, message };
        return Some(match read {
            Ok(Line::Text(text)) if text.trim_start_matches('\u{feff}').trim().is_empty() => {
                continue
            }
            Ok(Line::Text(text)) => {
                json_ticket(text.trim_start_matches('\u{feff}'), line, &country)
            }
            Ok(Line::NotUtf8) => Err(syntax("not valid UTF-8; export the file as UTF-8".into())),
            Ok(Line::TooLong) => Err(syntax(format!(
                "the line is longer than {MAX_LINE_BYTES} bytes; it was skipped"
            ))),
            Ok(Line::TooMany) => Err(syntax(format!(
                "the file has more than {MAX_LINES_PER_FILE} lines; split it"
            ))),
            Err(err) => Err(DirectoryError::Read {
                line,
                message: err.to_string(),
            }),
        });
    })
}

/// One JSON line as a ticket.
fn json_ticket(
    text: &str,
    line: u64,
    country: &DefaultCountry,
) -> Result<TicketRecord, DirectoryError> {
    let object: Map<String, Value> =
        serde_json::from_str(text).map_err(|err| DirectoryError::Syntax {
            line,
            message: format!("expected one JSON object per line: {err}"),
        })?;
    let mut draft = TicketDraft::default();
    for (key, value) in &object {
        let Some(field) = Field::for_name(key) else {
            continue;
        };
        let wrong = |found: &str| DirectoryError::Record {
            line,
            message: format!("{key:?} must be a string or a number, found {found}"),
        };
        let value = match value {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Null => continue,
            Value::Bool(flag) => return Err(wrong(&flag.to_string())),
            Value::Array(_) => return Err(wrong("a list")),
            Value::Object(_) => return Err(wrong("an object")),
        };
        draft.offer(field, &value);
    }
    draft.finish(line, country)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn de() -> DefaultCountry {
        DefaultCountry::from_iso("DE").unwrap()
    }

    fn read(input: &str) -> Vec<Result<TicketRecord, DirectoryError>> {
        tickets_jsonl(input.as_bytes(), &de()).collect()
    }

    fn e164(s: &str) -> E164 {
        E164::parse(s).unwrap()
    }

    #[test]
    fn zammad_style_export() {
        let input = r#"{"id": 4711, "number": "31001", "title": "Printer on fire", "state": "open", "customer": "nicole.braun@zammad.org", "customer_phone": "+49 30 609854180", "url": "https://desk.example.com/#ticket/zoom/4711", "updated_at": "2024-05-01T10:00:00+02:00", "body": "Hi,\nplease call me back on 0171 2345678 or +49 30 609854180.\n-- \nNicole"}

{"id":"INC-7","title":"Callback 030 609854181","email":"Ops@Example.com","updated":"2024-05-02T08:30:00Z","phone":"anonymous","state":null}
"#;
        let tickets: Vec<TicketRecord> = read(input).into_iter().map(Result::unwrap).collect();
        assert_eq!(tickets.len(), 2);
        let first = &tickets[0];
        assert_eq!(first.id, "4711");
        assert_eq!(first.title, "Printer on fire");
        assert_eq!(first.state.as_deref(), Some("open"));
        assert_eq!(
            first.customer_email.as_deref(),
            Some("nicole.braun@zammad.org")
        );
        assert_eq!(first.customer_phone, Some(e164("+4930609854180")));
        assert_eq!(
            first.url.as_deref(),
            Some("https://desk.example.com/#ticket/zoom/4711")
        );
        assert_eq!(
            first.updated_at,
            Some(datetime!(2024-05-01 10:00:00 +02:00))
        );
        assert!(first.text.as_deref().unwrap().starts_with("Hi,\nplease"));
        assert_eq!(first.maybe_numbers, [e164("+491712345678")]);
        let second = &tickets[1];
        assert_eq!(second.id, "INC-7");
        assert_eq!(second.state, None);
        assert_eq!(second.customer_email.as_deref(), Some("Ops@Example.com"));
        assert_eq!(second.customer_phone, None);
        assert_eq!(second.updated_at, Some(datetime!(2024-05-02 08:30:00 UTC)));
        assert_eq!(second.maybe_numbers, [e164("+4930609854181")]);
    }

    #[test]
    fn preferred_keys_win_whatever_their_order() {
        let input =
            r#"{"email":"b@example.com","Customer_Email":"a@example.com","ID":1,"Title":"t"}"#;
        let ticket = read(input).remove(0).unwrap();
        assert_eq!(ticket.customer_email.as_deref(), Some("a@example.com"));
        assert_eq!(ticket.id, "1");
    }

    #[test]
    fn bad_lines_name_their_line_and_reading_goes_on() {
        let input = "{\"id\":1,\"title\":\"ok\"}\n\
                     not json\n\
                     [1,2]\n\
                     {\"title\":\"no id\"}\n\
                     {\"id\":5}\n\
                     {\"id\":6,\"title\":\"t\",\"updated_at\":\"yesterday\"}\n\
                     {\"id\":7,\"title\":[\"a\"]}\n\
                     {\"id\":8,\"title\":\"last\"}\n";
        let results = read(input);
        let messages: Vec<String> = results
            .iter()
            .map(|r| match r {
                Ok(ticket) => format!("ok {}", ticket.id),
                Err(err) => err.to_string(),
            })
            .collect();
        assert_eq!(messages[0], "ok 1");
        assert!(
            messages[1].starts_with("line 2: expected one JSON object per line"),
            "{}",
            messages[1]
        );
        assert!(
            messages[2].starts_with("line 3: expected one JSON object per line"),
            "{}",
            messages[2]
        );
        assert_eq!(messages[3], "line 4: the ticket has no id");
        assert_eq!(messages[4], "line 5: ticket 5 has no title");
        assert_eq!(
            messages[5],
            "line 6: ticket 6: updated_at \"yesterday\" is not an RFC 3339 time such as 2024-05-01T10:00:00Z"
        );
        assert_eq!(
            messages[6],
            r#"line 7: "title" must be a string or a number, found a list"#
        );
        assert_eq!(messages[7], "ok 8");
    }

    #[test]
    fn invalid_utf8_is_reported_and_skipped() {
        let input: &[u8] = b"{\"id\":1,\"title\":\"M\xfcller\"}\n{\"id\":2,\"title\":\"ok\"}\n";
        let results: Vec<_> = tickets_jsonl(input, &de()).collect();
        assert_eq!(results.len(), 2);
        assert!(matches!(
            results[0],
            Err(DirectoryError::Syntax { line: 1, .. })
        ));
        assert_eq!(results[1].as_ref().unwrap().id, "2");
    }

    #[test]
    fn maybe_numbers_skip_the_customer_phone_and_dates() {
        let input = r#"{"id":1,"title":"Call 030 609854180 re order of 12/12/2024","phone":"030609854180","text":"Fax 030 609854181, again 030 609854181"}"#;
        let ticket = read(input).remove(0).unwrap();
        assert_eq!(ticket.customer_phone, Some(e164("+4930609854180")));
        assert_eq!(ticket.maybe_numbers, [e164("+4930609854181")]);
    }

    #[test]
    fn times_the_store_cannot_write_are_refused_naming_the_line() {
        for time in [
            "0000-06-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:30:00-01:00",
        ] {
            let input = format!("{{\"id\":1,\"title\":\"a\"}}\n{{\"id\":2,\"title\":\"b\",\"updated_at\":\"{time}\"}}\n");
            let results = read(&input);
            assert!(results[0].is_ok());
            assert_eq!(
                results[1].as_ref().unwrap_err().to_string(),
                format!(
                    "line 2: ticket 2: updated_at {time:?} is outside the years 0001 to 9999 (in UTC)"
                )
            );
        }
        let edge = r#"{"id":3,"title":"c","updated_at":"0001-01-01T00:00:00Z"}"#;
        assert!(read(edge)[0].is_ok());
    }

    #[test]
    fn overlong_fields_are_cut_or_left_out_with_a_warning_naming_the_line() {
        let title = "T".repeat(MAX_TITLE_CHARS + 1);
        let email = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS));
        let numbers: Vec<String> = (0..60).map(|n| format!("030 6098541{n:02}")).collect();
        let text = numbers.join(", ");
        let input = format!(
            "\n{{\"id\":1,\"title\":\"{title}\",\"email\":\"{email}\",\"text\":\"{text}\"}}\n"
        );
        let ticket = read(&input).remove(0).unwrap();
        assert_eq!(ticket.title.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(ticket.customer_email, None);
        assert_eq!(ticket.maybe_numbers.len(), MAX_NUMBERS_PER_RECORD);
        let warnings: Vec<String> = ticket.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "line 2: the title was cut to 1024 characters",
                "line 2: only the first 50 phone numbers in the title and text were kept",
                "line 2: the customer's e-mail address longer than 254 characters was left out",
            ]
        );
        let long_id = format!("{{\"id\":\"{}\",\"title\":\"t\"}}", "9".repeat(257));
        assert_eq!(
            read(&long_id)[0].as_ref().unwrap_err().to_string(),
            "line 1: the ticket's id is longer than 256 characters"
        );
    }

    #[test]
    fn an_overlong_line_is_an_error_naming_it_and_reading_goes_on() {
        let input = format!(
            "{{\"id\":1,\"title\":\"{}\"}}\n{{\"id\":2,\"title\":\"ok\"}}\n",
            "x".repeat(MAX_LINE_BYTES)
        );
        let results = read(&input);
        assert_eq!(
            results[0].as_ref().unwrap_err().to_string(),
            "line 1: the line is longer than 1048576 bytes; it was skipped"
        );
        assert_eq!(results[1].as_ref().unwrap().id, "2");
    }
}
