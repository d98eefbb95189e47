//! One connection of the session, from finding the hub to the end of its stream: check the
//! token with `GET /me` (retrying with backoff while the hub is unreachable), subscribe,
//! reduce every message and turn the stream's updates into the connection status.

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::settings::EndpointLookup;
use super::shared::{lock, Live, Shared};
use super::status::ConnectionState;
use crate::backoff::Backoff;
use crate::error::ClientError;
use crate::rest::HubClient;
use crate::state::ClientState;
use crate::stream::{subscribe, StreamUpdate};

/// Runs connection `generation` to the hub `endpoint` finds, until its stream ends or a
/// newer connection starts.
pub(super) async fn run(
    shared: Arc<Shared>,
    generation: u64,
    endpoint: impl Future<Output = EndpointLookup>,
) {
    let endpoint = match endpoint.await {
        EndpointLookup::Found(endpoint) => endpoint,
        EndpointLookup::Unconfigured => {
            shared.update_status(|status| {
                status.connection = ConnectionState::Unconfigured;
                status.detail = Some("set the hub URL and token in Settings".into());
            });
            return;
        }
        EndpointLookup::Failed(detail) => {
            shared.update_status(|status| {
                status.connection = ConnectionState::Offline;
                status.detail = Some(detail);
            });
            return;
        }
    };
    let hub_url = endpoint.base_url().to_string();
    shared.update_status(|status| status.hub_url = Some(hub_url));
    let client = match HubClient::new(endpoint.clone(), shared.config.request_timeout) {
        Ok(client) => client,
        Err(e) => return offline(&shared, &e),
    };
    let mut backoff = Backoff::new(shared.config.me_retry);
    let me = loop {
        match client.me().await {
            Ok(me) => break me,
            Err(e) if e.is_terminal() => return offline(&shared, &e),
            Err(_) if !shared.is_current(generation) => return,
            Err(e) => {
                let delay = backoff.next_jittered();
                shared.update_status(|status| {
                    status.connection = ConnectionState::Reconnecting;
                    status.detail = Some(format!("{e}; retrying in {} s", delay.as_secs() + 1));
                });
                shared.clock.sleep(delay).await;
            }
        }
    };
    let mut reducer = ClientState::new(me.login.clone(), shared.config.popup_window);
    reducer.set_popup_on(shared.settings().popup_on);
    let state = Arc::new(Mutex::new(reducer));
    let (stream, mut updates) = subscribe(endpoint, shared.config.stream.clone(), state.clone());
    let live = Live {
        client,
        state: state.clone(),
        stream,
    };
    if !shared.install(generation, live) {
        return;
    }
    shared.update_status(|status| status.me = Some(me));
    while let Some(update) = updates.recv().await {
        if !shared.is_current(generation) {
            return;
        }
        on_update(&shared, &state, update);
    }
}

fn offline(shared: &Shared, error: &ClientError) {
    shared.update_status(|status| {
        status.connection = ConnectionState::Offline;
        status.detail = Some(error.to_string());
    });
}

/// Carries out one stream update.
fn on_update(shared: &Arc<Shared>, state: &Mutex<ClientState>, update: StreamUpdate) {
    match update {
        StreamUpdate::Connecting => shared.update_status(|status| {
            if status.connection == ConnectionState::Connected {
                status.connection = ConnectionState::Reconnecting;
            }
        }),
        StreamUpdate::Connected => shared.update_status(|status| {
            status.connection = ConnectionState::Connected;
            status.detail = None;
        }),
        StreamUpdate::Disconnected { reason, retry_in } => shared.update_status(|status| {
            status.connection = ConnectionState::Reconnecting;
            status.detail = Some(format!(
                "{reason}; retrying in {} s",
                retry_in.as_secs() + 1
            ));
        }),
        StreamUpdate::Terminated(error) => offline(shared, &error),
        StreamUpdate::Message(message) => {
            let effects = lock(state).apply(message, shared.clock.now());
            for effect in effects {
                shared.carry_out(state, effect);
            }
        }
    }
}
