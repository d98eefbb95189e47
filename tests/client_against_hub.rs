//! The real client against the real hub: popups follow calls, and a hub restart or a
//! dropped connection loses nothing and pops nothing twice.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_client::backoff::BackoffPolicy;
use ringside_client::endpoint::HubEndpoint;
use ringside_client::rest::{HubClient, DEFAULT_REQUEST_TIMEOUT};
use ringside_client::state::{ClientState, Effect, DEFAULT_POPUP_WINDOW};
use ringside_client::stream::{subscribe, StreamConfig, StreamHandle, StreamUpdate};
use ringside_core::call::CallState;
use ringside_e2e::{add_agent, pbx, start_hub};
use tokio::sync::mpsc::Receiver;

/// An agent's app, reduced to what the tests watch: the state and every effect so far.
struct App {
    state: Arc<Mutex<ClientState>>,
    handle: StreamHandle,
    updates: Receiver<StreamUpdate>,
    effects: Vec<Effect>,
    connections: usize,
}

impl App {
    fn start(url: &str, token: &str, login: &str) -> App {
        let state = Arc::new(Mutex::new(ClientState::new(login, DEFAULT_POPUP_WINDOW)));
        Self::resume(url, token, state)
    }

    /// Subscribes again with the state an earlier run left (an app waking from sleep).
    fn resume(url: &str, token: &str, state: Arc<Mutex<ClientState>>) -> App {
        let endpoint = HubEndpoint::new(url, token).unwrap();
        let config = StreamConfig {
            backoff: BackoffPolicy {
                base: Duration::from_millis(50),
                cap: Duration::from_millis(300),
                reset_after: Duration::from_secs(5),
            },
            ..StreamConfig::default()
        };
        let (handle, updates) = subscribe(endpoint, config, state.clone());
        App {
            state,
            handle,
            updates,
            effects: Vec::new(),
            connections: 0,
        }
    }

    /// Applies updates until `done` holds for the effects so far; panics after 10 s.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !done(self) {
            let update = tokio::time::timeout_at(deadline, self.updates.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("timed out waiting for {what}; effects: {:?}", self.effects)
                })
                .expect("the stream runs");
            match update {
                StreamUpdate::Message(message) => {
                    let now = time::OffsetDateTime::now_utc();
                    let effects = self.state.lock().unwrap().apply(message, now);
                    self.effects.extend(effects);
                }
                StreamUpdate::Connected => self.connections += 1,
                StreamUpdate::Terminated(e) => panic!("stream terminated: {e}"),
                _ => {}
            }
        }
    }

    fn popups_for(&self, call_id: &str) -> usize {
        self.effects
            .iter()
            .filter(|e| matches!(e, Effect::ShowPopup(c) if c.call_id == call_id))
            .count()
    }

    fn closed(&self, call_id: &str) -> bool {
        let state = self.state.lock().unwrap();
        self.effects.iter().any(|e| match e {
            Effect::ClosePopup(id) => state.call(*id).is_some_and(|c| c.call_id == call_id),
            _ => false,
        })
    }

    fn state_of(&self, call_id: &str) -> Option<CallState> {
        let state = self.state.lock().unwrap();
        let mut calls = state
            .active_calls()
            .into_iter()
            .chain(state.open_missed_calls());
        calls.find(|c| c.call_id == call_id).map(|c| c.state)
    }
}

#[tokio::test]
async fn a_popup_opens_on_ringing_and_closes_when_someone_else_answers() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let token = add_agent(&hub, "anna", false).await.unwrap();
    add_agent(&hub, "ben", false).await.unwrap();
    let mut app = App::start(&hub.url(), &token, "anna");
    app.until("the first connection", |a| {
        a.connections == 1 && a.state.lock().unwrap().position().is_some()
    })
    .await;

    pbx(&hub, "newCall", "c1", &[]).await;
    app.until("the popup", |a| a.popups_for("c1") == 1).await;
    pbx(&hub, "answer", "c1", &[("user", "ben")]).await;
    app.until("the popup to close", |a| a.closed("c1")).await;
    assert_eq!(app.state_of("c1"), Some(CallState::Answered));

    let rest = HubClient::new(
        HubEndpoint::new(&hub.url(), &token).unwrap(),
        DEFAULT_REQUEST_TIMEOUT,
    )
    .unwrap();
    let me = rest.set_dnd(true).await.unwrap();
    assert!(me.dnd);
    app.until("my do-not-disturb", |a| {
        a.state.lock().unwrap().my_presence().is_some_and(|p| p.dnd)
    })
    .await;
    app.handle.shutdown().await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_hub_restart_loses_nothing_and_pops_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start_hub(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = hub.addr;
    let token = add_agent(&hub, "anna", false).await.unwrap();
    let mut app = App::start(&hub.url(), &token, "anna");
    app.until("the first connection", |a| {
        a.state.lock().unwrap().position().is_some()
    })
    .await;
    pbx(&hub, "newCall", "before", &[]).await;
    app.until("the popup", |a| a.popups_for("before") == 1)
        .await;
    let epoch = app.state.lock().unwrap().position().unwrap().epoch.clone();

    // The hub restarts under the running app, which reconnects by itself.
    hub.stop().await.unwrap();
    let hub = start_hub(dir.path(), addr).await.unwrap();
    app.until("the reconnect", |a| a.connections == 2).await;
    pbx(&hub, "hangup", "before", &[("cause", "cancel")]).await;
    app.until("the missed call to close its popup", |a| a.closed("before"))
        .await;
    assert_eq!(app.popups_for("before"), 1, "no second popup");
    assert_eq!(app.state_of("before"), Some(CallState::Ended));
    assert_eq!(
        app.state.lock().unwrap().position().unwrap().epoch,
        epoch,
        "same history"
    );

    // The app sleeps; meanwhile a call rings and ends, and another one rings.
    let state = app.state.clone();
    app.handle.shutdown().await;
    pbx(&hub, "newCall", "while-away", &[]).await;
    pbx(&hub, "hangup", "while-away", &[("cause", "cancel")]).await;
    pbx(&hub, "newCall", "after", &[]).await;
    let mut app = App::resume(&hub.url(), &token, state);
    app.until("the replay", |a| a.popups_for("after") == 1)
        .await;
    app.until("the missed call in the journal", |a| {
        a.state_of("while-away") == Some(CallState::Ended)
    })
    .await;
    assert_eq!(
        app.popups_for("while-away"),
        0,
        "an ended call goes to the journal only"
    );

    // A dropped connection resumes too.
    app.handle.reconnect_now();
    pbx(&hub, "answer", "after", &[]).await;
    app.until("the answer after a forced reconnect", |a| {
        a.state_of("after") == Some(CallState::Answered)
    })
    .await;
    assert_eq!(app.popups_for("after"), 1);
    app.handle.shutdown().await;
    hub.stop().await.unwrap();
}
