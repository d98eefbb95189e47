//! `GET /api/v1/helpdesk`, for every agent: what the desktop's Settings show about the
//! help desk (its address, whether it answers, the last sync and its counts, the relay's
//! backlog), without tokens or anything else an agent should not read.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use ringside_core::api::{HelpdeskKind, HelpdeskStatus};
use url::Url;

use crate::api_error::ApiError;
use crate::extract::Agent;
use crate::state::Hub;

/// `GET /api/v1/helpdesk`: the help desk's connection, sync and relay, for Settings.
pub async fn status(
    State(hub): State<Arc<Hub>>,
    Agent(_): Agent,
) -> Result<Json<HelpdeskStatus>, ApiError> {
    let config = &hub.settings.config.zammad;
    let connection = hub
        .zammad_health
        .as_ref()
        .map(|health| health.connection())
        .unwrap_or_default();
    if config.url.trim().is_empty() {
        return Ok(Json(HelpdeskStatus {
            kind: HelpdeskKind::None,
            url: None,
            connection,
            sync: false,
            last_sync: None,
            last_sync_error: None,
            users: 0,
            organizations: 0,
            numbers: 0,
            relay: false,
            relay_pending: 0,
            relay_failed: 0,
        }));
    }
    let sync = hub.store.read(crate::store::zammad::state).await?;
    let backlog = hub
        .store
        .relay_backlog(config.relay, hub.clock.now())
        .await?;
    Ok(Json(HelpdeskStatus {
        kind: HelpdeskKind::Zammad,
        url: Some(without_credentials(&config.url)),
        connection,
        sync: config.enabled(),
        last_sync: sync.last_full_sync.max(sync.last_incremental_sync),
        last_sync_error: sync.last_error,
        users: sync.users,
        organizations: sync.organizations,
        numbers: sync.numbers,
        relay: config.relay,
        relay_pending: backlog.pending,
        relay_failed: backlog.failed,
    }))
}

/// The URL without a user name or password someone may have written into it.
fn without_credentials(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.as_str().trim_end_matches('/').to_owned()
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_credentials() {
        assert_eq!(
            without_credentials("https://zammad.example.com/"),
            "https://zammad.example.com"
        );
        assert_eq!(
            without_credentials("https://ops:secret@zammad.example.com/help"),
            "https://zammad.example.com/help"
        );
    }
}
