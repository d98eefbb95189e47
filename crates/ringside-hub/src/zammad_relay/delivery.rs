//! One post to Zammad's generic CTI endpoint, and what its answer means for the item:
//! delivered, worth another try (Zammad down, slow or failing), or refused for good (a
//! ticket job's outcome, [`super::tickets`], says the same in the same words).

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::Value;

use crate::store::OutboxItem;

/// How long connecting to Zammad may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// How long a whole post may take; Zammad answers a CTI event in milliseconds.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// The most characters of Zammad's error text kept as the reason.
const MESSAGE_LIMIT: usize = 300;

/// The client every relay post goes through, so the connection to Zammad is reused. It
/// never follows a redirect: the token is in the path.
static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client with rustls and no custom roots builds")
});

/// What became of one post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Zammad has the event (it took it now, or had the `newCall` already).
    Delivered,
    /// Not now (unreachable, timed out, 5xx, 429): try again later.
    Retry(String),
    /// Zammad refused it and would refuse it again (wrong token, integration off, no such
    /// call): give up on it.
    Refused(String),
    /// A ticket job: the call is logged in this ticket.
    Logged(ringside_core::call::CallTicket),
}

/// Posts `item` to `endpoint` (which holds the token: never logged) and says what became of it.
pub async fn post(endpoint: &str, item: &OutboxItem) -> Outcome {
    match post_raw(endpoint, item.body.clone()).await {
        Ok((status, body)) => classify(&item.event, item.sent_before, status, &body),
        Err(reason) => Outcome::Retry(reason),
    }
}

/// Posts a JSON `body` to `endpoint`: Zammad's status and answer, or why there is none
/// (unreachable, or a successful answer cut off), in words without the URL.
pub async fn post_raw(endpoint: &str, body: String) -> Result<(u16, String), String> {
    let response = CLIENT
        .post(endpoint)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        // Without the URL: it holds the token.
        .map_err(|e| format!("Zammad unreachable: {}", with_causes(e)))?;
    let status = response.status().as_u16();
    match response.text().await {
        Ok(body) => Ok((status, body)),
        Err(e) if (200..300).contains(&status) => {
            Err(format!("Zammad's answer was cut off: {}", e.without_url()))
        }
        Err(_) => Ok((status, String::new())),
    }
}

/// A transport error with its causes ("connection refused" is a cause of "error sending
/// request"), without the URL: it holds the token.
fn with_causes(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// What an answer with `status` and `body` to an `event` means (`sent_before`: a post of
/// the same item had begun before). Zammad answers a second `newCall` for a call with 500
/// "call_id … already exists!": the `newCall` of an earlier try arrived (the hub stopped, or
/// the answer was lost, before it was marked delivered). In production Zammad masks the
/// text of a 500 for callers without admin rights ("Error ID …"), so any 500 to a `newCall`
/// sent before counts as that. An `answer` or `hangup` for a call it does not know is 500
/// "No such call_id", which no retry mends.
pub fn classify(event: &str, sent_before: bool, status: u16, body: &str) -> Outcome {
    if (200..300).contains(&status) {
        return Outcome::Delivered;
    }
    let message = error_text(body);
    let reason = if message.is_empty() {
        format!("Zammad answered {event} with HTTP {status}")
    } else {
        format!("Zammad answered {event} with HTTP {status}: {message}")
    };
    if status == 500 && event == "newCall" && (sent_before || message.contains("already exists")) {
        return Outcome::Delivered;
    }
    if status == 500 && message.contains("No such call_id") {
        return Outcome::Refused(reason);
    }
    match status {
        408 | 429 | 500..=599 => Outcome::Retry(reason),
        _ => Outcome::Refused(reason),
    }
}

/// Zammad's `{"error": "…"}` text, cut to [`MESSAGE_LIMIT`] characters; the body itself
/// when it is not that shape.
pub(crate) fn error_text(body: &str) -> String {
    let text = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|json| json.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned());
    text.chars().take(MESSAGE_LIMIT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zammads_answers_say_delivered_retry_or_refused() {
        assert_eq!(classify("newCall", false, 200, "{}"), Outcome::Delivered);
        assert_eq!(
            classify(
                "newCall",
                false,
                200,
                r#"{"action":"reject","reason":"busy"}"#
            ),
            Outcome::Delivered,
            "a blocked caller is still logged"
        );
        assert_eq!(
            classify(
                "newCall",
                false,
                500,
                r#"{"error":"call_id placetel-1 already exists!"}"#
            ),
            Outcome::Delivered
        );
        assert!(matches!(
            classify("hangup", false, 500, r#"{"error":"No such call_id placetel-1"}"#),
            Outcome::Refused(reason) if reason.contains("No such call_id")
        ));
        assert!(matches!(
            classify("newCall", false, 401, r#"{"error":"Invalid token, please contact your admin!"}"#),
            Outcome::Refused(reason) if reason == "Zammad answered newCall with HTTP 401: Invalid token, please contact your admin!"
        ));
        for refusal in [
            "Feature is disabled, please contact your administrator!",
            "Feature not configured, please contact your admin!",
            "Invalid 'direction'!",
        ] {
            let body = serde_json::json!({ "error": refusal }).to_string();
            assert!(matches!(
                classify("answer", false, 422, &body),
                Outcome::Refused(_)
            ));
        }
        assert!(
            matches!(classify("newCall", false, 503, "down"), Outcome::Retry(r) if r.ends_with("503: down"))
        );
        assert!(matches!(
            classify("answer", false, 500, "{\"error\":\"Error ID x\"}"),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            classify("answer", false, 429, ""),
            Outcome::Retry(_)
        ));
        let masked = r#"{"error":"Error ID 1a2b3c: Please contact your administrator."}"#;
        assert!(matches!(
            classify("newCall", false, 500, masked),
            Outcome::Retry(_)
        ));
        assert_eq!(
            classify("newCall", true, 500, masked),
            Outcome::Delivered,
            "a newCall sent before: Zammad has it"
        );
    }
}
