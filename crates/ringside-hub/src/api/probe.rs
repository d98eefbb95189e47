//! `GET /healthz` and `GET /readyz`, for load balancers and service managers: no token, and
//! the status code says it all. Live: the process answers HTTP. Ready: the hub is not
//! stopping, its store answers a read and its writer commits, each within
//! [`READY_DEADLINE`], and its streams have had every event the log held before that
//! commit; otherwise 503 `not_ready` with the reason, so that a load balancer sends the
//! PBX's webhooks and the apps elsewhere while this hub could not make them durable or
//! would stream behind the log.

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
    let logged = match tokio::time::timeout(READY_DEADLINE, hub.store.last_seq()).await {
        Err(_) => {
            return Err(not_ready(format!(
                "the store did not answer a read within {deadline} s"
            )))
        }
        Ok(Err(e)) => return Err(not_ready(format!("the store cannot be read: {e}"))),
        Ok(Ok(seq)) => seq,
    };
    match tokio::time::timeout(READY_DEADLINE, hub.recorder.settled()).await {
        Err(_) => {
            return Err(not_ready(format!(
                "the writer did not commit within {deadline} s; does another process hold \
                 the database's write lock?"
            )))
        }
        Ok(Err(e)) => return Err(not_ready(format!("the writer cannot commit: {e}"))),
        Ok(Ok(())) => {}
    }
    // The commit published every event logged before it, this hub's or another writer's.
    let published = hub.recorder.published_seq();
    if published < logged {
        return Err(not_ready(format!(
            "the streams are behind the event log (seq {published} sent of {logged})"
        )));
    }
    Ok(Json(Probe {
        status: ProbeStatus::Ready,
    }))
}

fn not_ready(reason: String) -> ApiError {
    tracing::warn!("not ready: {reason}");
    ApiError::coded(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::NotReady,
        format!("not ready: {reason}"),
    )
}
