//! The normalized form of a phone number, as stored and compared.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::NumberError;

/// The fewest digits an E.164 number has here; shorter digit strings are internal
/// extensions.
const MIN_DIGITS: usize = 6;
/// The most digits E.164 allows.
const MAX_DIGITS: usize = 15;

/// A phone number in E.164: `+` and 6 to 15 digits, the first not `0`. The one form in
/// which Ringside stores and compares numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

impl E164 {
    /// Accepts a string that is already normalized (`+4930609854189`), e.g. read back from
    /// the database; anything else is refused rather than guessed at.
    pub fn parse(s: &str) -> Result<E164, NumberError> {
        match s.strip_prefix('+') {
            Some(digits) if is_international_digits(digits) => Ok(E164(s.to_owned())),
            _ => Err(NumberError::NotE164(s.to_owned())),
        }
    }

    /// The number with its `+`, e.g. `+4930609854189`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without `+`, as sipgate and Zammad's caller IDs write them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// Wraps international digits that were checked by the caller.
    pub(super) fn from_digits(digits: &str) -> Option<E164> {
        is_international_digits(digits).then(|| E164(format!("+{digits}")))
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for E164 {
    type Error = NumberError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        E164::parse(&value)
    }
}

impl From<E164> for String {
    fn from(number: E164) -> String {
        number.0
    }
}

/// Whether `digits` (without `+`) can be an E.164 number.
fn is_international_digits(digits: &str) -> bool {
    (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_parse_accepts_only_normalized_numbers() {
        let number = E164::parse("+4930609854189").unwrap();
        assert_eq!(number.as_str(), "+4930609854189");
        assert_eq!(number.digits(), "4930609854189");
        assert_eq!(number.to_string(), "+4930609854189");
        for bad in [
            "4930609854189",
            "+49 30 609854189",
            "+12345",
            "+0301234567",
            "+",
        ] {
            let err = E164::parse(bad).unwrap_err();
            assert_eq!(err, NumberError::NotE164(bad.to_owned()));
        }
    }

    #[test]
    fn e164_serializes_as_a_plain_string() {
        let number = E164::parse("+4930609854189").unwrap();
        let json = serde_json::to_string(&number).unwrap();
        assert_eq!(json, r#""+4930609854189""#);
        assert_eq!(serde_json::from_str::<E164>(&json).unwrap(), number);
        let err = serde_json::from_str::<E164>(r#""030 609854189""#).unwrap_err();
        assert!(
            err.to_string().contains("not a normalized phone number"),
            "{err}"
        );
    }
}
