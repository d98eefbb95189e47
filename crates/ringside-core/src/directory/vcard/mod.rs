//! Contacts from vCard files (RFC 6350 for 4.0, RFC 2426 for 3.0, and the parts of 2.1
//! that phones still export): the format of Nextcloud, Google, Apple and Outlook exports.
//!
//! Only the properties a caller popup needs are read: FN, N, ORG, EMAIL, TEL, NOTE, URL.

mod content_line;

use content_line::{split_structured, unescape, unfold, Property};

use super::{ContactDraft, ContactRecord, DirectoryError, NOTHING_TO_CALL_IT_BY};
use crate::number::DefaultCountry;

/// How much of a bad line an error message quotes.
const QUOTED_CHARS: usize = 40;

/// Reads every card of a vCard file.
///
/// Handles folded lines, property groups (`item1.TEL`), parameters in all three versions'
/// styles (`TEL;TYPE=cell:`, `TEL;VALUE=uri:tel:+1-555-555-5555`, `TEL;CELL:`), value
/// escapes, and 2.1's quoted-printable values. The name is FN, else N's "Given Family",
/// else ORG, else the first EMAIL. The first error stops the import and names its line.
pub fn parse_vcards(
    text: &str,
    country: &DefaultCountry,
) -> Result<Vec<ContactRecord>, DirectoryError> {
    let mut contacts = Vec::new();
    // The open card: the line of its BEGIN and what was read so far.
    let mut open: Option<(u64, ContactDraft)> = None;
    for (line, content) in unfold(text) {
        let syntax = |message: String| DirectoryError::Syntax { line, message };
        let property = Property::parse(&content).ok_or_else(|| {
            syntax(format!(
                "expected a property such as TEL:+49 30 609854180, found {:?}",
                quoted(&content)
            ))
        })?;
        let is_vcard = property.value.trim().eq_ignore_ascii_case("VCARD");
        let what = || format!("{}:{}", property.name, property.value.trim());
        match (property.name.as_str(), open.take()) {
            ("BEGIN", None) if is_vcard => open = Some((line, ContactDraft::default())),
            ("BEGIN", None) => {
                return Err(syntax(format!("expected BEGIN:VCARD, found {}", what())))
            }
            ("BEGIN", Some((begin, _))) => {
                return Err(syntax(format!(
                    "{} inside the card that begins on line {begin} (END:VCARD missing?)",
                    what()
                )))
            }
            ("END", Some((begin, draft))) if is_vcard => {
                let contact = draft.finish(begin, country).ok_or(DirectoryError::Record {
                    line: begin,
                    message: NOTHING_TO_CALL_IT_BY.into(),
                })?;
                contacts.push(contact);
            }
            ("END", Some((begin, _))) => {
                return Err(syntax(format!(
                    "{} does not close the BEGIN:VCARD on line {begin}",
                    what()
                )))
            }
            ("END", None) => return Err(syntax(format!("{} without BEGIN:VCARD", what()))),
            (name, None) => {
                return Err(syntax(format!(
                    "{name} outside a card (BEGIN:VCARD … END:VCARD)"
                )))
            }
            (_, Some((begin, mut draft))) => {
                add_property(&property, &mut draft);
                open = Some((begin, draft));
            }
        }
    }
    match open {
        Some((begin, _)) => Err(DirectoryError::Syntax {
            line: begin,
            message: "BEGIN:VCARD without END:VCARD".into(),
        }),
        None => Ok(contacts),
    }
}

/// Records a property in the card if it is one a popup needs.
fn add_property(property: &Property, draft: &mut ContactDraft) {
    let text = || unescape(&property.value).trim().to_owned();
    match property.name.as_str() {
        "FN" if draft.full_name.is_none() => draft.full_name = Some(text()),
        "N" if draft.given_name.is_none() && draft.family_name.is_none() => {
            let mut components = split_structured(&property.value).into_iter();
            draft.family_name = components.next();
            draft.given_name = components.next();
        }
        "ORG" if draft.organization.is_none() => {
            let units: Vec<String> = split_structured(&property.value)
                .into_iter()
                .filter(|unit| !unit.is_empty())
                .collect();
            draft.organization = Some(units.join(", "));
        }
        "EMAIL" => draft
            .emails
            .push(strip_scheme(&text(), "mailto:").to_owned()),
        "TEL" => draft.phones.push(tel_value(&text()).to_owned()),
        "NOTE" => match &mut draft.note {
            Some(note) => {
                note.push('\n');
                note.push_str(&text());
            }
            None => draft.note = Some(text()),
        },
        "URL" if draft.profile_url.is_none() => draft.profile_url = Some(text()),
        _ => {}
    }
}

/// A TEL value as written: a `tel:` URI (vCard 4.0) loses its scheme and parameters
/// (`tel:+1-555-555-5555;ext=5555` → `+1-555-555-5555`).
fn tel_value(value: &str) -> &str {
    let number = strip_scheme(value, "tel:");
    if number.len() == value.len() {
        return value;
    }
    number.split(';').next().unwrap_or_default()
}

/// The value without a leading URI scheme such as `mailto:`, matched ignoring case.
fn strip_scheme<'v>(value: &'v str, scheme: &str) -> &'v str {
    match value.get(..scheme.len()) {
        Some(head) if head.eq_ignore_ascii_case(scheme) => &value[scheme.len()..],
        _ => value,
    }
}

/// The start of a line, for error messages.
fn quoted(content: &str) -> String {
    let mut chars = content.chars();
    let start: String = chars.by_ref().take(QUOTED_CHARS).collect();
    if chars.next().is_some() {
        format!("{start}…")
    } else {
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::E164;

    fn de() -> DefaultCountry {
        DefaultCountry::from_iso("DE").unwrap()
    }

    fn parse(text: &str) -> Result<Vec<ContactRecord>, DirectoryError> {
        parse_vcards(text, &de())
    }

    fn numbers(contact: &ContactRecord) -> Vec<&str> {
        contact.numbers.iter().map(E164::as_str).collect()
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn nextcloud_style_vcard_3_export() {
        let text = "BEGIN:VCARD\r\n\
                    VERSION:3.0\r\n\
                    PRODID:-//Sabre//Sabre VObject 4.5.4//EN\r\n\
                    UID:6c5a5e3e-8b0a-4a8e-9a53-0a4bd7c0b1a1\r\n\
                    FN:Anna Example\r\n\
                    N:Example;Anna;;;\r\n\
                    ORG:Example GmbH;Support\\, 2nd level\r\n\
                    EMAIL;TYPE=WORK,INTERNET:anna@example.com\r\n\
                    TEL;TYPE=WORK,VOICE:+49 30 609854180\r\n\
                    TEL;TYPE=cell:0171 2345678\r\n\
                    item1.TEL:+49 (0)30 609854181\r\n\
                    item1.X-ABLabel:Assistant\r\n\
                    NOTE:Prefers e-mail\\nPrivate: 0171 2345679\\; after 6\r\n\
                    URL:https://desk.example.com/#user/profile/2\r\n\
                    REV:2024-05-01T10:00:00Z\r\n\
                    END:VCARD\r\n\
                    BEGIN:VCARD\r\n\
                    VERSION:3.0\r\n\
                    FN:CallerId Customer1\r\n\
                    TEL;TYPE=HOME:+49 99999 222222\r\n\
                    TEL;TYPE=FAX:+49 99999 222223\r\n\
                    TEL;TYPE=CELL:+4912347114711\r\n\
                    NOTE:Phone at home: +49 99999 222224\r\n\
                    END:VCARD\r\n";
        let contacts = parse(text).unwrap();
        assert_eq!(contacts.len(), 2);
        let anna = &contacts[0];
        assert_eq!(anna.name, "Anna Example");
        assert_eq!(
            anna.organization.as_deref(),
            Some("Example GmbH, Support, 2nd level")
        );
        assert_eq!(anna.emails, ["anna@example.com"]);
        assert_eq!(
            anna.phones,
            ["+49 30 609854180", "0171 2345678", "+49 (0)30 609854181"]
        );
        assert_eq!(
            anna.note.as_deref(),
            Some("Prefers e-mail\nPrivate: 0171 2345679; after 6")
        );
        assert_eq!(
            numbers(anna),
            [
                "+4930609854180",
                "+491712345678",
                "+4930609854181",
                "+491712345679"
            ]
        );
        assert_eq!(
            anna.profile_url.as_deref(),
            Some("https://desk.example.com/#user/profile/2")
        );
        assert_eq!(
            numbers(&contacts[1]),
            [
                "+4999999222222",
                "+4999999222223",
                "+4912347114711",
                "+4999999222224"
            ]
        );
    }

    #[test]
    fn vcard_4_with_tel_uris_and_quoted_parameters() {
        let text = "BEGIN:VCARD\n\
                    VERSION:4.0\n\
                    N:Stevenson;John;Philip,Paul;Dr.;Jr.,M.D.,A.C.P.\n\
                    TEL;VALUE=uri;PREF=1;TYPE=\"voice,home\":tel:+1-555-555-5555;ext=5555\n\
                    TEL;VALUE=uri;TYPE=\"x:odd\":TEL:+44 20 7946 0958\n\
                    EMAIL;TYPE=work:mailto:john@example.org\n\
                    URL:http\\://example.org/john\n\
                    END:VCARD\n";
        let john = parse(text).unwrap().remove(0);
        assert_eq!(john.name, "John Stevenson");
        assert_eq!(john.phones, ["+1-555-555-5555", "+44 20 7946 0958"]);
        assert_eq!(numbers(&john), ["+15555555555", "+442079460958"]);
        assert_eq!(john.emails, ["john@example.org"]);
        assert_eq!(john.profile_url.as_deref(), Some("http://example.org/john"));
    }

    #[test]
    fn folded_lines_and_case_insensitive_names() {
        let text = "begin:vcard\r\n\
                    version:3.0\r\n\
                    fn:Maximilian\r\n  Mustermann\r\n\
                    note:Call the switchboard: 089 12\r\n\t34567 and ask for Max\r\n\
                    PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n \
                    /2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\n\
                    end:vcard";
        let max = parse(text).unwrap().remove(0);
        assert_eq!(max.name, "Maximilian Mustermann");
        assert_eq!(numbers(&max), ["+49891234567"]);
    }

    #[test]
    fn vcard_2_1_parameters_and_quoted_printable() {
        let text = "BEGIN:VCARD\n\
                    VERSION:2.1\n\
                    N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\n\
                    TEL;CELL;PREF:+49171234567\n\
                    TEL;WORK;VOICE:030-609854180\n\
                    NOTE;QUOTED-PRINTABLE:Zweitnummer: 030 6098=\n\
                    54181\n\
                    END:VCARD\n";
        let jurgen = parse(text).unwrap().remove(0);
        assert_eq!(jurgen.name, "Jürgen Müller");
        assert_eq!(
            numbers(&jurgen),
            ["+49171234567", "+4930609854180", "+4930609854181"]
        );
    }

    #[test]
    fn name_falls_back_to_organization_then_email() {
        let text = "BEGIN:VCARD\nVERSION:3.0\nN:;;;;\nORG:;Acme AG;\nEND:VCARD\n\
                    BEGIN:VCARD\nVERSION:3.0\nFN:\nEMAIL:info@acme.test\nEND:VCARD\n";
        let contacts = parse(text).unwrap();
        assert_eq!(contacts[0].name, "Acme AG");
        assert_eq!(contacts[0].organization.as_deref(), Some("Acme AG"));
        assert_eq!(contacts[1].name, "info@acme.test");
    }

    #[test]
    fn an_empty_file_has_no_contacts() {
        assert_eq!(parse("").unwrap(), []);
        assert_eq!(parse("\u{feff}\r\n\r\n").unwrap(), []);
    }

    #[test]
    fn nesting_errors_name_the_line() {
        assert_eq!(
            error("BEGIN:VCARD\nFN:A\nEND:VCARD\n\nFN:B\n"),
            "line 5: FN outside a card (BEGIN:VCARD … END:VCARD)"
        );
        assert_eq!(
            error("BEGIN:VCARD\nFN:A\nEND:VCARD\nEND:VCARD\n"),
            "line 4: END:VCARD without BEGIN:VCARD"
        );
        assert_eq!(
            error("BEGIN:VCARD\nFN:A\nBEGIN:VCARD\nFN:B\nEND:VCARD\n"),
            "line 3: BEGIN:VCARD inside the card that begins on line 1 (END:VCARD missing?)"
        );
        assert_eq!(
            error("FN:A\nBEGIN:VCARD\nFN:B\n"),
            "line 1: FN outside a card (BEGIN:VCARD … END:VCARD)"
        );
        assert_eq!(
            error("BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\n"),
            "line 4: BEGIN:VCARD without END:VCARD"
        );
        assert_eq!(
            error("BEGIN:VCALENDAR\n"),
            "line 1: expected BEGIN:VCARD, found BEGIN:VCALENDAR"
        );
        assert_eq!(
            error("BEGIN:VCARD\nFN:A\nEND:VEVENT\n"),
            "line 3: END:VEVENT does not close the BEGIN:VCARD on line 1"
        );
    }

    #[test]
    fn malformed_lines_are_quoted() {
        let err =
            parse("BEGIN:VCARD\nFN:A\nthis line has no colon at all and goes on and on\nEND:VCARD")
                .unwrap_err();
        assert!(
            matches!(err, DirectoryError::Syntax { line: 3, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("\"this line has no colon at all and goes o…\""),
            "{err}"
        );
        assert!(parse("BEGIN:VCARD\nbad name:x\nEND:VCARD").is_err());
    }

    #[test]
    fn a_card_with_nothing_to_call_it_by_is_an_error() {
        let err = parse(
            "BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nTEL:23\nNOTE:n/a\nEND:VCARD\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            DirectoryError::Record {
                line: 4,
                message: "the contact has no name, no phone number and no e-mail address".into()
            }
        );
    }
}
