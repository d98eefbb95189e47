//! Keeping webhook tokens out of logs. The token in a webhook's path is the secret that
//! admits a phone system's requests, so every URL or path that may reach a log, an error
//! message or the admin's terminal goes through [`tokens`] first: a log reader learns which
//! endpoint was called, never its token. The rule is structural (the path segment after a
//! webhook's prefix), so a wrong or outdated token is hidden too.

use std::borrow::Cow;

use crate::webhook_url::TOKEN_PREFIXES;

/// What stands in for a token.
pub const HIDDEN: &str = "<token>";

/// `text` with the token segment of every webhook path in it replaced by [`HIDDEN`]; text
/// without one comes back borrowed.
pub fn tokens(text: &str) -> Cow<'_, str> {
    if !TOKEN_PREFIXES.iter().any(|prefix| text.contains(prefix)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, prefix)) = TOKEN_PREFIXES
        .iter()
        .filter_map(|prefix| rest.find(prefix).map(|at| (at, *prefix)))
        .min_by_key(|(at, _)| *at)
    {
        let token_start = at + prefix.len();
        out.push_str(&rest[..token_start]);
        let after = &rest[token_start..];
        let token_len = after.find(ends_token).unwrap_or(after.len());
        if token_len > 0 {
            out.push_str(HIDDEN);
        }
        rest = &after[token_len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether `c` ends a path segment as URLs, query strings, XML and log lines write them.
fn ends_token(c: char) -> bool {
    matches!(
        c,
        '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '&' | ')' | ',' | ';'
    ) || c.is_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_webhook_token_is_hidden() {
        assert_eq!(
            tokens("https://hub.example/api/v1/twilio/s3cr3t-t0ken/voice?offer=CA1"),
            "https://hub.example/api/v1/twilio/<token>/voice?offer=CA1"
        );
        assert_eq!(
            tokens("POST /api/v1/cti/abc and /api/v1/placetel/def?x, /api/v1/sipgate/ghi/in"),
            "POST /api/v1/cti/<token> and /api/v1/placetel/<token>?x, /api/v1/sipgate/<token>/in"
        );
        assert_eq!(
            tokens(r#"Url is not valid: "https://h/api/v1/twilio/abc/status""#),
            r#"Url is not valid: "https://h/api/v1/twilio/<token>/status""#
        );
    }

    #[test]
    fn text_without_a_webhook_path_is_unchanged() {
        let text = "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json";
        assert!(matches!(tokens(text), Cow::Borrowed(t) if t == text));
        assert_eq!(tokens("/api/v1/twilio/"), "/api/v1/twilio/");
    }
}
