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
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ringside_core::call::Provider;
use ringside_core::journal::JournalError;
use ringside_providers::{placetel, Params};

use super::gate::{self, Refusal};
use crate::intake;
use crate::recorder::RecordError;
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
    let answered = handle(&hub, &headers, gated.body).await;
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
) -> (StatusCode, String) {
    let config = &hub.settings.config.placetel;
    let fail = |status: StatusCode, message: &str| (status, placetel::error(message));
    let body = match body {
        Ok(body) => body,
        Err(refusal) => return fail(refusal.status, &refusal.message),
    };
    if !config.signing_secret.is_empty() {
        let signature = headers
            .get(placetel::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok());
        if let Err(e) = placetel::verify_signature(&config.signing_secret, &body, signature) {
            return fail(StatusCode::UNAUTHORIZED, &e.to_string());
        }
    }
    let params = match Params::from_form(&body) {
        Ok(params) => params,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let mut event = match placetel::event(&params) {
        Ok(event) => event,
        Err(e) => return fail(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    };
    if event.direction.is_none() {
        match hub.store.call_direction(Provider::Placetel, &event.call_id) {
            Ok(Some(direction)) => event.direction = Some(direction),
            Ok(None) => {
                let invalid = JournalError::InvalidDirection.to_string();
                return fail(StatusCode::UNPROCESSABLE_ENTITY, &invalid);
            }
            Err(e) => return store_failed(&e),
        }
    }
    // A SIP user: show the agent's name, or else the name Placetel has for that user.
    let sip_user = match &event.answering_user {
        Some(peer) => Some(peer.clone()),
        None => event.user.clone().filter(|u| u.contains('@')),
    };
    if let Some(sip_user) = sip_user {
        let name = match hub.store.agent_by_identity(Provider::Placetel, &sip_user) {
            Ok(Some(login)) => hub.store.agent(&login).ok().flatten().map(|a| a.name),
            Ok(None) => {
                hub.placetel_users
                    .name_of(&config.api_url, &config.api_token, &sip_user)
                    .await
            }
            Err(e) => return store_failed(&e),
        };
        if let Some(name) = name {
            event.user = Some(name);
        } else if event.answering_user.is_none() {
            event.user = None;
        }
    }
    match intake::process(hub, Provider::Placetel, event).await {
        Ok(answer) => (StatusCode::OK, placetel::answer(&answer)),
        Err(RecordError::Journal(e)) => fail(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        Err(RecordError::Store(e)) => {
            let (status, message) = intake::not_recorded("Placetel", &e);
            (status, placetel::error(&message))
        }
    }
}

fn store_failed(e: &dyn std::fmt::Display) -> (StatusCode, String) {
    tracing::error!("Placetel event not recorded: {e}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        placetel::error("the hub could not record the event; retry later"),
    )
}
