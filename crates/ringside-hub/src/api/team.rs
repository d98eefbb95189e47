//! The agent's own status, the team's presence and caller lookup.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use ringside_core::agent::Presence;
use ringside_core::api::{CallerLookup, ContactQuery, DndChange, Me};
use ringside_core::caller::ContactHit;
use ringside_core::number::{self, E164};

use crate::api_error::ApiError;
use crate::extract::Agent;
use crate::state::{self, Hub};

/// `GET /api/v1/me`: the agent's presence, the help desk the hub syncs from, and the
/// hub's version.
pub async fn me(State(hub): State<Arc<Hub>>, Agent(agent): Agent) -> Result<Json<Me>, ApiError> {
    let presence = hub
        .recorder
        .presence(&agent.login)
        .await?
        .ok_or_else(|| ApiError::not_found("the agent was removed"))?;
    Ok(Json(Me {
        presence,
        helpdesk_url: hub
            .zammad_customers
            .as_ref()
            .map(|customers| customers.helpdesk_url().to_owned()),
        hub_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
    }))
}

/// `PUT /api/v1/me/dnd` with `{"dnd": true|false}`.
pub async fn set_dnd(
    State(hub): State<Arc<Hub>>,
    Agent(agent): Agent,
    body: Result<Json<DndChange>, JsonRejection>,
) -> Result<Json<Presence>, ApiError> {
    let Json(body) = body?;
    hub.recorder
        .set_dnd(&agent.login, body.dnd, hub.clock.now())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("the agent was removed"))
}

/// `GET /api/v1/agents`: everyone's availability.
pub async fn agents(
    State(hub): State<Arc<Hub>>,
    Agent(_): Agent,
) -> Result<Json<Vec<Presence>>, ApiError> {
    Ok(Json(hub.recorder.presence_list().await?))
}

/// `GET /api/v1/callers/{number}`: who has this number.
pub async fn lookup(
    State(hub): State<Arc<Hub>>,
    Agent(_): Agent,
    raw: Result<Path<String>, PathRejection>,
) -> Result<Json<CallerLookup>, ApiError> {
    let Path(raw) = raw?;
    if raw.chars().count() > state::MAX_NUMBER_CHARS {
        return Err(ApiError::bad_request(format!(
            "a phone number has at most {} characters",
            state::MAX_NUMBER_CHARS
        )));
    }
    let Some(e164) = number::normalize(&raw, &hub.settings.country) else {
        return Err(ApiError::bad_request(format!(
            "{raw:?} is not a phone number (6 to 15 digits, optionally with + or 00)"
        )));
    };
    let found = hub.store.lookup(e164.as_str())?;
    Ok(Json(CallerLookup {
        number: e164.into(),
        caller_match: found,
    }))
}

/// The shortest contact search.
const MIN_QUERY_CHARS: usize = 2;
/// The longest contact search.
const MAX_QUERY_CHARS: usize = 100;

/// `GET /api/v1/contacts?q=`: contacts by name or organization, for the dial field.
pub async fn search_contacts(
    State(hub): State<Arc<Hub>>,
    Agent(_): Agent,
    query: Result<Query<ContactQuery>, QueryRejection>,
) -> Result<Json<Vec<ContactHit>>, ApiError> {
    let Query(query) = query?;
    let length = query.q.chars().count();
    if length < MIN_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "q must have at least {MIN_QUERY_CHARS} characters"
        )));
    }
    if length > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "q must have at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let text = query.q.trim();
    let limit = query.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 50"));
    }
    let hits = hub.store.search_contacts(text, limit).await?;
    Ok(Json(
        hits.into_iter()
            .map(|(name, organization, number)| ContactHit {
                number_pretty: E164::parse(&number)
                    .map(|e164| number::pretty(&e164))
                    .unwrap_or_else(|_| number.clone()),
                name,
                organization,
                number,
            })
            .collect(),
    ))
}
