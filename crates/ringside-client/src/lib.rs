//! The client side of a Ringside hub, without any UI: the desktop app is a thin shell over
//! this crate's [`session`].
//!
//! - [`endpoint`]: the hub's address and the agent token, checked once;
//! - [`rest`]: [`rest::HubClient`], typed calls to the agent API (presence, do-not-disturb,
//!   journal, caller lookup);
//! - [`stream`]: [`stream::subscribe`] runs the live event stream in the background:
//!   resume from the applied position, heartbeats, reconnect with [`backoff`], steered
//!   through a [`stream::StreamHandle`] and reported as [`stream::StreamUpdate`]s;
//! - [`state`]: [`state::ClientState`], the pure, idempotent reducer of stream messages into
//!   current calls and presence, which says what the UI must do ([`state::Effect`]);
//! - [`error`]: [`error::ClientError`], with a stable code for the UI;
//! - [`links`]: which links the app may open (the help desk over https, phone links, the
//!   hub's softphone link);
//! - [`preferences`]: the agent's settings for the app, checked, and their file;
//! - [`dial_prompt`]: phone links the agent did not type wait for a confirmation;
//! - [`call_notification`]: which desktop notification to show, replace or withdraw;
//! - [`wake`]: noticing a sleep, so that the stream reconnects at once after it;
//! - [`session`]: [`session::Session`], the app's whole life with its hub, built on the
//!   modules above: the `GET /me` check with retry, the stream, the reducer, the connection
//!   status, the popup stack, the notifications and phone links, shown through a
//!   [`session::Display`] the shell implements, on the `ringside_clock::Clock` it is
//!   given (the system's in the app, a manual one in tests).
//!
//! The desktop app uses [`session::Session`]: it finds the hub (the embedded one, or the
//! remote one's token from the keyring), hands it to [`session::Session::connect`] and
//! implements [`session::Display`] with its windows, tray and notifications; everything
//! else happens here.
//!
//! Wiring the parts by hand, as the session does: share one `Arc<Mutex<ClientState>>`
//! between the stream and the app; for each [`stream::StreamUpdate::Message`], lock the
//! state, `apply` the message with the current time and carry out the returned effects.
//! The stream resumes from the state's position, so a message received but not yet
//! applied when the connection dropped is simply replayed.
//!
//! ```no_run
//! use std::sync::{Arc, Mutex};
//!
//! use ringside_client::endpoint::HubEndpoint;
//! use ringside_client::rest::{HubClient, DEFAULT_REQUEST_TIMEOUT};
//! use ringside_client::state::{ClientState, Effect, DEFAULT_POPUP_WINDOW};
//! use ringside_client::stream::{subscribe, StreamConfig, StreamUpdate};
//!
//! # async fn run() -> Result<(), ringside_client::error::ClientError> {
//! let endpoint = HubEndpoint::new("http://127.0.0.1:8642", "agent-token")?;
//! let me = HubClient::new(endpoint.clone(), DEFAULT_REQUEST_TIMEOUT)?.me().await?;
//! let state = Arc::new(Mutex::new(ClientState::new(me.presence.login, DEFAULT_POPUP_WINDOW)));
//! let (handle, mut updates) = subscribe(endpoint, StreamConfig::default(), state.clone());
//! while let Some(update) = updates.recv().await {
//!     match update {
//!         StreamUpdate::Message(message) => {
//!             let now = time::OffsetDateTime::now_utc();
//!             for effect in state.lock().unwrap().apply(message, now) {
//!                 if let Effect::ShowPopup(call) = effect {
//!                     println!("{} is calling", call.from_pretty);
//!                 }
//!             }
//!         }
//!         StreamUpdate::Terminated(error) => eprintln!("{}: {error}", error.code()),
//!         _ => {}
//!     }
//! }
//! handle.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod backoff;
pub mod call_notification;
pub mod dial_prompt;
pub mod endpoint;
pub mod error;
pub mod hub_version;
pub mod links;
pub mod preferences;
pub mod rest;
pub mod session;
pub mod state;
pub mod stream;
pub mod wake;
