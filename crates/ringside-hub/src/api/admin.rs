//! Admin-only: agents and their tokens, the recent webhook requests and the backlog of the
//! relay to Zammad.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use ringside_core::agent::{Presence, Role};
use ringside_core::api::{AgentCreated, AgentToken, AgentUpdate, NewAgent, RelayBacklog};

use crate::api_error::ApiError;
use crate::extract::Admin;
use crate::state::{self, Hub};
use crate::store::AgentChange;
use crate::token;
use crate::webhook_log::WebhookLogEntry;

/// `GET /api/v1/admin/agents`.
pub async fn agents(
    State(hub): State<Arc<Hub>>,
    Admin(_): Admin,
) -> Result<Json<Vec<Presence>>, ApiError> {
    Ok(Json(hub.recorder.presence_list().await?))
}

/// `POST /api/v1/admin/agents`: creates an agent and returns its token, shown this once.
pub async fn add_agent(
    State(hub): State<Arc<Hub>>,
    Admin(_): Admin,
    body: Result<Json<NewAgent>, JsonRejection>,
) -> Result<(StatusCode, Json<AgentCreated>), ApiError> {
    let Json(body) = body?;
    let agent = state::new_agent(
        &body.login,
        &body.name,
        body.admin,
        body.numbers,
        body.identities,
        &hub.settings.country,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let secret = token::generate();
    let presence = hub
        .recorder
        .add_agent(&agent, &token::hash(&secret), hub.clock.now())
        .await?
        .ok_or_else(|| ApiError::conflict(format!("login {:?} is taken", body.login)))?;
    Ok((
        StatusCode::CREATED,
        Json(AgentCreated {
            agent: presence,
            token: secret,
        }),
    ))
}

/// `POST /api/v1/admin/agents/{login}/token`: a new token; the old one stops working.
pub async fn new_token(
    State(hub): State<Arc<Hub>>,
    Admin(_): Admin,
    login: Result<Path<String>, PathRejection>,
) -> Result<Json<AgentToken>, ApiError> {
    let Path(login) = login?;
    let secret = token::generate();
    if !hub
        .recorder
        .set_token(&login, &token::hash(&secret))
        .await?
    {
        return Err(ApiError::not_found(format!("no agent {login:?}")));
    }
    Ok(Json(AgentToken {
        login,
        token: secret,
    }))
}

/// `PATCH /api/v1/admin/agents/{login}`: changes name, role, numbers, provider ids or
/// whether the agent is out of office.
pub async fn update_agent(
    State(hub): State<Arc<Hub>>,
    Admin(me): Admin,
    login: Result<Path<String>, PathRejection>,
    body: Result<Json<AgentUpdate>, JsonRejection>,
) -> Result<Json<Presence>, ApiError> {
    let Path(login) = login?;
    let Json(body) = body?;
    let bad_input = |e: state::AgentInputError| ApiError::bad_request(e.to_string());
    let name = match body.name.as_deref() {
        Some(name) => Some(state::agent_name(name).map_err(bad_input)?.to_owned()),
        None => None,
    };
    if let Some(numbers) = &body.numbers {
        state::check_numbers(numbers).map_err(bad_input)?;
    }
    if let Some(identities) = &body.identities {
        state::check_identities(identities).map_err(bad_input)?;
    }
    if login == me && body.admin == Some(false) {
        return Err(ApiError::conflict("you cannot take your own admin role"));
    }
    let change = AgentChange {
        name,
        role: body
            .admin
            .map(|admin| if admin { Role::Admin } else { Role::Agent }),
        numbers: body.numbers.map(|numbers| {
            let normalized = state::normalized_numbers(&numbers, &hub.settings.country);
            (numbers, normalized)
        }),
        identities: body.identities,
        out_of_office: body.out_of_office,
    };
    hub.recorder
        .update_agent(&login, &change, hub.clock.now())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no agent {login:?}")))
}

/// `DELETE /api/v1/admin/agents/{login}`: removes an agent; its token stops working.
pub async fn remove_agent(
    State(hub): State<Arc<Hub>>,
    Admin(me): Admin,
    login: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(login) = login?;
    if login == me {
        return Err(ApiError::conflict("you cannot remove yourself"));
    }
    if !hub.recorder.remove_agent(&login, hub.clock.now()).await? {
        return Err(ApiError::not_found(format!("no agent {login:?}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/webhook-log`: the last webhook requests, newest first.
pub async fn webhook_log(
    State(hub): State<Arc<Hub>>,
    Admin(_): Admin,
) -> Json<Vec<WebhookLogEntry>> {
    Json(hub.webhook_log.recent())
}

/// `GET /api/v1/admin/zammad/relay`: how far the relay to Zammad's caller log (and the
/// calls logged as tickets) is behind.
pub async fn zammad_relay(
    State(hub): State<Arc<Hub>>,
    Admin(_): Admin,
) -> Result<Json<RelayBacklog>, ApiError> {
    let zammad = &hub.settings.config.zammad;
    let enabled = zammad.relay || zammad.tickets_possible();
    Ok(Json(
        hub.store.relay_backlog(enabled, hub.clock.now()).await?,
    ))
}

/// `POST /api/v1/admin/zammad/relay/retry`: sends the events Zammad refused again (after
/// the admin fixed the token or switched the integration on); answers the backlog.
pub async fn retry_zammad_relay(
    State(hub): State<Arc<Hub>>,
    Admin(_): Admin,
) -> Result<Json<RelayBacklog>, ApiError> {
    let now = hub.clock.now();
    hub.recorder.relay_retry_failed(now).await?;
    let zammad = &hub.settings.config.zammad;
    let enabled = zammad.relay || zammad.tickets_possible();
    Ok(Json(hub.store.relay_backlog(enabled, now).await?))
}
