//! What every webhook leaves behind besides its effect: its count and time in the metrics,
//! and one log line with the provider, the call id, the outcome, the status and the time
//! taken. Never the path, which carries the token. A middleware on each provider's routes;
//! the call id reaches the line through the request's span, where [`crate::intake`] records
//! it once the wire format is read.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics::WebhookMeter;

/// What the middleware of one provider's routes holds.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The provider, as the log and the metrics name it.
    pub provider: &'static str,
    /// Its counters and histogram.
    pub meter: WebhookMeter,
}

/// The middleware; see the module documentation.
pub async fn observe(State(observed): State<Observed>, request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "webhook",
        provider = observed.provider,
        call_id = tracing::field::Empty
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status();
    let outcome = observed.meter.count(status, took.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            outcome,
            status = status.as_u16(),
            ms = took.as_secs_f64() * 1000.0,
            "webhook answered"
        );
    });
    response
}
