//! Click-to-dial through Twilio's REST API (`POST {api_url}/2010-04-01/Accounts/{sid}/Calls.json`,
//! Basic `AccountSid:AuthToken`): Twilio calls the agent's phone or client and, once it
//! answers, dials the customer. Twilio's requests about the call never name the customer,
//! so the hub records the call's `newCall` itself.

use ringside_core::call::Provider;
use ringside_core::number::E164;
use ringside_providers::twilio::{calls_url, click_to_dial_form};
use serde::Deserialize;

use super::upstream::{self, ProviderError};
use crate::config;
use crate::webhook_url::Webhook;

/// Twilio's answer to a created call (the Call resource; only its sid matters here).
#[derive(Debug, Deserialize)]
struct CallResource {
    sid: String,
}

/// Asks Twilio to call `agent` from `caller_id` and then `number`, reporting progress to
/// the hub's status webhook under `public_url`; returns the call's sid.
pub async fn dial(
    client: &reqwest::Client,
    twilio: &config::Twilio,
    public_url: &str,
    agent: &str,
    number: &E164,
    caller_id: &str,
) -> Result<String, ProviderError> {
    let status_callback = Webhook::Twilio("status").url(public_url, &twilio.token);
    let form = click_to_dial_form(agent, number.as_str(), caller_id, &status_callback);
    let request = client
        .post(calls_url(&twilio.api_url, twilio.account_sid.trim()))
        .basic_auth(twilio.account_sid.trim(), Some(twilio.auth_token.trim()))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form);
    let body = upstream::send(Provider::Twilio, request).await?;
    serde_json::from_slice::<CallResource>(&body)
        .ok()
        .map(|call| call.sid)
        .filter(|sid| !sid.is_empty())
        .ok_or(ProviderError::NoCall {
            provider: Provider::Twilio,
            detail: "its answer has no call sid, so no call was started",
        })
}
