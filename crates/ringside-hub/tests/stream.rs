//! The live stream against the real hub: snapshot on first connect, live events, replay of
//! missed events on resume without loss or duplicates, snapshots when replay is impossible,
//! presence, notify routing, heartbeats and the janitor.

mod common;

use std::time::Duration;

use common::{call_of, position, TestHub};
use ringside_core::call::CallState;
use ringside_core::stream::{EventBody, ServerMessage};
use serde_json::json;

fn ring(call_id: &str, to: &str) -> Vec<(&'static str, String)> {
    vec![
        ("event", "newCall".into()),
        ("direction", "in".into()),
        ("callId", call_id.into()),
        ("from", "4930609854180".into()),
        ("to", to.into()),
    ]
}

fn refs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn first_connect_gets_a_snapshot_then_live_events() {
    let hub = TestHub::start("").await;
    hub.cti(&refs(&ring("before", "4930600000000"))).await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    let ServerMessage::Snapshot(snapshot) = stream.next().await else {
        panic!("a snapshot first")
    };
    assert!(!snapshot.recovered);
    assert_eq!(snapshot.active_calls.len(), 1);
    assert_eq!(snapshot.active_calls[0].call_id, "before");
    let me = snapshot
        .presence
        .iter()
        .find(|p| p.login == "admin")
        .unwrap();
    assert!(me.online, "the snapshot sees the new connection");

    hub.cti(&refs(&ring("live", "4930600000000"))).await;
    let event = stream.next().await;
    let call = call_of(&event).expect("a call event");
    assert_eq!(call.call_id, "live");
    assert_eq!(call.state, CallState::Ringing);
    assert_eq!(position(&event).1, snapshot.seq + 1);
}

#[tokio::test]
async fn resume_replays_what_was_missed_without_loss_or_duplicates() {
    let hub = TestHub::start("").await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    let snapshot = stream.next().await;
    hub.cti(&refs(&ring("c1", "4930600000000"))).await;
    let seen = stream.next().await;
    assert_eq!(call_of(&seen).unwrap().call_id, "c1");
    let (epoch, last) = position(&seen);
    assert_eq!(epoch, position(&snapshot).0);
    stream.close().await;

    // Missed while away: a new call, and c1 answered and hung up.
    hub.cti(&refs(&ring("c2", "4930600000000"))).await;
    hub.cti(&[("event", "answer"), ("direction", "in"), ("callId", "c1")])
        .await;
    hub.cti(&[
        ("event", "hangup"),
        ("direction", "in"),
        ("callId", "c1"),
        ("cause", "normalClearing"),
    ])
    .await;
    hub.cti(&refs(&ring("c2", "4930600000000"))).await; // a PBX retry: no event

    let mut resumed = hub.stream(&hub.admin_token, Some((&epoch, last))).await;
    let mut seqs = Vec::new();
    let mut calls = Vec::new();
    while let Some(message) = resumed.next_within(Duration::from_millis(500)).await {
        let ServerMessage::Event(event) = &message else {
            panic!("replay, not a snapshot: {message:?}")
        };
        seqs.push(event.seq);
        if let Some(call) = call_of(&message) {
            calls.push((call.call_id.clone(), call.state));
        }
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in order, no duplicates"
    );
    assert!(seqs[0] > last);
    assert_eq!(
        *seqs.last().unwrap(),
        hub.running.hub.store.last_seq().await.unwrap(),
        "up to the newest event"
    );
    assert_eq!(
        calls,
        vec![
            ("c2".to_owned(), CallState::Ringing),
            ("c1".to_owned(), CallState::Ended),
        ],
        "each call once, in its latest state"
    );

    // And live after the replay.
    hub.cti(&refs(&ring("c3", "4930600000000"))).await;
    let live = resumed.next().await;
    assert_eq!(call_of(&live).unwrap().call_id, "c3");
    assert_eq!(position(&live).1, seqs.last().unwrap() + 1);
}

#[tokio::test]
async fn a_call_that_rang_and_ended_while_away_is_replayed_as_ended_only() {
    let hub = TestHub::start("").await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    let (epoch, seq) = position(&stream.next().await);
    stream.close().await;
    hub.cti(&refs(&ring("short", "4930600000000"))).await;
    hub.cti(&[
        ("event", "hangup"),
        ("direction", "in"),
        ("callId", "short"),
        ("cause", "cancel"),
    ])
    .await;
    let mut resumed = hub.stream(&hub.admin_token, Some((&epoch, seq))).await;
    let mut states = Vec::new();
    while let Some(message) = resumed.next_within(Duration::from_millis(500)).await {
        states.extend(call_of(&message).map(|c| c.state));
    }
    assert_eq!(states, vec![CallState::Ended]);
}

#[tokio::test]
async fn stopping_the_hub_closes_its_streams() {
    let hub = TestHub::start("").await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await;
    hub.running.stop().await.unwrap();
    assert!(stream.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn an_unknown_epoch_or_a_future_position_gets_a_snapshot() {
    let hub = TestHub::start("").await;
    hub.cti(&refs(&ring("c1", "4930600000000"))).await;
    let mut other_epoch = hub
        .stream(&hub.admin_token, Some(("0000000000000000", 1)))
        .await;
    let ServerMessage::Snapshot(snapshot) = other_epoch.next().await else {
        panic!("a snapshot for another epoch")
    };
    assert_eq!(snapshot.active_calls.len(), 1);

    let epoch = snapshot.epoch.clone();
    let mut ahead = hub
        .stream(&hub.admin_token, Some((&epoch, snapshot.seq + 100)))
        .await;
    let ServerMessage::Snapshot(again) = ahead.next().await else {
        panic!("a snapshot for a position the hub never reached")
    };
    hub.cti(&refs(&ring("c2", "4930600000000"))).await;
    let live = ahead.next().await;
    assert_eq!(call_of(&live).unwrap().call_id, "c2");
    assert!(position(&live).1 > again.seq);
}

#[tokio::test]
async fn presence_and_do_not_disturb_reach_the_team() {
    let hub = TestHub::start("").await;
    let anna = hub.agent("anna", false, &[]).await;
    let mut watcher = hub.stream(&hub.admin_token, None).await;
    watcher.next().await; // snapshot

    let anna_stream = hub.stream(&anna, None).await;
    let presence = |message: ServerMessage| match message {
        ServerMessage::Event(event) => match event.body {
            EventBody::Presence { presence } => presence,
            other => panic!("expected presence, got {other:?}"),
        },
        other => panic!("expected an event, got {other:?}"),
    };
    let online = presence(watcher.next().await);
    assert_eq!((online.login.as_str(), online.online), ("anna", true));

    let (status, me) = hub
        .send("PUT", "/api/v1/me/dnd", &anna, json!({"dnd": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["dnd"], true);
    let dnd = presence(watcher.next().await);
    assert!(dnd.dnd && dnd.online);

    anna_stream.close().await;
    let offline = presence(watcher.next().await);
    assert_eq!(
        (offline.login.as_str(), offline.online, offline.dnd),
        ("anna", false, true)
    );

    let (_, agents) = hub.get("/api/v1/agents", &hub.admin_token).await;
    let anna_row = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["login"] == "anna")
        .unwrap();
    assert_eq!(anna_row["dnd"], true, "kept by the hub");
}

#[tokio::test]
async fn call_events_name_the_agents_they_are_for() {
    let hub =
        TestHub::start("[notify]\nmap = [{ queue = \"4930600000000\", agents = [\"anna\"] }]\n")
            .await;
    hub.agent("anna", false, &[]).await;
    hub.agent("ben", false, &["+49 30 600000099"]).await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await;
    for (call_id, to, expected) in [
        ("queue", "4930600000000", vec!["anna"]),
        ("direct", "030600000099", vec!["ben"]),
        ("nobody", "4930611111111", vec![]),
    ] {
        hub.cti(&refs(&ring(call_id, to))).await;
        let event = stream.next().await;
        let call = call_of(&event).unwrap();
        assert_eq!(call.call_id, call_id);
        assert_eq!(
            call.offered_to,
            Some(expected.iter().map(|s| s.to_string()).collect())
        );
    }
}

#[tokio::test]
async fn concurrent_webhooks_are_all_recorded_and_streamed_once_in_order() {
    let hub = std::sync::Arc::new(TestHub::start("").await);
    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await;
    let mut posts = tokio::task::JoinSet::new();
    for n in 0..60 {
        let hub = hub.clone();
        posts.spawn(async move {
            if n % 6 == 5 {
                // Interleaved bad events: refused, and they must not disturb the others.
                let id = format!("ghost-{n}");
                let (status, _) = hub
                    .cti(&[("event", "answer"), ("direction", "in"), ("callId", &id)])
                    .await;
                assert_eq!(status, 422);
            } else {
                let (status, _) = hub
                    .cti(&refs(&ring(&format!("c{n}"), "4930600000000")))
                    .await;
                assert_eq!(status, 200);
            }
        });
    }
    while let Some(done) = posts.join_next().await {
        done.unwrap();
    }
    let mut seqs = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let event = stream.next().await;
        seqs.push(position(&event).1);
        ids.insert(call_of(&event).unwrap().call_id.clone());
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(ids.len(), 50, "every call once");
    assert!(stream
        .next_within(Duration::from_millis(300))
        .await
        .is_none());
    assert_eq!(hub.journal().await.len(), 50);
}

#[tokio::test]
async fn a_removed_agent_or_a_replaced_token_ends_the_stream() {
    let hub = TestHub::start("").await;
    let anna = hub.agent("anna", false, &[]).await;
    let ben = hub.agent("ben", false, &[]).await;
    let mut annas = hub.stream(&anna, None).await;
    annas.next().await;
    let mut bens = hub.stream(&ben, None).await;
    bens.next().await;

    let (status, _) = hub
        .send(
            "DELETE",
            "/api/v1/admin/agents/anna",
            &hub.admin_token,
            json!(null),
        )
        .await;
    assert_eq!(status, 204);
    assert!(annas.closed_within(Duration::from_secs(4)).await);

    let (status, _) = hub
        .send(
            "POST",
            "/api/v1/admin/agents/ben/token",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(bens.closed_within(Duration::from_secs(4)).await);
}

#[tokio::test]
async fn changes_made_by_the_command_line_reach_live_clients() {
    let hub = TestHub::start("").await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    let (_, first) = position(&stream.next().await);
    let config = hub.dir.path().join("cli.toml");
    std::fs::write(
        &config,
        common::config_text(&hub.dir.path().join("data"), ""),
    )
    .unwrap();
    let added = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ringside-hub"))
            .arg("--config")
            .arg(&config)
            .args(["agent", "add", "carla", "--name", "Carla"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(added.status.success(), "{added:?}");
    // The hub publishes what the command line wrote before its own next event.
    hub.cti(&refs(&ring("after-cli", "4930600000000"))).await;
    let from_cli = stream.next().await;
    assert_eq!(position(&from_cli).1, first + 1);
    let ServerMessage::Event(event) = &from_cli else {
        panic!("an event")
    };
    let EventBody::Presence { presence } = &event.body else {
        panic!("the new agent, got {event:?}")
    };
    assert_eq!(presence.login, "carla");
    let call = stream.next().await;
    assert_eq!(call_of(&call).unwrap().call_id, "after-cli");
    assert_eq!(position(&call).1, first + 2);
}

#[tokio::test]
async fn the_hub_sends_heartbeats() {
    let hub = TestHub::start("").await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await;
    assert!(stream.ping_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn the_stream_needs_a_valid_token() {
    let hub = TestHub::start("").await;
    for header in [None, Some("Bearer wrong")] {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("ws://{}/api/v1/stream", hub.running.addr),
            )
            .unwrap();
        if let Some(header) = header {
            request
                .headers_mut()
                .insert("Authorization", header.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401)
            }
            other => panic!("expected 401, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_janitor_closes_calls_left_ringing() {
    let (hub, clock) = TestHub::start_on_manual_clock("ring_timeout_secs = 4\n").await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await;
    hub.cti(&refs(&ring("forgotten", "4930600000000"))).await;
    assert_eq!(
        call_of(&stream.next().await).unwrap().state,
        CallState::Ringing
    );
    // The janitor's passes come every second; the call rings for four.
    for pass in 2..=4 {
        clock.advance(Duration::from_secs(1));
        clock.begun(pass).await;
    }
    let journal = hub.journal().await;
    assert_ne!(journal[0]["state"], "hangup", "not closed before its time");
    clock.advance(Duration::from_secs(2));
    let closed = stream.next().await;
    let call = call_of(&closed).expect("the janitor's event");
    assert_eq!(call.call_id, "forgotten");
    assert_eq!(call.state, CallState::Ended);
    assert!(!call.done, "a missed call to call back");
    assert_eq!(call.comment.as_deref(), Some("ringTimeout"));
    let journal = hub.journal().await;
    assert_eq!(journal[0]["state"], "hangup");
}

/// The caller of the busy help desk: twenty contacts share the number, each with tickets
/// whose titles and links are long, so that every call carries a large caller match.
const BUSY_CALLER: &str = "4930609854180";

/// A hub whose directory (imported with the real binary) makes every call from
/// [`BUSY_CALLER`] carry twenty candidates and their tickets.
async fn busy_help_desk() -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::config_text(&dir.path().join("data"), "")).unwrap();
    let long = |what: &str, n: usize, len: usize| format!("{what} {n} {}", "x".repeat(len));
    let mut contacts = String::new();
    let mut tickets = String::new();
    for n in 0..20 {
        contacts.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{}\r\nORG:{}\r\nEMAIL:c{n}@example.com\r\n\
             TEL:+49 30 609854180\r\nURL:https://desk.example/{}\r\nEND:VCARD\r\n",
            long("Contact", n, 200),
            long("Org", n, 200),
            "p".repeat(1_000),
        ));
        for t in 0..5 {
            tickets.push_str(
                &json!({
                    "id": n * 10 + t,
                    "title": long("Ticket", t, 1_000),
                    "state": "open",
                    "customer_email": format!("c{n}@example.com"),
                    "url": format!("https://desk.example/t/{}", "t".repeat(1_000)),
                    "updated_at": "2026-11-20T09:00:00Z",
                })
                .to_string(),
            );
            tickets.push('\n');
        }
    }
    for (what, file, text) in [
        ("contacts", "contacts.vcf", contacts),
        ("tickets", "tickets.jsonl", tickets),
    ] {
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ringside-hub"))
            .arg("--config")
            .arg(&config)
            .args(["import", what])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    TestHub::start_in(dir, common::GENERIC_ON).await
}

#[tokio::test]
async fn a_snapshot_larger_than_a_frame_arrives_whole() {
    let hub = busy_help_desk().await;
    for n in 0..40 {
        hub.missed_call(&format!("missed-{n}"), BUSY_CALLER).await;
    }
    let mut stream = hub.stream(&hub.admin_token, None).await;
    // Every frame is checked against the client's limit as it arrives.
    let ServerMessage::Snapshot(snapshot) = stream.next().await else {
        panic!("a snapshot first")
    };
    let whole = serde_json::to_string(&snapshot.open_missed_calls).unwrap();
    assert!(
        whole.len() > 1 << 20,
        "more than the single frame the hub could send before: {} bytes",
        whole.len()
    );
    assert_eq!(snapshot.open_missed_calls.len(), 40);
    for call in &snapshot.open_missed_calls {
        let caller = call.caller.as_ref().expect("the caller is known");
        assert_eq!(
            caller.contacts.len(),
            20,
            "as many candidates as a call carries"
        );
        let tickets: usize = caller.contacts.iter().map(|c| c.tickets.len()).sum();
        assert_eq!(tickets, 20, "as many tickets as a call carries");
    }
    assert!(snapshot.presence.iter().any(|p| p.login == "admin"));

    // And the stream goes on live after it.
    hub.missed_call("after", BUSY_CALLER).await;
    let event = stream.next().await;
    assert_eq!(call_of(&event).unwrap().call_id, "after");
    assert_eq!(position(&event).1, snapshot.seq + 1);
}

/// Connects to the stream as `token` over a socket with a small receive buffer, and never
/// reads from it.
async fn never_reading_stream(
    hub: &TestHub,
    token: &str,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4 * 1024).unwrap();
    let tcp = socket.connect(hub.running.addr).await.unwrap();
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/api/v1/stream",
            hub.running.addr
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    let (stream, _) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    stream
}

#[tokio::test]
async fn a_client_that_does_not_read_is_dropped_and_goes_offline() {
    let hub = std::sync::Arc::new(busy_help_desk().await);
    let sam = hub.agent("sam", false, &[]).await;
    let mut watcher = hub.stream(&hub.admin_token, None).await;
    watcher.next().await; // snapshot

    let stuck = never_reading_stream(&hub, &sam).await;
    let presence_of_sam = |message: &ServerMessage| match message {
        ServerMessage::Event(event) => match &event.body {
            EventBody::Presence { presence } if presence.login == "sam" => Some(presence.online),
            _ => None,
        },
        ServerMessage::Snapshot(_) => None,
    };
    assert_eq!(presence_of_sam(&watcher.next().await), Some(true));

    // Many large events: far more than the socket buffers between the hub and sam hold.
    const CALLS: usize = 150;
    let publisher = {
        let hub = hub.clone();
        tokio::spawn(async move {
            for n in 0..CALLS {
                let (status, _) = hub
                    .cti(&[
                        ("event", "newCall"),
                        ("direction", "in"),
                        ("callId", &format!("flood-{n}")),
                        ("from", BUSY_CALLER),
                        ("to", "4930600000000"),
                    ])
                    .await;
                assert_eq!(status, 200);
            }
        })
    };
    // The watcher reads on, sees every call, and sees sam go offline.
    let mut calls = 0;
    let mut sam_offline = false;
    while calls < CALLS || !sam_offline {
        let message = watcher
            .next_within(Duration::from_secs(30))
            .await
            .expect("the watcher keeps receiving");
        if call_of(&message).is_some() {
            calls += 1;
        }
        if presence_of_sam(&message) == Some(false) {
            sam_offline = true;
        }
    }
    publisher.await.unwrap();
    let (_, agents) = hub.get("/api/v1/agents", &hub.admin_token).await;
    let sam_row = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["login"] == "sam")
        .unwrap();
    assert_eq!(sam_row["online"], false, "not rung any more");
    drop(stuck);
}

#[tokio::test]
async fn presence_follows_the_streams_while_writes_wait_and_fail() {
    let (hub, clock) = TestHub::start_on_manual_clock(common::ON_SQLITE).await;
    let sam = hub.agent("sam", false, &[]).await;
    // The team's view of the log: where it stood before, resumed from later.
    let mut watcher = hub.stream(&hub.admin_token, None).await;
    let (epoch, seq) = position(&watcher.next().await);
    watcher.close().await;
    let sam_online = || async {
        let (_, agents) = hub.get("/api/v1/agents", &hub.admin_token).await;
        agents
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["login"] == "sam")
            .unwrap()["online"]
            .as_bool()
            .unwrap()
    };

    // Another process holds the database's write lock, longer than the hub waits for it.
    let lock = rusqlite::Connection::open(hub.dir.path().join("data/ringside.sqlite")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut sams = hub.stream(&sam, None).await;
    assert!(
        sam_online().await,
        "online with the app, while the write waits"
    );
    // The stream does not wait for the presence write.
    let ServerMessage::Snapshot(snapshot) = sams.next().await else {
        panic!("a snapshot")
    };
    assert!(snapshot
        .presence
        .iter()
        .any(|p| p.login == "sam" && p.online));
    // Sam's app reads on (and answers pings) until it is closed.
    let (close_sam, closing) = tokio::sync::oneshot::channel::<()>();
    let sam_app = tokio::spawn(async move {
        let mut closing = closing;
        loop {
            tokio::select! {
                _ = &mut closing => return sams.close().await,
                _ = sams.next_within(Duration::from_secs(60)) => {}
            }
        }
    });
    // Writes fail while the lock is held: a webhook is refused.
    let (status, _) = hub.cti(&refs(&ring("locked-out", "4930600000000"))).await;
    assert!(status >= 500, "{status}");
    assert!(
        sam_online().await,
        "still online with the app after the failure"
    );
    lock.execute_batch("ROLLBACK").unwrap();

    // A later write (the janitor's next pass) tells the team.
    let mut watcher = hub.stream(&hub.admin_token, Some((&epoch, seq))).await;
    clock.advance(Duration::from_secs(5));
    let presence_of_sam = |message: ServerMessage| match message {
        ServerMessage::Event(event) => match event.body {
            EventBody::Presence { presence } if presence.login == "sam" => Some(presence.online),
            _ => None,
        },
        ServerMessage::Snapshot(_) => None,
    };
    loop {
        let message = watcher.next_within(Duration::from_secs(10)).await;
        if presence_of_sam(message.expect("sam's presence is told")) == Some(true) {
            break;
        }
    }

    close_sam.send(()).unwrap();
    sam_app.await.unwrap();
    loop {
        if presence_of_sam(watcher.next().await) == Some(false) {
            break;
        }
    }
    assert!(!sam_online().await, "offline without the app");
}
