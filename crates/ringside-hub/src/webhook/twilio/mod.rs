//! Twilio Programmable Voice webhooks, all under `/api/v1/twilio/:token/`:
//!
//! - `voice` (GET or POST): the number's voice URL, an incoming call, answered with TwiML
//!   by the configured flow (see [`calls`]);
//! - `status` (POST): status callbacks of the call and of the legs the hub dials, the
//!   `<Dial action>`, and the queue flow's `<Enqueue action>` and `<Queue url>`; the same
//!   handling as `voice`, which tells the requests apart; `status?offer=<CallSid>` takes
//!   the status callbacks of the calls the queue flow places to agents (see [`queue`]);
//! - `agents` (GET or POST) and `events` (POST): for a Twilio Studio flow, the available
//!   agents and the call's progress, in JSON (see [`studio`]).
//!
//! Every request passes the token checks every PBX webhook passes, then must carry a valid
//! `X-Twilio-Signature` for the hub's public URL (401 and nothing stored otherwise), and
//! lands in the webhook log as `twilio`.

mod available;
mod calls;
mod inbound;
mod offers;
mod queue;
mod replies;
mod rest;
mod studio;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ringside_providers::generic;
use ringside_providers::twilio::twiml;

use self::inbound::Inbound;
pub use self::offers::Offers;
use crate::state::Hub;
use crate::webhook::failure::{self, Failure};
use crate::webhook_log::WebhookLogEntry;

/// `voice` and `status`: TwiML in, TwiML out.
pub async fn calls(
    State(hub): State<Arc<Hub>>,
    Extension(offers): Extension<Arc<Offers>>,
    Path(token): Path<String>,
    inbound: Inbound,
) -> Response {
    let seen = Seen::of(&inbound);
    let offer = inbound.query_value(queue::OFFER_PARAM);
    let outcome = match inbound.params(&hub, &token) {
        Ok(params) => calls::answer(&hub, &offers, &params, offer.as_deref()).await,
        Err(failure) => Err(failure),
    };
    reply(&hub, seen, Format::Twiml, outcome)
}

/// `agents`, for Studio.
pub async fn agents(
    State(hub): State<Arc<Hub>>,
    Path(token): Path<String>,
    inbound: Inbound,
) -> Response {
    let seen = Seen::of(&inbound);
    let outcome = match inbound.params(&hub, &token) {
        Ok(params) => studio::agents(&hub, &params).await.map(|v| v.to_string()),
        Err(failure) => Err(failure),
    };
    reply(&hub, seen, Format::Json, outcome)
}

/// `events`, for Studio.
pub async fn events(
    State(hub): State<Arc<Hub>>,
    Path(token): Path<String>,
    inbound: Inbound,
) -> Response {
    let seen = Seen::of(&inbound);
    let outcome = match inbound.params(&hub, &token) {
        Ok(params) => studio::event(&hub, &params).await.map(|v| v.to_string()),
        Err(failure) => Err(failure),
    };
    reply(&hub, seen, Format::Json, outcome)
}

/// What the webhook log keeps of a request, taken before the request is read.
struct Seen {
    headers: axum::http::HeaderMap,
    request: String,
}

impl Seen {
    fn of(inbound: &Inbound) -> Self {
        Seen {
            headers: inbound.headers().clone(),
            request: inbound.log_text(),
        }
    }
}

/// The language an endpoint answers in.
#[derive(Debug, Clone, Copy)]
enum Format {
    /// TwiML, for Twilio's voice and status requests.
    Twiml,
    /// JSON, for Studio's HTTP requests.
    Json,
}

/// Logs the request with its answer, and answers.
fn reply(hub: &Hub, seen: Seen, format: Format, outcome: Result<String, Failure>) -> Response {
    let request = match &outcome {
        Err(Failure::Gate(_)) => crate::webhook_log::NOT_KEPT.to_owned(),
        _ => seen.request,
    };
    let (status, body) = failure::answer("Twilio", outcome, |message| match format {
        Format::Twiml => twiml::error(message),
        Format::Json => generic::error(message).to_string(),
    });
    hub.webhook_log.push(WebhookLogEntry::new(
        hub.clock.now(),
        "twilio",
        &seen.headers,
        request,
        status,
        body.clone(),
    ));
    let content_type = match format {
        Format::Twiml => twiml::CONTENT_TYPE,
        Format::Json => "application/json",
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}
