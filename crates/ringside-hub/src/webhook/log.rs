//! The recent webhook requests with the hub's answers, kept in memory for the admin who is
//! setting up a PBX ("what did the PBX send, and what did we say?").

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;

/// How many requests are kept.
const CAPACITY: usize = 200;
/// How much of a body is kept.
const BODY_LIMIT: usize = 4096;

/// One webhook request and the answer it got.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookLogEntry {
    /// When it arrived.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Which endpoint: `generic`, `placetel`, `sipgate`, `twilio`.
    pub endpoint: &'static str,
    /// The request's content type.
    pub content_type: Option<String>,
    /// The request body (cut at 4 KiB).
    pub request: String,
    /// The status code answered.
    pub status: u16,
    /// The answer body.
    pub response: String,
}

impl WebhookLogEntry {
    /// An entry for a request that arrives now.
    pub fn new(
        endpoint: &'static str,
        headers: &axum::http::HeaderMap,
        request: String,
        status: axum::http::StatusCode,
        response: String,
    ) -> Self {
        WebhookLogEntry {
            at: OffsetDateTime::now_utc(),
            endpoint,
            content_type: headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            request,
            status: status.as_u16(),
            response,
        }
    }
}

/// Answers a webhook with `answer` as `content_type`, remembering the exchange in the log.
pub fn reply(
    log: &WebhookLog,
    endpoint: &'static str,
    headers: &axum::http::HeaderMap,
    request: String,
    (status, answer): (axum::http::StatusCode, String),
    content_type: &'static str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    log.push(WebhookLogEntry::new(
        endpoint,
        headers,
        request,
        status,
        answer.clone(),
    ));
    (
        status,
        [(axum::http::header::CONTENT_TYPE, content_type)],
        answer,
    )
        .into_response()
}

/// What the log keeps of a request refused at the gate (see [`super::gate::Gated`]).
pub const NOT_KEPT: &str = "(body not kept: refused at the gate)";

/// The body of a request as the log keeps it: its text, or why it could not be read.
pub fn request_text(
    body: &Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> String {
    match body {
        Ok(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Err(e) => format!("({})", e.body_text()),
    }
}

/// The ring buffer; see the module documentation.
#[derive(Debug, Default)]
pub struct WebhookLog(Mutex<VecDeque<WebhookLogEntry>>);

impl WebhookLog {
    /// Remembers one request, forgetting the oldest beyond the capacity.
    pub fn push(&self, mut entry: WebhookLogEntry) {
        if entry.request.len() > BODY_LIMIT {
            let mut cut = BODY_LIMIT;
            while !entry.request.is_char_boundary(cut) {
                cut -= 1;
            }
            entry.request.truncate(cut);
        }
        let mut log = self.0.lock().expect("webhook log lock");
        if log.len() == CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }

    /// The kept requests, newest first.
    pub fn recent(&self) -> Vec<WebhookLogEntry> {
        let log = self.0.lock().expect("webhook log lock");
        log.iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize) -> WebhookLogEntry {
        WebhookLogEntry {
            at: OffsetDateTime::UNIX_EPOCH,
            endpoint: "generic",
            content_type: None,
            request: format!("request {n}"),
            status: 200,
            response: "{}".into(),
        }
    }

    #[test]
    fn keeps_the_newest_first_up_to_capacity() {
        let log = WebhookLog::default();
        for n in 0..CAPACITY + 5 {
            log.push(entry(n));
        }
        let recent = log.recent();
        assert_eq!(recent.len(), CAPACITY);
        assert_eq!(recent[0].request, format!("request {}", CAPACITY + 4));
        assert_eq!(recent.last().unwrap().request, "request 5");
    }

    #[test]
    fn cuts_long_bodies_on_a_character_boundary() {
        let log = WebhookLog::default();
        let mut long = entry(0);
        long.request = "ä".repeat(BODY_LIMIT);
        log.push(long);
        let kept = &log.recent()[0].request;
        assert!(kept.len() <= BODY_LIMIT);
        assert!(kept.chars().all(|c| c == 'ä'));
    }
}
