//! Phone numbers, normalized once (when they are written) to E.164 so that the directory,
//! the journal and the routing rules compare plain strings.
//!
//! The rules follow Zammad's `normalize_number`, generalized from its hard-coded Germany to
//! a configurable [`DefaultCountry`]:
//!
//! - a leading `+`, `00` or the country's own international prefix (`011` in the US)
//!   means the digits are international;
//! - the country's national trunk prefix (`0` in Germany, `1` in the US) means a national
//!   number: the prefix is replaced by the country calling code;
//! - any other digit string is already international without its `+`, which is how sipgate
//!   and most PBX scripts send numbers (`4930609854189`);
//! - `+49 (0)30 …`: a bracketed trunk zero after the country code is dropped.
//!
//! Identifiers are not numbers: `anonymous`, SIP ids, `client:tommy`, internal extensions
//! (fewer than 6 digits) and anything longer than 15 digits give `None`.
//!
//! Normalizing never calls the `phonenumber` crate, whose parser is slow and whose regex
//! cache sits behind a global lock; only [`pretty`] does.

mod country;
mod e164;
mod text;

pub use country::DefaultCountry;
pub use e164::E164;
pub use text::extract;

use phonenumber::Mode;

/// The international prefix Zammad recognizes for every country.
const INTERNATIONAL_PREFIX: &str = "00";

/// Why a country or a number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The configured default country is not a known ISO 3166 alpha-2 code.
    #[error("unknown country code {0:?}: expected an ISO 3166 alpha-2 code such as DE, AT or US")]
    UnknownCountry(String),
    /// A string that should hold a normalized number does not.
    #[error("{0:?} is not a normalized phone number: expected + and 6 to 15 digits, e.g. +4930609854189")]
    NotE164(String),
}

/// Normalizes a field that should hold one number (a PBX `from`/`to`, a contact's phone
/// field); `None` for identifiers such as `anonymous`, SIP ids and extensions.
///
/// Whitespace, `-`, `.`, `|`, one `/`, `(` and `)` are separators; any other character
/// makes the value an identifier.
pub fn normalize(raw: &str, country: &DefaultCountry) -> Option<E164> {
    let mut compact = String::with_capacity(raw.len());
    let mut slashes = 0;
    for c in raw.chars() {
        match c {
            '0'..='9' | '(' | ')' => compact.push(c),
            '+' if compact.is_empty() => compact.push(c),
            '/' => slashes += 1,
            '-' | '.' | '|' => {}
            c if c.is_whitespace() => {}
            _ => return None,
        }
    }
    // Zammad's date rule: `12/12/2024` is not a number.
    if slashes > 1 {
        return None;
    }
    let compact = drop_bracketed_trunk_zero(&compact);
    let digits: String = compact.chars().filter(char::is_ascii_digit).collect();
    let international = match compact.strip_prefix('+') {
        // `+0…` cannot be international; Zammad reads it as a national number.
        Some(_) if !digits.starts_with('0') => digits,
        _ => country.internationalize(&digits),
    };
    E164::from_digits(&international)
}

/// Zammad's bracketed trunk zero: `+49(0)30…` → `+4930…`, `0043(0)1…` → `00431…`.
///
/// After `+` or `00` the country code may have 1 to 3 digits (Zammad: exactly 2, which
/// misses `+353 (0)1`); without a marker it must have exactly 2, as in Zammad, so that
/// `1(949)…` and `(09)…` are left alone. `compact` holds only `+`, digits and brackets.
fn drop_bracketed_trunk_zero(compact: &str) -> String {
    let (marker, rest) = if let Some(rest) = compact.strip_prefix('+') {
        ("+", rest)
    } else if let Some(rest) = compact.strip_prefix(INTERNATIONAL_PREFIX) {
        (INTERNATIONAL_PREFIX, rest)
    } else {
        ("", compact)
    };
    let code_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let code_fits = if marker.is_empty() {
        code_len == 2
    } else {
        (1..=3).contains(&code_len)
    };
    match rest[code_len..].strip_prefix("(0") {
        Some(after_zero) if code_fits => format!("{marker}{}{after_zero}", &rest[..code_len]),
        _ => compact.to_owned(),
    }
}

/// The human form of a number: libphonenumber's international format when the number is
/// valid (`+49 30 609854180`), else the E.164 string unchanged, like Zammad's pretty
/// numbers. This parses with the `phonenumber` crate, so call it for display only.
pub fn pretty(number: &E164) -> String {
    match phonenumber::parse(None, number.as_str()) {
        Ok(parsed) if parsed.is_valid() => parsed.format().mode(Mode::International).to_string(),
        _ => number.as_str().to_owned(),
    }
}

/// Shows a raw PBX value: the pretty form of its number, or the value itself when it is
/// an identifier such as `anonymous` or a SIP id.
pub fn display(raw: &str, country: &DefaultCountry) -> String {
    match normalize(raw, country) {
        Some(number) => pretty(&number),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(iso: &str) -> DefaultCountry {
        DefaultCountry::from_iso(iso).unwrap()
    }

    fn norm(raw: &str, iso: &str) -> Option<String> {
        normalize(raw, &country(iso)).map(|n| n.as_str().to_owned())
    }

    fn extracted(text: &str) -> Vec<String> {
        extract(text, &country("DE"))
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn zammad_fixture_numbers() {
        assert_eq!(norm("+49 99999 222222", "DE").unwrap(), "+4999999222222");
        assert_eq!(norm("+49 99999 222223", "DE").unwrap(), "+4999999222223");
        assert_eq!(norm("+4912347114711", "DE").unwrap(), "+4912347114711");
        assert_eq!(norm("+01114100300", "DE").unwrap(), "+491114100300");
        assert_eq!(norm("+49 99999 222222 2", "DE").unwrap(), "+49999992222222");
        assert_eq!(
            extracted("Phone at home: +49 99999 222224"),
            ["+4999999222224"]
        );
    }

    #[test]
    fn zammad_normalization_examples() {
        assert_eq!(norm("+49(0)30 609854180", "DE").unwrap(), "+4930609854180");
        assert_eq!(norm("+49 (0)30 609854180", "DE").unwrap(), "+4930609854180");
        assert_eq!(norm("0043(0)30 1234567", "DE").unwrap(), "+43301234567");
        assert_eq!(norm("49 (0) 30 1234567", "DE").unwrap(), "+49301234567");
        assert_eq!(norm("+49 (030) 1234567", "DE").unwrap(), "+49301234567");
        // Two digits are needed before the bracket without a marker: brackets just go.
        assert_eq!(norm("(09) 1234567", "DE").unwrap(), "+4991234567");
        assert_eq!(norm("1(949)1234567", "DE").unwrap(), "+19491234567");
        assert_eq!(norm("0049 30 609854180", "DE").unwrap(), "+4930609854180");
        assert_eq!(norm("030 609854180", "DE").unwrap(), "+4930609854180");
        assert_eq!(norm("4930609854180", "DE").unwrap(), "+4930609854180");
    }

    #[test]
    fn bracketed_trunk_zero_after_any_country_code() {
        assert_eq!(norm("+353 (0)1 234 5678", "DE").unwrap(), "+35312345678");
        assert_eq!(norm("+44 (0)20 7946 0958", "DE").unwrap(), "+442079460958");
        assert_eq!(norm("+1 (415) 867-5309", "DE").unwrap(), "+14158675309");
    }

    #[test]
    fn providers_table() {
        assert_eq!(norm("022129191999", "DE").unwrap(), "+4922129191999");
        assert_eq!(norm("4930609854189", "DE").unwrap(), "+4930609854189");
        assert_eq!(norm("492111234567", "US").unwrap(), "+492111234567");
        assert_eq!(norm("004930609854189", "DE").unwrap(), "+4930609854189");
        assert_eq!(norm("+14158675309", "DE").unwrap(), "+14158675309");
        assert_eq!(norm("01114100300", "DE").unwrap(), "+491114100300");
        for identifier in ["anonymous", "7777abcdefg@fpbx.de", "client:tommy", "23"] {
            assert_eq!(norm(identifier, "DE"), None, "{identifier}");
        }
    }

    #[test]
    fn other_countries() {
        assert_eq!(norm("0664123456", "AT").unwrap(), "+43664123456");
        assert_eq!(norm("020 7946 0958", "GB").unwrap(), "+442079460958");
        assert_eq!(norm("1 (415) 867-5309", "US").unwrap(), "+14158675309");
        // Without its trunk prefix a US number reads as international, as the rules say.
        assert_eq!(norm("415.867.5309", "US").unwrap(), "+4158675309");
        assert_eq!(norm("011 49 30 609854189", "US").unwrap(), "+4930609854189");
        assert_eq!(norm("06 1 234 5678", "HU").unwrap(), "+3612345678");
        assert_eq!(norm("8 495 123-45-67", "RU").unwrap(), "+74951234567");
        assert_eq!(norm("810 49 30 609854189", "RU").unwrap(), "+4930609854189");
        // Italy has no trunk prefix: the leading zero is part of the number.
        assert_eq!(norm("06 1234 5678", "IT").unwrap(), "+390612345678");
        // Austrian national form with a German default is a German number, as in Zammad.
        assert_eq!(norm("0664123456", "DE").unwrap(), "+49664123456");
    }

    #[test]
    fn separators() {
        assert_eq!(norm(" 030/609854180 ", "DE").unwrap(), "+4930609854180");
        assert_eq!(norm("030-609 854.180", "DE").unwrap(), "+4930609854180");
        assert_eq!(norm("030\u{a0}609854180", "DE").unwrap(), "+4930609854180");
        assert_eq!(norm("030/6098/54180", "DE"), None);
    }

    #[test]
    fn identifiers_are_not_numbers() {
        for raw in [
            "",
            "+",
            "unknown",
            "sip:4930609854189@sipgate.de",
            "client:tommy",
            "+49 30 CALL-NOW",
            "49+30609854180",
            "12345",
            "0301",
            "1234567890123456",
            "+49 30 60985418000000",
            "12/12/2024",
            "000123456",
            "+0",
        ] {
            assert_eq!(norm(raw, "DE"), None, "{raw:?}");
        }
        assert_eq!(norm("123456789012345", "DE").unwrap(), "+123456789012345");
    }

    #[test]
    fn pretty_uses_the_international_format_for_valid_numbers() {
        let p = |s: &str| pretty(&E164::parse(s).unwrap());
        assert_eq!(p("+4930609854180"), "+49 30 609854180");
        assert_eq!(p("+442079460958"), "+44 20 7946 0958");
        assert_eq!(p("+43664123456"), "+43 664 123456");
        assert_eq!(p("+14158675309"), "+1 415-867-5309");
        // Invalid numbers are left as they are.
        assert_eq!(p("+4999999222222"), "+4999999222222");
        assert_eq!(p("+491114100300"), "+491114100300");
    }

    #[test]
    fn display_shows_identifiers_unchanged() {
        let de = country("DE");
        assert_eq!(display("4930609854180", &de), "+49 30 609854180");
        assert_eq!(display("030 609854180", &de), "+49 30 609854180");
        assert_eq!(display("anonymous", &de), "anonymous");
        assert_eq!(display("7777abcdefg@fpbx.de", &de), "7777abcdefg@fpbx.de");
        assert_eq!(display("23", &de), "23");
    }
}
