//! The crate's one error type. Every variant carries a stable [`ClientError::code`] so that
//! the desktop UI can react to the kind of failure (ask for a new token, show "hub
//! unreachable") without parsing messages, and keeps the hub's human message for display.

use std::time::Duration;

use ringside_core::api::{ErrorBody, ErrorCode};

/// Why a call to the hub, or the stream connection, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The hub refused the agent token (HTTP 401): missing, wrong or revoked. Retrying with
    /// the same token cannot help.
    #[error("{message}")]
    Unauthorized {
        /// The hub's message.
        message: String,
    },
    /// The token is valid but the agent may not do this (HTTP 403).
    #[error("{message}")]
    Forbidden {
        /// The hub's message.
        message: String,
    },
    /// The journal entry, caller or route does not exist (HTTP 404).
    #[error("{message}")]
    NotFound {
        /// The hub's message.
        message: String,
    },
    /// The hub rejected the request's content (HTTP 400 or 422).
    #[error("{message}")]
    BadRequest {
        /// The hub's message.
        message: String,
    },
    /// The hub failed on its side (HTTP 5xx).
    #[error("{message}")]
    Internal {
        /// The hub's message.
        message: String,
    },
    /// The help desk could not make a call's ticket, with the hub's code for why
    /// ([`TICKET_CODES`]: not configured, unknown caller, help desk unreachable, refused or
    /// slow), so that the UI can say what to do.
    #[error("{message}")]
    Ticket {
        /// One of [`TICKET_CODES`].
        code: &'static str,
        /// The hub's message.
        message: String,
    },
    /// The hub answered with a status this client does not expect (e.g. a proxy's 302 or 429).
    #[error("{message} (HTTP {status})")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
        /// The hub's message, or the body's start when it is not the hub's error format.
        message: String,
    },
    /// No connection to the hub could be made: DNS, refused connection, TLS.
    #[error("hub unreachable: {detail}")]
    Unreachable {
        /// What the network layer said.
        detail: String,
    },
    /// The hub did not answer in time.
    #[error("the hub did not answer within {0:?}")]
    Timeout(Duration),
    /// The hub answered something this client cannot read (a version mismatch or a wrong URL).
    #[error("unexpected answer from the hub: {detail}")]
    InvalidResponse {
        /// What could not be read.
        detail: String,
    },
    /// An open stream connection broke or the hub closed it.
    #[error("connection to the hub lost: {detail}")]
    ConnectionLost {
        /// What the WebSocket layer said.
        detail: String,
    },
    /// Nothing (message, ping or pong) arrived on the stream for this long.
    #[error("no sign of life from the hub for {0:?}")]
    HeartbeatTimeout(Duration),
    /// The hub address or token cannot be used at all; the settings must change.
    #[error("invalid hub settings: {detail}")]
    InvalidConfig {
        /// What is wrong.
        detail: String,
    },
    /// The hub did not create the customer of a caller in the help desk, for a reason it
    /// names with a stable code.
    #[error("{message}")]
    CustomerNotCreated {
        /// Why.
        reason: CustomerRefusal,
        /// The hub's message.
        message: String,
    },
    /// A plain `http://` hub URL that is not on this computer: the agent token, which never
    /// expires, would cross the network in clear.
    #[error(
        "{url} is plain http on another machine: the token would cross the network \
         unencrypted. Use the hub's https:// address (or http:// on this computer only)"
    )]
    PlainHttp {
        /// The refused URL.
        url: String,
    },
}

/// Why the hub did not create a caller's customer in the help desk
/// (`POST /api/v1/calls/{id}/customer`), by the hub's stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerRefusal {
    /// `zammad_not_configured`: the hub syncs no help desk.
    NotConfigured,
    /// `no_number`: the caller's number is hidden.
    NoNumber,
    /// `caller_known`: a contact has the number already.
    CallerKnown,
    /// `zammad_unreachable`: the help desk could not be reached.
    Unreachable,
    /// `zammad_refused`: the help desk refused.
    Refused,
}

impl CustomerRefusal {
    const ALL: [CustomerRefusal; 5] = [
        CustomerRefusal::NotConfigured,
        CustomerRefusal::NoNumber,
        CustomerRefusal::CallerKnown,
        CustomerRefusal::Unreachable,
        CustomerRefusal::Refused,
    ];

    /// The hub's code, which the UI receives too.
    pub fn code(self) -> &'static str {
        let code = match self {
            CustomerRefusal::NotConfigured => ErrorCode::ZammadNotConfigured,
            CustomerRefusal::NoNumber => ErrorCode::NoNumber,
            CustomerRefusal::CallerKnown => ErrorCode::CallerKnown,
            CustomerRefusal::Unreachable => ErrorCode::ZammadUnreachable,
            CustomerRefusal::Refused => ErrorCode::ZammadRefused,
        };
        code.as_str()
    }

    /// The refusal a hub's error body names, if it names one.
    pub(crate) fn from_body(body: &[u8]) -> Option<(CustomerRefusal, String)> {
        let body: ErrorBody = serde_json::from_slice(body).ok()?;
        let reason = Self::ALL.into_iter().find(|r| r.code() == body.code)?;
        Some((reason, body.error))
    }
}

impl ClientError {
    /// The stable code the UI switches on; never changes for a variant.
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::Unauthorized { .. } => "unauthorized",
            ClientError::Forbidden { .. } => "forbidden",
            ClientError::NotFound { .. } => "not_found",
            ClientError::BadRequest { .. } => "bad_request",
            ClientError::Internal { .. } => "internal",
            ClientError::Ticket { code, .. } => code,
            ClientError::UnexpectedStatus { .. } => "unexpected_status",
            ClientError::Unreachable { .. } => "hub_unreachable",
            ClientError::Timeout(_) => "timeout",
            ClientError::InvalidResponse { .. } => "invalid_response",
            ClientError::ConnectionLost { .. } => "connection_lost",
            ClientError::HeartbeatTimeout(_) => "heartbeat_timeout",
            ClientError::InvalidConfig { .. } => "invalid_config",
            ClientError::PlainHttp { .. } => "plain_http_hub",
            ClientError::CustomerNotCreated { reason, .. } => reason.code(),
        }
    }

    /// Whether trying again with the same settings cannot succeed, so the stream stops
    /// instead of retrying forever (a revoked token must not hammer the hub).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            ClientError::Unauthorized { .. }
                | ClientError::Forbidden { .. }
                | ClientError::InvalidConfig { .. }
                | ClientError::PlainHttp { .. }
        )
    }

    /// Maps a non-success HTTP answer, keeping the hub's message from its
    /// `{"error": ..., "code": ...}` body when there is one.
    pub(crate) fn from_status(status: u16, body: &[u8]) -> Self {
        let message =
            hub_message(body).unwrap_or_else(|| format!("the hub answered HTTP {status}"));
        let hub_code = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .and_then(|body| {
                TICKET_CODES
                    .into_iter()
                    .find(|code| code.as_str() == body.code)
            })
            .map(ErrorCode::as_str);
        if let Some(code) = hub_code {
            return ClientError::Ticket { code, message };
        }
        match status {
            401 => ClientError::Unauthorized { message },
            403 => ClientError::Forbidden { message },
            404 => ClientError::NotFound { message },
            400 | 422 => ClientError::BadRequest { message },
            500..=599 => ClientError::Internal { message },
            _ => ClientError::UnexpectedStatus { status, message },
        }
    }
}

/// The hub's codes for why a call's ticket could not be made
/// (`POST /api/v1/calls/{id}/ticket`), passed on to the UI as they are.
pub const TICKET_CODES: [ErrorCode; 5] = [
    ErrorCode::ZammadNotConfigured,
    ErrorCode::UnknownCaller,
    ErrorCode::ZammadUnreachable,
    ErrorCode::ZammadRefused,
    ErrorCode::ZammadSlow,
];

fn hub_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|body| body.error)
        .filter(|message| !message.is_empty())
}

/// The error and its causes on one line: reqwest's and hyper's top-level messages alone
/// ("error sending request") say too little to act on. A cause whose text is already there
/// (tungstenite's "IO error: {0}") is not repeated.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_stable_codes_and_keep_the_hub_message() {
        let body = br#"{"error":"token revoked","code":"unauthorized"}"#;
        let error = ClientError::from_status(401, body);
        assert_eq!(error.code(), "unauthorized");
        assert_eq!(error.to_string(), "token revoked");
        assert!(error.is_terminal());

        for (status, code) in [
            (403, "forbidden"),
            (404, "not_found"),
            (400, "bad_request"),
            (422, "bad_request"),
            (500, "internal"),
            (503, "internal"),
            (429, "unexpected_status"),
        ] {
            assert_eq!(
                ClientError::from_status(status, b"{}").code(),
                code,
                "{status}"
            );
        }

        let body = br#"{"error":"the caller is no Zammad customer","code":"unknown_caller"}"#;
        let error = ClientError::from_status(409, body);
        assert_eq!(error.code(), "unknown_caller");
        assert_eq!(error.to_string(), "the caller is no Zammad customer");
        assert!(!error.is_terminal());
        let body = br#"{"error":"Zammad down","code":"zammad_unreachable"}"#;
        assert_eq!(
            ClientError::from_status(502, body).code(),
            "zammad_unreachable"
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Outer(&'static str, #[source] std::io::Error);

    #[test]
    fn causes_are_chained_once() {
        let refused = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            with_causes(&Outer("error sending request", refused())),
            "error sending request: refused"
        );
        assert_eq!(
            with_causes(&Outer("IO error: refused", refused())),
            "IO error: refused"
        );
    }

    #[test]
    fn a_body_that_is_not_the_hub_format_still_gives_a_message() {
        let error = ClientError::from_status(502, b"<html>Bad Gateway</html>");
        assert_eq!(error.to_string(), "the hub answered HTTP 502");
        assert!(!error.is_terminal());
    }
}
