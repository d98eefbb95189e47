//! `POST /api/v1/cti/:token`: Zammad's generic CTI push API, with Zammad's answers, status
//! codes and error texts, so that a PBX script written for Zammad only needs a new host name.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use ringside_core::call::Provider;
use ringside_providers::{generic, Params};

use super::failure::{self, Failure};
use super::gate::{self, Refusal};
use crate::intake;
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
    let outcome = handle(&hub, content_type.as_deref(), gated.body).await;
    let answered = failure::answer("generic CTI", outcome, |message| {
        generic::error(message).to_string()
    });
    crate::webhook_log::reply(
        &hub.webhook_log,
        hub.clock.now(),
        "generic",
        &headers,
        gated.logged,
        answered,
        "application/json",
    )
}

async fn handle(
    hub: &Hub,
    content_type: Option<&str>,
    body: Result<Bytes, Refusal>,
) -> Result<String, Failure> {
    let body = body.map_err(Failure::Gate)?;
    let params = Params::from_body(content_type, &body)?;
    let event = generic::event(&params)?;
    let answer = intake::process(hub, Provider::Generic, event).await?;
    Ok(generic::answer(&answer).to_string())
}
