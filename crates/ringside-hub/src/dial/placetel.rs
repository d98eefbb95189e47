//! Click-to-dial through Placetel's REST API (`POST {api_url}/calls`, Bearer token):
//! Placetel rings the agent's SIP user and, once it answers, dials the customer. The call
//! then reaches the journal through Placetel's `OutgoingCall` webhook.

use ringside_core::call::Provider;
use ringside_core::number::E164;
use serde_json::json;

use super::upstream::{self, ProviderError};
use crate::config;

/// Asks Placetel to connect the SIP user `sipuid` with `number`. Placetel's answer names
/// no id that its webhooks use, so there is none to return.
pub async fn dial(
    client: &reqwest::Client,
    placetel: &config::Placetel,
    sipuid: &str,
    number: &E164,
) -> Result<(), ProviderError> {
    let url = format!("{}/calls", placetel.api_url.trim_end_matches('/'));
    let request = client
        .post(url)
        .bearer_auth(placetel.api_token.trim())
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&json!({"sipuid": sipuid, "target": number.as_str()}));
    upstream::send(Provider::Placetel, request).await?;
    Ok(())
}
