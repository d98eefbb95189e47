//! Request parameters as PBXs send them: form-encoded or a flat JSON object, where a key
//! may repeat (`user[]=a&user[]=b`) or hold an array.

use ringside_core::limits::{self, OverLimit};
use thiserror::Error;

/// Why a request body could not be read. The messages are shown to the admin.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The body is not what its content type says.
    #[error("the body is not valid {format}: {detail}")]
    Malformed {
        /// `JSON` or `form data`.
        format: &'static str,
        /// What the parser said.
        detail: String,
    },
}

/// The parameters of one request, in the order they came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Reads a body as JSON when the content type says so (or the body looks like a JSON
    /// object), as form data otherwise.
    pub fn from_body(content_type: Option<&str>, body: &[u8]) -> Result<Self, WireError> {
        let says_json = content_type.is_some_and(|ct| ct.contains("json"));
        let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if says_json || (content_type.is_none() && looks_json) {
            Self::from_json(body)
        } else {
            Self::from_form(body)
        }
    }

    /// Reads `application/x-www-form-urlencoded` data.
    pub fn from_form(body: &[u8]) -> Result<Self, WireError> {
        std::str::from_utf8(body).map_err(|e| WireError::Malformed {
            format: "form data",
            detail: e.to_string(),
        })?;
        let pairs = url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Params(pairs))
    }

    /// Reads a flat JSON object; arrays become repeated keys, numbers and booleans their text.
    pub fn from_json(body: &[u8]) -> Result<Self, WireError> {
        let malformed = |detail: String| WireError::Malformed {
            format: "JSON",
            detail,
        };
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
        let serde_json::Value::Object(object) = value else {
            return Err(malformed("expected an object".into()));
        };
        let mut pairs = Vec::new();
        for (key, value) in object {
            match value {
                serde_json::Value::Array(items) => {
                    for item in items {
                        pairs.push((key.clone(), scalar_text(item)));
                    }
                }
                serde_json::Value::Null => {}
                other => pairs.push((key, scalar_text(other))),
            }
        }
        Ok(Params(pairs))
    }

    /// The first value of a key, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value among several spellings of one key.
    pub fn first_of(&self, keys: &[&str]) -> Option<&str> {
        keys.iter()
            .filter_map(|key| self.get(key))
            .find(|v| !v.is_empty())
    }

    /// Every value of the given keys, in order, e.g. `user` and `user[]`.
    pub fn all_of(&self, keys: &[&str]) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every (name, value) pair in order, for signatures computed over all parameters
    /// (Twilio's `X-Twilio-Signature`).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// A field a provider reads and keeps, under each name it may be sent as, with the most
/// characters a value may have.
pub(crate) type Bound = (&'static [&'static str], usize);

impl Params {
    /// Refuses the request when a value of one of the `bounds`' fields has more characters
    /// than its bound; the error names the field as sent.
    pub(crate) fn check_lengths(&self, bounds: &[Bound]) -> Result<(), OverLimit> {
        for (key, value) in &self.0 {
            let bound = bounds
                .iter()
                .find(|(names, _)| names.contains(&key.as_str()));
            if let Some(&(_, limit)) = bound {
                if limits::exceeds(value, limit) {
                    return Err(OverLimit::TooLong {
                        field: key.clone(),
                        limit,
                    });
                }
            }
        }
        Ok(())
    }

    /// Refuses the request when the `keys` together come more than `limit` times; the error
    /// names the first key.
    pub(crate) fn check_count(&self, keys: &[&str], limit: usize) -> Result<(), OverLimit> {
        let count = self
            .0
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .count();
        if count > limit {
            return Err(OverLimit::TooMany {
                field: keys[0].to_owned(),
                limit,
            });
        }
        Ok(())
    }
}

fn scalar_text(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_keeps_repeated_keys() {
        let params = Params::from_form(b"event=newCall&user%5B%5D=Anna&user%5B%5D=Ben").unwrap();
        assert_eq!(params.get("event"), Some("newCall"));
        assert_eq!(params.all_of(&["user", "user[]"]), vec!["Anna", "Ben"]);
    }

    #[test]
    fn json_arrays_and_numbers_become_text() {
        let params = Params::from_body(
            Some("application/json"),
            br#"{"user":["A","B"],"callId":42}"#,
        )
        .unwrap();
        assert_eq!(params.all_of(&["user"]), vec!["A", "B"]);
        assert_eq!(params.get("callId"), Some("42"));
    }

    #[test]
    fn json_is_sniffed_without_content_type() {
        let params = Params::from_body(None, br#" {"event":"answer"}"#).unwrap();
        assert_eq!(params.get("event"), Some("answer"));
    }

    #[test]
    fn broken_json_is_a_clear_error() {
        let err = Params::from_body(Some("application/json"), b"{\"event\":").unwrap_err();
        assert!(err.to_string().starts_with("the body is not valid JSON"));
        let err = Params::from_body(Some("application/json"), b"[1]").unwrap_err();
        assert!(err.to_string().contains("expected an object"));
    }

    #[test]
    fn lengths_and_counts_are_checked_against_their_bounds() {
        let params = Params::from_form("callId=12345&user=a&user%5B%5D=b".as_bytes()).unwrap();
        let bounds: &[Bound] = &[(&["callId", "call_id"], 5), (&["user"], 1)];
        assert_eq!(params.check_lengths(bounds), Ok(()));
        let bounds: &[Bound] = &[(&["callId", "call_id"], 4)];
        assert_eq!(
            params.check_lengths(bounds),
            Err(OverLimit::TooLong {
                field: "callId".into(),
                limit: 4
            })
        );
        assert_eq!(params.check_count(&["user[]", "user"], 2), Ok(()));
        assert_eq!(
            params.check_count(&["user[]", "user"], 1),
            Err(OverLimit::TooMany {
                field: "user[]".into(),
                limit: 1
            })
        );
    }

    #[test]
    fn invalid_utf8_form_is_an_error() {
        assert!(Params::from_form(&[0x66, 0xff]).is_err());
    }
}
