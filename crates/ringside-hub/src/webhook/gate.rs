//! The checks every PBX webhook passes before its body is parsed or kept, in Zammad's order and with
//! Zammad's status codes and texts: the endpoint is switched on, and the path carries its
//! token (compared in constant time). Zammad's third refusal, 422 "Feature not configured"
//! for an endpoint without a token, cannot happen here: the configuration refuses an
//! endpoint switched on without a token of 16 characters or more.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;

use crate::token;

/// A request refused before its body was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 401 or 422.
    pub status: StatusCode,
    /// Zammad's text for it, or why the body could not be read.
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: &str) -> Self {
        Refusal {
            status,
            message: message.to_owned(),
        }
    }
}

/// Admits a request whose path carries `presented` to an endpoint switched on by `enabled`
/// with the token `configured`.
pub fn admit(enabled: bool, configured: &str, presented: &str) -> Result<(), Refusal> {
    if !enabled {
        return Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Feature is disabled, please contact your administrator!",
        ));
    }
    // An empty token never admits anything, even in settings built without the checks.
    if configured.is_empty() || !token::matches(presented, configured) {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "Invalid token, please contact your admin!",
        ));
    }
    Ok(())
}

/// A request past the gate, or not: its body to act on, and what the webhook log keeps of it.
#[derive(Debug)]
pub struct Gated {
    /// The body as read, or why the request is refused (the gate, an oversized or broken body).
    pub body: Result<Bytes, Refusal>,
    /// What the log keeps: the body's text, or nothing of a request refused at the gate, so
    /// that anyone without the token cannot fill the admin's log with text of their choosing.
    pub logged: String,
}

/// Admits a request as [`admit`] does, and hands out its body as read.
pub fn open(
    enabled: bool,
    configured: &str,
    presented: &str,
    body: Result<Bytes, BytesRejection>,
) -> Gated {
    if let Err(refusal) = admit(enabled, configured, presented) {
        return Gated {
            body: Err(refusal),
            logged: crate::webhook_log::NOT_KEPT.to_owned(),
        };
    }
    Gated {
        logged: crate::webhook_log::request_text(&body),
        body: body.map_err(|e| Refusal {
            status: e.status(),
            message: e.body_text(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_wins_over_a_wrong_token() {
        let refusal = admit(false, "configured-token", "wrong").unwrap_err();
        assert_eq!(refusal.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refusal.message.starts_with("Feature is disabled"));
    }

    #[test]
    fn an_empty_token_admits_nothing() {
        let refusal = admit(true, "", "").unwrap_err();
        assert_eq!(refusal.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refusal.message, "Invalid token, please contact your admin!");
    }

    #[test]
    fn the_token_must_match() {
        assert_eq!(
            admit(true, "configured-token", "wrong").unwrap_err().status,
            StatusCode::UNAUTHORIZED
        );
        assert!(admit(true, "configured-token", "configured-token").is_ok());
    }
}
