//! Admin-only: the state of the sync from Zammad (and whether Zammad answers), and a full
//! pass on demand.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ringside_core::api::ZammadSyncState;

use crate::api_error::ApiError;
use crate::extract::Admin;
use crate::state::Hub;
use crate::store::signal::Signal;

/// `GET /api/v1/admin/zammad`: mode, last passes, counts, the last error and the
/// connection state.
pub async fn state(
    State(hub): State<Arc<Hub>>,
    Admin(_): Admin,
) -> Result<Json<ZammadSyncState>, ApiError> {
    Ok(Json(read_state(&hub).await?))
}

/// `POST /api/v1/admin/zammad/sync`: asks for a full pass now (202), of whichever node
/// runs the sync; 409 when Zammad is not configured.
pub async fn sync(
    State(hub): State<Arc<Hub>>,
    Admin(_): Admin,
) -> Result<(StatusCode, Json<ZammadSyncState>), ApiError> {
    let Some(zammad) = &hub.zammad else {
        return Err(ApiError::conflict(
            "Zammad is not configured: set [zammad] url and token",
        ));
    };
    zammad.demand_full_pass();
    hub.recorder.signal(Signal::ZammadSync).await?;
    Ok((StatusCode::ACCEPTED, Json(read_state(&hub).await?)))
}

async fn read_state(hub: &Hub) -> Result<ZammadSyncState, ApiError> {
    let mut state = hub.store.read(crate::store::zammad::state).await?;
    state.enabled = hub.zammad.is_some();
    state.syncing = hub.zammad.as_ref().is_some_and(|z| z.progress().syncing);
    if let Some(health) = &hub.zammad_health {
        state.connection = health.connection();
    }
    Ok(state)
}
