//! The call journal for agents: newest first, paged, and marking entries done.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use ringside_core::api::{DoneChange, DoneIds, JournalQuery, Updated};
use ringside_core::call::Call;

use crate::api_error::ApiError;
use crate::extract::Agent;
use crate::state::Hub;
use ringside_core::listing::JournalPage;

/// The largest page.
const MAX_LIMIT: i64 = 500;

/// The most entries marked done in one request: twice the largest page, and a body that
/// stays well inside the request size limit (64 KiB) whatever the ids.
const MAX_IDS: usize = 1000;

/// `GET /api/v1/journal?limit=&before=&filter=all|missed|mine`.
pub async fn list(
    State(hub): State<Arc<Hub>>,
    Agent(agent): Agent,
    query: Result<Query<JournalQuery>, QueryRejection>,
) -> Result<Json<JournalPage>, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let page = hub
        .store
        .journal(&agent.login, query.filter, query.before, limit)
        .await?;
    Ok(Json(page))
}

/// `POST /api/v1/journal/{id}/done` with `{"done": true|false}`.
pub async fn done_one(
    State(hub): State<Arc<Hub>>,
    Agent(_): Agent,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<DoneChange>, JsonRejection>,
) -> Result<Json<Call>, ApiError> {
    let Path(id) = id?;
    let Json(body) = body?;
    hub.recorder
        .set_done(&[id], body.done, hub.clock.now())
        .await?;
    hub.store
        .call(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no journal entry {id}")))
}

/// `POST /api/v1/journal/done` with `{"ids": [..]}`: marks them all done.
pub async fn done_many(
    State(hub): State<Arc<Hub>>,
    Agent(_): Agent,
    body: Result<Json<DoneIds>, JsonRejection>,
) -> Result<Json<Updated>, ApiError> {
    let Json(body) = body?;
    if body.ids.len() > MAX_IDS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_IDS} ids at once"
        )));
    }
    let changed = hub
        .recorder
        .set_done(&body.ids, true, hub.clock.now())
        .await?;
    Ok(Json(Updated {
        updated: changed.len() as u64,
    }))
}
