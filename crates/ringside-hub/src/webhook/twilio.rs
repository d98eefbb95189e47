//! Twilio Programmable Voice webhooks (being written).

use std::sync::Arc;

use axum::Router;

use crate::state::Hub;

/// The Twilio routes.
pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
}
