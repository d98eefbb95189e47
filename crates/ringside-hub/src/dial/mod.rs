//! Click-to-dial (being written).

use std::sync::Arc;

use axum::Router;

use crate::state::Hub;

/// The dial routes.
pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
}
