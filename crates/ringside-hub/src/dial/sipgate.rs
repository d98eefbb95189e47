//! Click-to-dial through sipgate's REST API (`POST {api_url}/sessions/calls`, Basic
//! `tokenId:token`): sipgate rings the agent's device and, once it answers, dials the
//! customer. Its `sessionId` is the `callId` of the webhooks that follow.

use ringside_core::call::Provider;
use ringside_core::number::E164;
use serde::{Deserialize, Serialize};

use super::upstream::{self, ProviderError};
use crate::config;

/// The request body sipgate documents.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NewCall<'a> {
    caller: &'a str,
    callee: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    caller_id: Option<&'a str>,
}

/// sipgate's answer to a started call.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    session_id: String,
}

/// Asks sipgate to connect the agent's device or user `caller` with `number`, presenting
/// `caller_id` (E.164) when given; returns the session id.
pub async fn dial(
    client: &reqwest::Client,
    sipgate: &config::Sipgate,
    caller: &str,
    number: &E164,
    caller_id: Option<&str>,
) -> Result<String, ProviderError> {
    let url = format!("{}/sessions/calls", sipgate.api_url.trim_end_matches('/'));
    let request = client
        .post(url)
        .basic_auth(sipgate.api_token_id.trim(), Some(sipgate.api_token.trim()))
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&NewCall {
            caller,
            callee: number.as_str(),
            caller_id,
        });
    let body = upstream::send(Provider::Sipgate, request).await?;
    // sipgate answers 200 even when it cannot ring the caller; a session id is the only
    // sign that a call exists.
    serde_json::from_slice::<Session>(&body)
        .ok()
        .map(|session| session.session_id)
        .filter(|id| !id.is_empty())
        .ok_or(ProviderError::NoCall {
            provider: Provider::Sipgate,
            detail: "it answered without a session id, so no call was started; check that \
                     your sipgate device id is right and your phone is online",
        })
}
