//! The checks every PBX webhook passes before its body is parsed or kept, in Zammad's order and with
//! Zammad's status codes and texts: the endpoint is switched on, it has a token, and the
//! path carries that token (compared in constant time).

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
    if configured.is_empty() {
        return Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Feature not configured, please contact your admin!",
        ));
    }
    if !token::matches(presented, configured) {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "Invalid token, please contact your admin!",
        ));
    }
    Ok(())
}

/// Admits a request as [`admit`] does, then hands out its body as read (an oversized or
/// broken body is refused with the reason).
pub fn admit_body(
    enabled: bool,
    configured: &str,
    presented: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, Refusal> {
    admit(enabled, configured, presented)?;
    body.map_err(|e| Refusal {
        status: e.status(),
        message: e.body_text(),
    })
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
    fn empty_token_is_not_configured() {
        let refusal = admit(true, "", "").unwrap_err();
        assert_eq!(
            refusal.message,
            "Feature not configured, please contact your admin!"
        );
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
