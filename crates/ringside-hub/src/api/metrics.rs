//! `GET /metrics`: the hub's metrics in the OpenMetrics text format that Prometheus reads,
//! for the scrape token of `[metrics]` or an admin's token. The gauges are read from the
//! hub's state at the moment of the scrape.

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;

use crate::api_error::ApiError;
use crate::extract::{bearer, Admin};
use crate::state::Hub;
use crate::token;

/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`: sets the gauges from the hub's state now, then encodes every metric.
pub async fn scrape(
    State(hub): State<Arc<Hub>>,
    Scraper: Scraper,
) -> Result<impl IntoResponse, ApiError> {
    let gauges = &hub.metrics.gauges;
    gauges
        .stream_connections
        .set(saturating(hub.stream_slots.open_total() as u64));
    let logged = hub.store.last_seq().await?;
    let published = hub.recorder.published_seq();
    gauges.event_log_seq.set(saturating(logged));
    gauges.published_seq.set(saturating(published));
    gauges
        .event_lag
        .set(saturating(logged.saturating_sub(published)));
    let outbox = hub
        .store
        .relay_backlog(hub.settings.config.zammad.relay, hub.clock.now())
        .await?;
    gauges.outbox_pending.set(saturating(outbox.pending));
    gauges.outbox_failed.set(saturating(outbox.failed));
    gauges
        .outbox_oldest_pending
        .set(saturating(outbox.oldest_pending_secs.unwrap_or(0)));
    if let Some(certificates) = &hub.certificates {
        gauges
            .certificate_expiry
            .set(certificates.in_force_until().unwrap_or(0));
    }
    Ok(([(header::CONTENT_TYPE, OPENMETRICS)], hub.metrics.encode()))
}

/// A count as a gauge's value.
fn saturating(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Whoever may read the metrics: Prometheus with the scrape token, or an admin.
#[derive(Debug)]
pub struct Scraper;

impl FromRequestParts<Arc<Hub>> for Scraper {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        let expected = &hub.settings.config.metrics.token;
        let Some(presented) = bearer(&parts.headers) else {
            return Err(ApiError::unauthorized(
                "send the [metrics] token or an admin token as 'Authorization: Bearer <token>'",
            ));
        };
        if !expected.is_empty() && token::matches(presented, expected) {
            return Ok(Scraper);
        }
        Admin::from_request_parts(parts, hub).await.map(|_| Scraper)
    }
}
