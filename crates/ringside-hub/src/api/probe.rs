//! `GET /healthz` and `GET /readyz`, for load balancers and service managers: no token, and
//! the status code says it all. Live: the process answers HTTP. Ready: the hub is not
//! stopping, its store answers a read and its writer commits, each within
//! [`READY_DEADLINE`]; otherwise 503 `not_ready` with the reason, so that a load balancer
//! sends the PBX's webhooks elsewhere while this hub could not make them durable.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use ringside_core::api::{ErrorCode, Probe, ProbeStatus};

use crate::api_error::ApiError;
use crate::state::Hub;

/// How long the read and the commit of a readiness check may take each: far above what
/// they take (microseconds), below a load balancer's usual probe timeout.
pub const READY_DEADLINE: Duration = Duration::from_secs(2);

/// `GET /healthz`.
pub async fn live() -> Json<Probe> {
    Json(Probe {
        status: ProbeStatus::Live,
    })
}

/// `GET /readyz`.
pub async fn ready(State(hub): State<Arc<Hub>>) -> Result<Json<Probe>, ApiError> {
    if *hub.stopping.borrow() {
        return Err(not_ready("the hub is stopping".into()));
    }
    let deadline = READY_DEADLINE.as_secs();
    match tokio::time::timeout(READY_DEADLINE, hub.store.last_seq()).await {
        Err(_) => {
            return Err(not_ready(format!(
                "the store did not answer a read within {deadline} s"
            )))
        }
        Ok(Err(e)) => return Err(not_ready(format!("the store cannot be read: {e}"))),
        Ok(Ok(_)) => {}
    }
    match tokio::time::timeout(READY_DEADLINE, hub.recorder.settled()).await {
        Err(_) => Err(not_ready(format!(
            "the writer did not commit within {deadline} s; does another process hold the \
             database's write lock?"
        ))),
        Ok(Err(e)) => Err(not_ready(format!("the writer cannot commit: {e}"))),
        Ok(Ok(())) => Ok(Json(Probe {
            status: ProbeStatus::Ready,
        })),
    }
}

fn not_ready(reason: String) -> ApiError {
    tracing::warn!("not ready: {reason}");
    ApiError::coded(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::NotReady,
        format!("not ready: {reason}"),
    )
}
