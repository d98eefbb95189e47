//! The hub's HTTP surface: PBX webhooks, the agent API, the admin API, the live stream and
//! the OpenAPI description.

mod admin;
mod auth;
mod error;
mod journal;
mod team;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post, put};
use axum::Router;

pub use auth::Agent;
pub use error::ApiError;

use crate::state::Hub;
use crate::{dial, stream, webhook};

/// The largest request body the hub reads; PBX events are a few hundred bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The OpenAPI description of everything below.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// Every route of the hub.
pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/api/v1/cti/{token}", post(webhook::generic_cti))
        .route("/api/v1/placetel/{token}", post(webhook::placetel))
        .route("/api/v1/sipgate/{token}/{route}", post(webhook::sipgate))
        .route("/api/v1/sipgate/{token}/{route}/", post(webhook::sipgate))
        .merge(webhook::twilio::routes())
        .merge(dial::routes())
        .route("/api/v1/stream", get(stream::upgrade))
        .route("/api/v1/me", get(team::me))
        .route("/api/v1/me/dnd", put(team::set_dnd))
        .route("/api/v1/agents", get(team::agents))
        .route("/api/v1/callers/{number}", get(team::lookup))
        .route("/api/v1/contacts", get(team::search_contacts))
        .route("/api/v1/journal", get(journal::list))
        .route("/api/v1/journal/done", post(journal::done_many))
        .route("/api/v1/journal/{id}/done", post(journal::done_one))
        .route(
            "/api/v1/admin/agents",
            get(admin::agents).post(admin::add_agent),
        )
        .route(
            "/api/v1/admin/agents/{login}",
            patch(admin::update_agent).delete(admin::remove_agent),
        )
        .route("/api/v1/admin/agents/{login}/token", post(admin::new_token))
        .route("/api/v1/admin/webhook-log", get(admin::webhook_log))
        .route("/api/v1/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(hub)
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; GET /api/v1/openapi.json lists them")
}
