//! The recent webhook requests with the hub's answers, kept in memory for the admin who is
//! setting up a PBX ("what did the PBX send, and what did we say?").
//!
//! Bounded by count and by bytes. Requests refused at the gate (a wrong token) are kept apart
//! in a small share of their own, so that anyone without the token cannot flush the PBX's
//! requests out of the log by sending many of theirs.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;

/// How many requests past the gate are kept.
const CAPACITY: usize = 200;
/// How many bytes the requests past the gate may hold together.
const BYTES: usize = 512 * 1024;
/// How many requests refused at the gate are kept.
const REFUSED_CAPACITY: usize = 20;
/// How many bytes the requests refused at the gate may hold together.
const REFUSED_BYTES: usize = 32 * 1024;
/// How much of a body (request or answer) is kept.
const BODY_LIMIT: usize = 4096;
/// How much of a content type is kept.
const CONTENT_TYPE_LIMIT: usize = 256;

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
    /// An entry for a request that arrived `at`.
    pub fn new(
        at: OffsetDateTime,
        endpoint: &'static str,
        headers: &axum::http::HeaderMap,
        request: String,
        status: axum::http::StatusCode,
        response: String,
    ) -> Self {
        WebhookLogEntry {
            at,
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
    at: OffsetDateTime,
    endpoint: &'static str,
    headers: &axum::http::HeaderMap,
    request: String,
    (status, answer): (axum::http::StatusCode, String),
    content_type: &'static str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    log.push(WebhookLogEntry::new(
        at,
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

/// What the log keeps of a request refused at the gate (see [`crate::webhook::gate::Gated`]).
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

/// The log; see the module documentation.
#[derive(Debug)]
pub struct WebhookLog(Mutex<Kept>);

impl Default for WebhookLog {
    fn default() -> Self {
        WebhookLog(Mutex::new(Kept {
            next: 0,
            passed: Ring::new(CAPACITY, BYTES),
            refused: Ring::new(REFUSED_CAPACITY, REFUSED_BYTES),
        }))
    }
}

/// The two shares of the log, and the number of the next entry (to merge them in order).
#[derive(Debug)]
struct Kept {
    next: u64,
    passed: Ring,
    refused: Ring,
}

/// Entries with their numbers, oldest first, bounded by count and by bytes.
#[derive(Debug)]
struct Ring {
    entries: VecDeque<(u64, WebhookLogEntry)>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl Ring {
    fn new(max_entries: usize, max_bytes: usize) -> Self {
        Ring {
            entries: VecDeque::new(),
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    fn push(&mut self, number: u64, entry: WebhookLogEntry) {
        let size = size_of(&entry);
        while !self.entries.is_empty()
            && (self.entries.len() >= self.max_entries || self.bytes + size > self.max_bytes)
        {
            if let Some((_, oldest)) = self.entries.pop_front() {
                self.bytes -= size_of(&oldest);
            }
        }
        self.bytes += size;
        self.entries.push_back((number, entry));
    }
}

/// The bytes an entry holds, its text and its fixed part.
fn size_of(entry: &WebhookLogEntry) -> usize {
    std::mem::size_of::<WebhookLogEntry>()
        + entry.request.len()
        + entry.response.len()
        + entry.content_type.as_ref().map_or(0, String::len)
}

/// Cuts `text` to at most `limit` bytes, on a character boundary.
fn cut(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut at = limit;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
}

impl WebhookLog {
    /// Remembers one request, forgetting the oldest of its share beyond the bounds.
    pub fn push(&self, mut entry: WebhookLogEntry) {
        cut(&mut entry.request, BODY_LIMIT);
        cut(&mut entry.response, BODY_LIMIT);
        if let Some(content_type) = &mut entry.content_type {
            cut(content_type, CONTENT_TYPE_LIMIT);
        }
        let refused = entry.request == NOT_KEPT;
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let number = kept.next;
        kept.next += 1;
        let share = if refused {
            &mut kept.refused
        } else {
            &mut kept.passed
        };
        share.push(number, entry);
    }

    /// The kept requests, newest first.
    pub fn recent(&self) -> Vec<WebhookLogEntry> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<&(u64, WebhookLogEntry)> = kept
            .passed
            .entries
            .iter()
            .chain(kept.refused.entries.iter())
            .collect();
        all.sort_by_key(|(number, _)| std::cmp::Reverse(*number));
        all.into_iter().map(|(_, entry)| entry.clone()).collect()
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

    #[test]
    fn holds_a_bounded_number_of_bytes_whatever_the_entries_carry() {
        let log = WebhookLog::default();
        for n in 0..CAPACITY * 2 {
            let mut big = entry(n);
            big.request = "r".repeat(1 << 20);
            big.response = "a".repeat(1 << 20);
            big.content_type = Some("c".repeat(1 << 20));
            log.push(big);
        }
        let recent = log.recent();
        let bytes: usize = recent.iter().map(size_of).sum();
        assert!(bytes <= BYTES + REFUSED_BYTES, "{bytes} bytes kept");
        assert!(!recent.is_empty());
        assert!(recent.iter().all(|e| e.response.len() <= BODY_LIMIT
            && e.content_type.as_ref().unwrap().len() <= CONTENT_TYPE_LIMIT));
    }

    #[test]
    fn a_flood_of_refused_requests_keeps_the_pbx_requests() {
        let log = WebhookLog::default();
        for n in 0..10 {
            log.push(entry(n));
        }
        for n in 0..10_000 {
            let mut refused = entry(n);
            refused.request = NOT_KEPT.to_owned();
            refused.status = 401;
            refused.content_type = Some("x".repeat(1 << 16));
            log.push(refused);
        }
        let recent = log.recent();
        let passed: Vec<_> = recent.iter().filter(|e| e.status == 200).collect();
        assert_eq!(passed.len(), 10, "every request past the gate is kept");
        let refused: Vec<_> = recent.iter().filter(|e| e.status == 401).collect();
        assert!(!refused.is_empty() && refused.len() <= REFUSED_CAPACITY);
        let bytes: usize = refused.iter().map(|e| size_of(e)).sum();
        assert!(bytes <= REFUSED_BYTES, "{bytes} bytes of refused requests");
        assert_eq!(recent[0].status, 401, "newest first, across both shares");
    }
}
