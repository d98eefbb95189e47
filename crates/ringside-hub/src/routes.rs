//! Every route of the hub, in one place: which handler answers which method and path. The
//! top of the hub's modules: it uses the handlers, nothing uses it but the server's start.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, patch, post, put};
use axum::{Extension, Router};

use crate::api::{self, admin, call_ticket, customer, helpdesk, journal, probe, team, zammad};
use crate::state::Hub;
use crate::webhook::{self, twilio};
use crate::webhook_url::Webhook;
use crate::{dial, stream};

/// The largest request body the hub reads; PBX events are a few hundred bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Every route of the hub.
pub fn router(hub: Arc<Hub>) -> Router {
    let sipgate = Webhook::Sipgate("{route}").route();
    let counted = |provider: &'static str| {
        let observed = webhook::observe::Observed {
            provider,
            meter: hub.metrics.webhook_meter(provider),
        };
        middleware::from_fn_with_state(observed, webhook::observe::observe)
    };
    Router::new()
        .route(
            &Webhook::Generic.route(),
            post(webhook::generic_cti).layer(counted("generic")),
        )
        .route(
            &Webhook::Placetel.route(),
            post(webhook::placetel).layer(counted("placetel")),
        )
        .route(&sipgate, post(webhook::sipgate).layer(counted("sipgate")))
        .route(
            &format!("{sipgate}/"),
            post(webhook::sipgate).layer(counted("sipgate")),
        )
        .merge(twilio_routes().route_layer(counted("twilio")))
        .route("/api/v1/dial", post(dial::dial))
        .route("/api/v1/stream", get(stream::upgrade))
        .route("/api/v1/me", get(team::me))
        .route("/api/v1/me/dnd", put(team::set_dnd))
        .route("/api/v1/agents", get(team::agents))
        .route("/api/v1/callers/{number}", get(team::lookup))
        .route("/api/v1/contacts", get(team::search_contacts))
        .route("/api/v1/helpdesk", get(helpdesk::status))
        .route("/api/v1/journal", get(journal::list))
        .route("/api/v1/journal/done", post(journal::done_many))
        .route("/api/v1/journal/{id}/done", post(journal::done_one))
        .route("/api/v1/calls/{id}/ticket", post(call_ticket::create))
        .route("/api/v1/calls/{id}/customer", post(customer::create))
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
        .route("/api/v1/admin/zammad", get(zammad::state))
        .route("/api/v1/admin/zammad/sync", post(zammad::sync))
        .route("/api/v1/admin/zammad/relay", get(admin::zammad_relay))
        .route(
            "/api/v1/admin/zammad/relay/retry",
            post(admin::retry_zammad_relay),
        )
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/healthz", get(probe::live))
        .route("/readyz", get(probe::ready))
        .route("/metrics", get(api::metrics::scrape))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(hub)
}

/// Twilio's webhooks (see [`twilio`]), which share the simple-queue flow's memory of
/// waiting callers.
fn twilio_routes() -> Router<Arc<Hub>> {
    Router::new()
        .route(
            &Webhook::Twilio("voice").route(),
            get(twilio::calls).post(twilio::calls),
        )
        .route(&Webhook::Twilio("status").route(), post(twilio::calls))
        .route(
            &Webhook::Twilio("agents").route(),
            get(twilio::agents).post(twilio::agents),
        )
        .route(&Webhook::Twilio("events").route(), post(twilio::events))
        .layer(Extension(Arc::new(twilio::Offers::default())))
}
