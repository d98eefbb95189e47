//! `POST /api/v1/cti/:token`: Zammad's generic CTI push API, with Zammad's answers, status
//! codes and error texts, so that a PBX script written for Zammad only needs a new host name.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use ringside_core::call::Provider;
use ringside_providers::{generic, Params};
use serde_json::Value;

use super::gate::{self, Refusal};
use crate::intake;
use crate::recorder::RecordError;
use crate::state::Hub;

/// The handler; see the module documentation.
pub async fn generic_cti(
    State(hub): State<Arc<Hub>>,
    Path(path_token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let endpoint = &hub.settings.config.generic;
    let gated = gate::open(endpoint.enabled, &endpoint.token, &path_token, body);
    let (status, answer) = handle(&hub, content_type.as_deref(), gated.body).await;
    crate::webhook_log::reply(
        &hub.webhook_log,
        hub.clock.now(),
        "generic",
        &headers,
        gated.logged,
        (status, answer.to_string()),
        "application/json",
    )
}

async fn handle(
    hub: &Hub,
    content_type: Option<&str>,
    body: Result<Bytes, Refusal>,
) -> (StatusCode, Value) {
    let fail = |status: StatusCode, message: &str| (status, generic::error(message));
    let body = match body {
        Ok(body) => body,
        Err(refusal) => return fail(refusal.status, &refusal.message),
    };
    let params = match Params::from_body(content_type, &body) {
        Ok(params) => params,
        Err(e) => return fail(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let event = match generic::event(&params) {
        Ok(event) => event,
        Err(e) => return fail(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    };
    match intake::process(hub, Provider::Generic, event).await {
        Ok(answer) => (StatusCode::OK, generic::answer(&answer)),
        Err(RecordError::Journal(e)) => fail(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        Err(RecordError::Store(e)) => {
            let (status, message) = intake::not_recorded("generic CTI", &e);
            fail(status, &message)
        }
    }
}
