//! `POST /api/v1/sipgate/:token/in` and `…/out`: sipgate.io's push API, answered with XML as
//! Zammad does. Every answer subscribes to the call's follow-up events (`onAnswer`,
//! `onHangup`) at this hub. The signature (`X-Sipgate-Signature`, RSA over the raw body) is
//! checked before anything is read unless switched off.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use ringside_core::call::Provider;
use ringside_core::routing::PbxAnswer;
use ringside_providers::{sipgate, Params};

use super::failure::{self, Failure};
use super::gate::{self, Refusal};
use crate::intake;
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
    let outcome = handle(&hub, &headers, gated.body).await;
    let answered = failure::answer("sipgate", outcome, sipgate::error);
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
) -> Result<String, Failure> {
    let config = &hub.settings.config.sipgate;
    let body = body.map_err(Failure::Gate)?;
    if let Some(verifier) = &hub.sipgate_verifier {
        let signature = headers
            .get(sipgate::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok());
        verifier.verify(&body, signature)?;
    }
    let params = Params::from_form(&body)?;
    let callback = |direction: &str| {
        Webhook::Sipgate(direction).url(&hub.settings.config.public_url, &config.token)
    };
    let Some(event) = sipgate::event(&params)? else {
        // dtmf: accepted, nothing to record.
        let direction = params.get("direction").unwrap_or("in");
        return Ok(sipgate::answer(&PbxAnswer::Proceed, &callback(direction)));
    };
    let direction = event.direction.map(|d| d.as_str()).unwrap_or("in");
    let url = callback(direction);
    let answer = intake::process(hub, Provider::Sipgate, event).await?;
    Ok(sipgate::answer(&answer, &url))
}
