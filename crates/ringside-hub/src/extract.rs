//! Who is asking: the agent a bearer token belongs to.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ringside_core::agent::Role;

use crate::api_error::ApiError;
use crate::state::Hub;
use crate::store::AgentRow;
use crate::token;

/// The agent that sent the request (`Authorization: Bearer <token>`).
#[derive(Debug, Clone)]
pub struct Agent(pub AgentRow);

/// The login of the agent with the admin role that sent the request.
#[derive(Debug, Clone)]
pub struct Admin(pub String);

/// The token of an `Authorization: Bearer <token>` header; `None` without one. The one
/// reading of that header for the agent API, the stream and the metrics.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

impl FromRequestParts<Arc<Hub>> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Err(ApiError::unauthorized(
                "send the agent token as 'Authorization: Bearer <token>'",
            ));
        }
        let presented = bearer(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be 'Bearer <token>'")
        })?;
        hub.store
            .agent_by_token_hash(&token::hash(presented))?
            .map(Agent)
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))
    }
}

impl FromRequestParts<Arc<Hub>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        let Agent(agent) = Agent::from_request_parts(parts, hub).await?;
        if agent.role != Role::Admin {
            return Err(ApiError::forbidden("this needs an admin token"));
        }
        Ok(Admin(agent.login))
    }
}
