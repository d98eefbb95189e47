//! Click-to-dial: `POST /api/v1/dial` with `{"number": "…"}` has the agent's provider ring
//! the agent's phone and then the customer, presenting the caller ID the outbound rules
//! choose. An agent no provider can dial for gets a `tel:` link for their own softphone.

mod placetel;
mod plan;
mod sipgate;
mod twilio;
mod upstream;

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ringside_core::api::{DialRequest, DialResult, PlacedCall};
use ringside_core::call::Provider;

use self::plan::Dialer;
use crate::api_error::ApiError;
use crate::extract::Agent;
use crate::intake;
use crate::state::Hub;

/// `POST /api/v1/dial`.
pub async fn dial(
    State(hub): State<Arc<Hub>>,
    Agent(agent): Agent,
    body: Result<Json<DialRequest>, JsonRejection>,
) -> Result<Json<DialResult>, Response> {
    let Json(body) = body.map_err(|e| ApiError::from(e).into_response())?;
    let settings = &hub.settings;
    let config = &settings.config;
    let number = plan::number(&body.number, &settings.country)
        .map_err(|e| ApiError::bad_request(e.to_string()).into_response())?;
    let rules = hub.rules.current();
    let Some(dialer) = plan::dialer(config, rules.outbound.dial_via, &agent.identities) else {
        return Ok(Json(DialResult::Tel {
            link: format!("tel:{number}"),
            number: number.into(),
        }));
    };
    let caller_id = plan::caller_id(&rules.outbound, &number);
    let caller_id_e164 = caller_id.map(|id| plan::caller_id_e164(id, &settings.country));
    let client = &*upstream::CLIENT;
    let fail = IntoResponse::into_response;
    let dialed = match dialer {
        Dialer::Placetel { sipuid } => {
            placetel::dial(client, &config.placetel, sipuid, &number)
                .await
                .map_err(fail)?;
            // Placetel's API takes no caller ID: the hub's answer to the `OutgoingCall`
            // webhook sets it, where Placetel routes calls through the hub.
            DialResult::Placetel(PlacedCall {
                number: number.into(),
                caller_id: None,
                call_id: None,
            })
        }
        Dialer::Sipgate { caller } => {
            let session = sipgate::dial(
                client,
                &config.sipgate,
                caller,
                &number,
                caller_id_e164.as_deref(),
            )
            .await
            .map_err(fail)?;
            DialResult::Sipgate(PlacedCall {
                number: number.into(),
                caller_id: caller_id_e164,
                call_id: Some(session),
            })
        }
        Dialer::Twilio { agent: phone } => {
            let presented = caller_id_e164.unwrap_or_else(|| config.twilio.number.trim().into());
            let sid = twilio::dial(
                client,
                &config.twilio,
                &config.public_url,
                phone,
                &number,
                &presented,
            )
            .await
            .map_err(fail)?;
            // The journal's `to` is in the form the outbound rules match, so that the
            // pipeline, which applies them again, chooses the same caller ID.
            let mut event = ringside_providers::twilio::click_to_dial_new_call(
                &sid,
                caller_id.unwrap_or(&presented),
                number.digits(),
            );
            event.user = Some(agent.name.clone());
            // The phone is already ringing: a journal failure must not make the agent
            // dial again, so it is logged, not answered.
            if let Err(e) = intake::process(&hub, Provider::Twilio, event).await {
                tracing::error!("click-to-dial call {sid} placed but not recorded: {e}");
            }
            DialResult::Twilio(PlacedCall {
                number: number.into(),
                caller_id: Some(presented),
                call_id: Some(sid),
            })
        }
    };
    Ok(Json(dialed))
}
