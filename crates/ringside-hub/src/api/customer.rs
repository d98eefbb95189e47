//! `POST /api/v1/calls/{id}/customer`: an agent creates the customer of an unknown caller
//! in Zammad from the popup, and gets the new contact's card (with the links to their
//! profile and to a new ticket for them).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ringside_core::api::{CallerKnown, ErrorCode, NewCustomer};
use ringside_core::caller::ContactCard;
use ringside_core::number;

use crate::api_error::ApiError;
use crate::extract::Agent;
use crate::state::Hub;
use crate::zammad::client::ZammadError;
use crate::zammad::customer::CreateError;

/// Creates the customer of call `id`'s remote number in Zammad (201 with their card);
/// 409 `zammad_not_configured` without the sync, 404 for no such call, 422 `no_number`
/// for a hidden number, 409 `caller_known` (with the contact) when the number has one,
/// 502 `zammad_unreachable` or `zammad_refused` when Zammad did not create them.
pub async fn create(
    State(hub): State<Arc<Hub>>,
    Agent(_): Agent,
    id: Result<Path<i64>, PathRejection>,
    body: Bytes,
) -> Result<(StatusCode, Json<ContactCard>), Response> {
    let Path(id) = id.map_err(|e| ApiError::from(e).into_response())?;
    let name = name(&body).map_err(IntoResponse::into_response)?;
    let Some(customers) = &hub.zammad_customers else {
        return Err(ApiError::coded(
            StatusCode::CONFLICT,
            ErrorCode::ZammadNotConfigured,
            "the hub does not sync a help desk: the admin sets [zammad] url and token",
        )
        .into_response());
    };
    let call = hub
        .store
        .call(id)
        .await
        .map_err(|e| ApiError::from(e).into_response())?
        .ok_or_else(|| ApiError::not_found(format!("no call {id}")).into_response())?;
    let remote = call.remote_party();
    let Some(e164) = number::normalize(remote, &hub.settings.country) else {
        return Err(ApiError::coded(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NoNumber,
            format!("the caller's number {remote:?} is hidden or not a phone number"),
        )
        .into_response());
    };
    match customers
        .create(&e164, name.as_deref(), hub.clock.now())
        .await
    {
        Ok(card) => Ok((StatusCode::CREATED, Json(card))),
        Err(e) => Err(refusal(e)),
    }
}

/// The name from the optional body, trimmed; `None` when there is none.
fn name(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let body: NewCustomer = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not {{\"name\": \"…\"}}: {e}")))?;
    let Some(name) = body.name else {
        return Ok(None);
    };
    if name.chars().count() > NewCustomer::MAX_NAME_CHARS {
        return Err(ApiError::bad_request(format!(
            "the name has at most {} characters",
            NewCustomer::MAX_NAME_CHARS
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "the name is one line of text, without control characters",
        ));
    }
    let name = name.trim();
    Ok((!name.is_empty()).then(|| name.to_owned()))
}

/// The answer to a creation that did not happen.
fn refusal(e: CreateError) -> Response {
    match e {
        CreateError::Known { number, contact } => (
            StatusCode::CONFLICT,
            Json(CallerKnown {
                code: ErrorCode::CallerKnown.as_str().into(),
                error: format!("{number} is known already: it is {}", contact.name),
                contact: *contact,
            }),
        )
            .into_response(),
        other => failed(other).into_response(),
    }
}

/// Why Zammad did not create a customer (for a number no contact has): 502
/// `zammad_unreachable` or `zammad_refused` with Zammad's words.
pub(crate) fn failed(e: CreateError) -> ApiError {
    let bad_gateway =
        |code, message: String| ApiError::coded(StatusCode::BAD_GATEWAY, code, message);
    match e {
        CreateError::Zammad(
            e @ (ZammadError::Unreachable { .. } | ZammadError::Timeout { .. }),
        ) => bad_gateway(
            ErrorCode::ZammadUnreachable,
            format!(
                "{e}. No customer was created, unless Zammad received the request before the \
                 answer was lost: the next sync shows it then."
            ),
        ),
        CreateError::Zammad(e) => bad_gateway(
            ErrorCode::ZammadRefused,
            format!("Zammad did not create the customer: {e}"),
        ),
        CreateError::Wire(e) => bad_gateway(
            ErrorCode::ZammadRefused,
            format!("Zammad's answer was not the new customer: {e}"),
        ),
        CreateError::Store(e) => ApiError::from(e),
        CreateError::Known { number, contact } => {
            ApiError::conflict(format!("{number} is known already: it is {}", contact.name))
        }
    }
}
