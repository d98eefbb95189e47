//! `POST /api/v1/sipgate/:token/in` and `…/out`: sipgate.io's push API, answered with XML as
//! Zammad does. Every answer subscribes to the call's follow-up events (`onAnswer`,
//! `onHangup`) at this hub. The signature (`X-Sipgate-Signature`, RSA over the raw body) is
//! checked before anything is read unless switched off.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ringside_core::call::Provider;
use ringside_core::routing::PbxAnswer;
use ringside_providers::{sipgate, Params};

use super::gate::{self, Refusal};
use crate::intake;
use crate::recorder::RecordError;
use crate::state::Hub;
use crate::webhook_url::Webhook;

/// The handler; see the module documentation.
pub async fn sipgate(
    State(hub): State<Arc<Hub>>,
    Path((path_token, route)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if route != "in" && route != "out" {
        return crate::api_error::ApiError::not_found("sipgate webhooks end in /in or /out")
            .into_response();
    }
    let endpoint = &hub.settings.config.sipgate;
    let gated = gate::open(endpoint.enabled, &endpoint.token, &path_token, body);
    let answered = handle(&hub, &headers, gated.body).await;
    crate::webhook_log::reply(
        &hub.webhook_log,
        hub.clock.now(),
        "sipgate",
        &headers,
        gated.logged,
        answered,
        sipgate::CONTENT_TYPE,
    )
}

async fn handle(
    hub: &Hub,
    headers: &HeaderMap,
    body: Result<Bytes, Refusal>,
) -> (StatusCode, String) {
    let config = &hub.settings.config.sipgate;
    let fail = |status: StatusCode, message: &str| (status, sipgate::error(message));
    let body = match body {
        Ok(body) => body,
        Err(refusal) => return fail(refusal.status, &refusal.message),
    };
    if let Some(verifier) = &hub.sipgate_verifier {
        let signature = headers
            .get(sipgate::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok());
        if let Err(e) = verifier.verify(&body, signature) {
            return fail(StatusCode::UNAUTHORIZED, &e.to_string());
        }
    }
    let params = match Params::from_form(&body) {
        Ok(params) => params,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let callback = |direction: &str| {
        Webhook::Sipgate(direction).url(&hub.settings.config.public_url, &config.token)
    };
    let event = match sipgate::event(&params) {
        Ok(Some(event)) => event,
        // dtmf: accepted, nothing to record.
        Ok(None) => {
            let direction = params.get("direction").unwrap_or("in");
            return (
                StatusCode::OK,
                sipgate::answer(&PbxAnswer::Proceed, &callback(direction)),
            );
        }
        Err(e) => return fail(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    };
    let direction = event.direction.map(|d| d.as_str()).unwrap_or("in");
    let url = callback(direction);
    match intake::process(hub, Provider::Sipgate, event).await {
        Ok(answer) => (StatusCode::OK, sipgate::answer(&answer, &url)),
        Err(RecordError::Journal(e)) => fail(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        Err(RecordError::Store(e)) => {
            let (status, message) = intake::not_recorded("sipgate", &e);
            fail(status, &message)
        }
    }
}
