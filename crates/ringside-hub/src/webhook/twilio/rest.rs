//! The requests the simple-queue flow makes to Twilio's REST Calls API (reference §1.6):
//! creating a call to an agent, and changing a live call (hanging up an agent's call,
//! sending a caller away). `POST {api_url}/2010-04-01/Accounts/{sid}/Calls[/{CallSid}].json`,
//! form-encoded, with HTTP Basic `AccountSid:AuthToken`.

use std::sync::LazyLock;
use std::time::Duration;

use ringside_providers::twilio::calls_url;
use serde::Deserialize;
use thiserror::Error;

use crate::config;

/// Twilio answers within this or the webhook that made the request waits too long
/// (Twilio gives the hub 15 s to answer it).
const TIMEOUT: Duration = Duration::from_secs(5);

/// One client for every request, so connections to Twilio are reused; it never follows a
/// redirect, which would resend the credentials.
static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client with rustls and no custom roots builds")
});

/// Why Twilio did not do what the hub asked; logged, never shown to a caller.
#[derive(Debug, Error)]
pub enum RestError {
    /// No answer: DNS, connection, TLS or the timeout.
    #[error("Twilio's API could not be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// Twilio answered with an error status.
    #[error("Twilio's API answered HTTP {status}: {body}")]
    Refused {
        /// The status code.
        status: u16,
        /// Twilio's error document.
        body: String,
    },
    /// A created call's answer without its `sid`.
    #[error("Twilio's API answered without a call sid")]
    NoSid,
    /// An answer larger than any Call resource: not Twilio's API at the configured URL.
    #[error("Twilio's answer is larger than {ANSWER_LIMIT} bytes; check twilio.api_url")]
    TooLarge,
}

/// The most bytes of an answer read from Twilio's API: a Call resource is a few KiB.
const ANSWER_LIMIT: usize = 1024 * 1024;

/// The Call resource Twilio answers with; only its sid matters.
#[derive(Debug, Deserialize)]
struct CallResource {
    sid: String,
}

/// Creates a call with `form` (`To`, `From`, `Twiml`, …); returns its `CallSid`.
pub async fn create_call(
    twilio: &config::Twilio,
    form: &[(&str, String)],
) -> Result<String, RestError> {
    let body = post(
        twilio,
        &calls_url(&twilio.api_url, twilio.account_sid.trim()),
        form,
    )
    .await?;
    serde_json::from_slice::<CallResource>(&body)
        .ok()
        .map(|call| call.sid)
        .filter(|sid| !sid.is_empty())
        .ok_or(RestError::NoSid)
}

/// Changes the live call `call_sid` (`Status=completed` hangs it up, `Twiml=…` replaces
/// what it runs).
pub async fn update_call(
    twilio: &config::Twilio,
    call_sid: &str,
    form: &[(&str, String)],
) -> Result<(), RestError> {
    let calls = calls_url(&twilio.api_url, twilio.account_sid.trim());
    let url = format!("{}/{call_sid}.json", calls.trim_end_matches(".json"));
    post(twilio, &url, form).await.map(drop)
}

async fn post(
    twilio: &config::Twilio,
    url: &str,
    form: &[(&str, String)],
) -> Result<Vec<u8>, RestError> {
    let mut response = CLIENT
        .post(url)
        .basic_auth(twilio.account_sid.trim(), Some(twilio.auth_token.trim()))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await?;
    let status = response.status();
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > ANSWER_LIMIT {
            return Err(RestError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(RestError::Refused {
            status: status.as_u16(),
            // Twilio's error texts quote the request, such as a callback URL with the
            // hub's webhook token.
            body: crate::redact::tokens(&String::from_utf8_lossy(&body))
                .chars()
                .take(300)
                .collect(),
        });
    }
    Ok(body)
}
