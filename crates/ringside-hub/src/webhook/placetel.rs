//! `POST /api/v1/placetel/:token`: Placetel's notify API, answered with XML as Zammad does.
//!
//! The signature (`X-PLACETEL-SIGNATURE`) is checked on the raw body before anything is read
//! when a signing secret is configured. Follow-up events (`CallAccepted`, `HungUp`) usually
//! carry no direction: it is taken from the call in the journal, and a follow-up for a call
//! the hub does not know is refused with Zammad's "Invalid 'direction'!".

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ringside_core::call::Provider;
use ringside_core::journal::JournalError;
use ringside_providers::{placetel, Params};

use super::failure::{self, Failure};
use super::gate::{self, Refusal};
use crate::intake;
use crate::state::Hub;

/// The handler; see the module documentation.
pub async fn placetel(
    State(hub): State<Arc<Hub>>,
    Path(path_token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let endpoint = &hub.settings.config.placetel;
    let gated = gate::open(endpoint.enabled, &endpoint.token, &path_token, body);
    let outcome = handle(&hub, &headers, gated.body).await;
    let answered = failure::answer("Placetel", outcome, placetel::error);
    crate::webhook_log::reply(
        &hub.webhook_log,
        hub.clock.now(),
        "placetel",
        &headers,
        gated.logged,
        answered,
        placetel::CONTENT_TYPE,
    )
}

async fn handle(
    hub: &Hub,
    headers: &HeaderMap,
    body: Result<Bytes, Refusal>,
) -> Result<String, Failure> {
    let config = &hub.settings.config.placetel;
    let body = body.map_err(Failure::Gate)?;
    if !config.signing_secret.is_empty() {
        let signature = headers
            .get(placetel::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok());
        placetel::verify_signature(&config.signing_secret, &body, signature)?;
    }
    let params = Params::from_form(&body)?;
    let mut event = placetel::event(&params)?;
    if event.direction.is_none() {
        let direction = hub
            .store
            .call_direction(Provider::Placetel, &event.call_id)?;
        event.direction = Some(direction.ok_or(JournalError::InvalidDirection)?);
    }
    // A SIP user: show the agent's name, or else the name Placetel has for that user.
    let sip_user = match &event.answering_user {
        Some(peer) => Some(peer.clone()),
        None => event.user.clone().filter(|u| u.contains('@')),
    };
    if let Some(sip_user) = sip_user {
        let name = match hub.store.agent_by_identity(Provider::Placetel, &sip_user)? {
            Some(login) => hub.store.agent(&login).ok().flatten().map(|a| a.name),
            None => {
                hub.placetel_users
                    .name_of(&config.api_url, &config.api_token, &sip_user)
                    .await
            }
        };
        if let Some(name) = name {
            event.user = Some(name);
        } else if event.answering_user.is_none() {
            event.user = None;
        }
    }
    let answer = intake::process(hub, Provider::Placetel, event).await?;
    Ok(placetel::answer(&answer))
}
