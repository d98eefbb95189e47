//! Talking to a provider's REST API: one HTTP client with bounded waits, and every way a
//! request can fail turned into a sentence the agent can act on (`502 provider_error`,
//! `504 provider_timeout`).

use std::sync::LazyLock;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ringside_core::api::{ErrorBody, ErrorCode};
use ringside_core::call::Provider;
use serde_json::Value;
use thiserror::Error;

use crate::root_cause::root_cause;

/// How long connecting to a provider may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// How long a whole request to a provider may take; the agent is waiting for the answer.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The most characters of a provider's error text passed on to the agent.
const MESSAGE_LIMIT: usize = 300;

/// The most bytes read from a provider's answer: its JSON takes a few hundred.
const BODY_LIMIT: usize = 1024 * 1024;

/// The client every dial request goes through, so connections to a provider are reused.
pub static CLIENT: LazyLock<reqwest::Client> =
    LazyLock::new(|| client(CONNECT_TIMEOUT, TOTAL_TIMEOUT));

/// A client that gives up after these waits and never follows a redirect (a provider
/// API that redirects a POST is misconfigured, and following it would resend credentials).
fn client(connect: Duration, total: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(total)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client with rustls and no custom roots builds")
}

/// Why a provider did not start the call. Nothing is recorded for any of them.
#[derive(Debug, Error)]
pub enum ProviderError {
    /// The provider answered with an error status.
    #[error("{} refused the call: {message} (HTTP {status})", name(*provider))]
    Refused {
        /// Who refused.
        provider: Provider,
        /// The status code.
        status: u16,
        /// The provider's own message, or the status's name when it gave none.
        message: String,
    },
    /// The provider said yes but its answer lacks what a started call has.
    #[error("{} refused the call: {detail}", name(*provider))]
    NoCall {
        /// Who answered.
        provider: Provider,
        /// What is missing and what to check.
        detail: &'static str,
    },
    /// No answer could be had: DNS, connection or TLS failed.
    #[error("{} could not be reached: {cause}", name(*provider))]
    Unreachable {
        /// Who could not be reached.
        provider: Provider,
        /// The lowest-level cause.
        cause: String,
    },
    /// The provider did not answer in time; the call may have started anyway.
    #[error(
        "{} did not answer in time; the call may have started anyway, so check your phone \
         before dialing again",
        name(*provider)
    )]
    Timeout {
        /// Who did not answer.
        provider: Provider,
    },
}

impl IntoResponse for ProviderError {
    fn into_response(self) -> Response {
        tracing::warn!("click-to-dial: {self}");
        let (status, code) = match self {
            ProviderError::Timeout { .. } => {
                (StatusCode::GATEWAY_TIMEOUT, ErrorCode::ProviderTimeout)
            }
            _ => (StatusCode::BAD_GATEWAY, ErrorCode::ProviderError),
        };
        let body = ErrorBody::new(code, self.to_string());
        (status, Json(body)).into_response()
    }
}

/// How providers are named to agents: by their display name, the generic CTI API, which
/// places no calls, as the PBX.
fn name(provider: Provider) -> &'static str {
    match provider {
        Provider::Generic => "the PBX",
        other => other.display_name(),
    }
}

/// Sends a request to `provider`; the body of a successful (2xx) answer, else the failure.
pub async fn send(
    provider: Provider,
    request: reqwest::RequestBuilder,
) -> Result<Vec<u8>, ProviderError> {
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            ProviderError::Timeout { provider }
        } else {
            ProviderError::Unreachable {
                provider,
                cause: root_cause(&e),
            }
        }
    };
    let mut response = request.send().await.map_err(failed)?;
    let status = response.status();
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ProviderError::NoCall {
                provider,
                detail: "its answer is larger than 1 MiB; check the API URL",
            });
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(ProviderError::Refused {
            provider,
            status: status.as_u16(),
            message: message(&body, status),
        });
    }
    Ok(body)
}

/// What a provider's error answer says: the message of a JSON error (Twilio's and
/// Placetel's `message`, or an `error` string or object), a short plain-text body, else the
/// status's name. A webhook token the text quotes (Twilio's texts quote the request, such
/// as the hub's callback URL) is hidden: the agent sees the text, and it is logged.
fn message(body: &[u8], status: StatusCode) -> String {
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|json| {
        [&json["message"], &json["error"], &json["error"]["message"]]
            .into_iter()
            .find_map(|v| v.as_str().map(str::trim).filter(|m| !m.is_empty()))
            .map(str::to_owned)
    });
    let text = || {
        let text = String::from_utf8_lossy(body).trim().to_owned();
        (!text.is_empty() && !text.starts_with('<') && !text.starts_with('{')).then_some(text)
    };
    let message = from_json
        .or_else(text)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let message = crate::redact::tokens(&message).into_owned();
    match message.char_indices().nth(MESSAGE_LIMIT) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_messages_are_found() {
        let twilio = br#"{"code": 21210, "message": "The source phone number provided, +4930, is not yet verified for your account.", "more_info": "https://www.twilio.com/docs/errors/21210", "status": 400}"#;
        assert_eq!(
            message(twilio, StatusCode::BAD_REQUEST),
            "The source phone number provided, +4930, is not yet verified for your account."
        );
        assert_eq!(
            message(
                br#"{"error": "sipuid is invalid"}"#,
                StatusCode::UNPROCESSABLE_ENTITY
            ),
            "sipuid is invalid"
        );
        assert_eq!(
            message(br#"{"error": {"message": "nope"}}"#, StatusCode::FORBIDDEN),
            "nope"
        );
        assert_eq!(
            message(b"Insufficient balance\n", StatusCode::PAYMENT_REQUIRED),
            "Insufficient balance"
        );
        assert_eq!(message(b"", StatusCode::UNAUTHORIZED), "Unauthorized");
        assert_eq!(
            message(b"<html>502</html>", StatusCode::BAD_GATEWAY),
            "Bad Gateway"
        );
        assert_eq!(message(b"{}", StatusCode::NOT_FOUND), "Not Found");
        let long = "x".repeat(1000);
        assert_eq!(
            message(long.as_bytes(), StatusCode::BAD_REQUEST)
                .chars()
                .count(),
            MESSAGE_LIMIT + 1
        );
    }

    #[test]
    fn a_quoted_webhook_token_is_hidden() {
        let twilio = br#"{"code": 21609, "message": "Invalid StatusCallback: https://hub.example/api/v1/twilio/s3cr3t-webhook-token/status", "status": 400}"#;
        assert_eq!(
            message(twilio, StatusCode::BAD_REQUEST),
            "Invalid StatusCallback: https://hub.example/api/v1/twilio/<token>/status"
        );
    }

    #[tokio::test]
    async fn a_slow_provider_is_a_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let slow = axum::Router::new().route(
            "/calls",
            axum::routing::post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                StatusCode::CREATED
            }),
        );
        let server = tokio::spawn(async move { axum::serve(listener, slow).await });
        let client = client(Duration::from_millis(500), Duration::from_millis(200));
        let err = send(
            Provider::Placetel,
            client.post(format!("http://{addr}/calls")),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ProviderError::Timeout { .. }), "{err:?}");
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        server.abort();
    }
}
