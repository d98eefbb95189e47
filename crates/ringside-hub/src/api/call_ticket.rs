//! `POST /api/v1/calls/{id}/ticket`: an agent's one click that logs a call as a Zammad
//! ticket now. An unknown caller first becomes a Zammad customer with their number (as
//! `POST /api/v1/calls/{id}/customer` makes them). The ticket goes the same way as the
//! automatic log (a job in the relay's outbox, at most one per call) and waits, for a
//! bounded time, for Zammad's answer, so that the app can open the ticket.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ringside_core::api::ErrorCode;
use ringside_core::call::CallTicket;
use ringside_core::number;

use crate::api::customer;
use crate::api_error::ApiError;
use crate::extract::Agent;
use crate::recorder::call_tickets::TicketRequest;
use crate::state::Hub;
use crate::zammad::customer::CreateError;

/// How long the agent waits for Zammad's answer: one delivery, with Zammad's request
/// timeout and a margin.
const ANSWER_WITHIN: Duration = Duration::from_secs(45);

/// `POST /api/v1/calls/{id}/ticket`: the call's ticket, made now if it has none.
pub async fn create(
    State(hub): State<Arc<Hub>>,
    Agent(_): Agent,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<CallTicket>, ApiError> {
    let Path(id) = id?;
    // Listening before the job is queued, so that no outcome goes unheard.
    let outcomes = hub.recorder.relay_outcomes();
    let mut request = hub.recorder.request_ticket(id, hub.clock.now()).await?;
    if matches!(request, Some(TicketRequest::UnknownCaller)) && create_customer(&hub, id).await? {
        request = hub.recorder.request_ticket(id, hub.clock.now()).await?;
    }
    let (Some(request), Some(outcomes)) = (request, outcomes) else {
        return Err(ApiError::coded(
            StatusCode::CONFLICT,
            ErrorCode::ZammadNotConfigured,
            "tickets are off: the hub needs zammad.url, zammad.token and zammad.ticket_group",
        ));
    };
    match request {
        TicketRequest::NotFound => {
            return Err(ApiError::not_found(format!("no journal entry {id}")))
        }
        TicketRequest::Has(ticket) => return Ok(Json(ticket)),
        TicketRequest::UnknownCaller => {
            return Err(ApiError::coded(
                StatusCode::CONFLICT,
                ErrorCode::UnknownCaller,
                "the caller's number is hidden, so the hub cannot make them a Zammad customer; \
                 create the ticket in Zammad",
            ))
        }
        TicketRequest::Full => {
            return Err(ApiError::coded(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Busy,
                "the hub's queue to Zammad is full (zammad.relay_outbox_max); is Zammad reachable?",
            ))
        }
        TicketRequest::Queued => {}
    }
    // Tries made before this request; one more that fails is this request's answer.
    let tried = hub
        .recorder
        .ticket_job(id)
        .await?
        .map_or(0, |job| job.attempts);
    let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
    loop {
        let outcome = outcomes.notified();
        tokio::pin!(outcome);
        outcome.as_mut().enable();
        if let Some(ticket) = hub.store.call(id).await?.and_then(|call| call.ticket) {
            return Ok(Json(ticket));
        }
        match hub.recorder.ticket_job(id).await? {
            Some(job) if job.failed => {
                return Err(ApiError::coded(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::ZammadRefused,
                    format!(
                        "Zammad refused the ticket: {}",
                        job.last_error.unwrap_or_default()
                    ),
                ))
            }
            Some(job) if job.attempts > tried => {
                return Err(ApiError::coded(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::ZammadUnreachable,
                    format!(
                        "Zammad did not take the ticket now ({}); the hub tries again and the \
                         call shows the ticket once Zammad has it",
                        job.last_error.unwrap_or_default()
                    ),
                ))
            }
            // Pending, or delivered a moment ago (the call is read again next round).
            _ => {}
        }
        if tokio::time::timeout_at(deadline, outcome).await.is_err() {
            return Err(ApiError::coded(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorCode::ZammadSlow,
                "Zammad did not answer in time; the hub goes on trying and the call shows the \
                 ticket once Zammad has it",
            ));
        }
    }
}

/// Creates the customer of call `id`'s unknown caller in Zammad with their number, so that
/// the ticket has a customer: whether the caller is a customer now (also when someone made
/// them one a moment ago). `false` for a hidden number or a hub that syncs no customers.
async fn create_customer(hub: &Hub, id: i64) -> Result<bool, ApiError> {
    let Some(customers) = &hub.zammad_customers else {
        return Ok(false);
    };
    let Some(call) = hub.store.call(id).await? else {
        return Ok(false);
    };
    let remote = call.remote_party();
    let Some(e164) = number::normalize(remote, &hub.settings.country) else {
        return Ok(false);
    };
    match customers.create(&e164, None, hub.clock.now()).await {
        Ok(_) | Err(CreateError::Known { .. }) => Ok(true),
        Err(e) => Err(customer::failed(e)),
    }
}
