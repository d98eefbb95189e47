//! The agent API, the admin API (with the Zammad sync's state), the OpenAPI description,
//! the probes for load balancers and the metrics for Prometheus: the handlers behind
//! `/api/v1/…`, `/healthz`, `/readyz` and `/metrics` that are neither PBX webhooks nor the
//! live stream. [`crate::routes`] puts
//! them on their paths.

pub(crate) mod admin;
pub(crate) mod call_ticket;
pub(crate) mod customer;
pub(crate) mod helpdesk;
pub(crate) mod journal;
pub(crate) mod metrics;
pub(crate) mod probe;
pub(crate) mod team;
pub(crate) mod zammad;

use axum::http::header;
use axum::response::IntoResponse;

use crate::api_error::ApiError;

/// The OpenAPI description of every route of the hub.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// Any path the hub does not serve.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; GET /api/v1/openapi.json lists them")
}
