//! Tickets fresh at ring time, end to end: a real hub syncs from the fake Zammad (a real
//! HTTP server), a call rings through the generic webhook, and the stream carries the
//! ringing call at once (with the tickets the hub kept) and then its update with Zammad's
//! tickets. While Zammad is slow or down the ring is not held up, no update comes, the kept
//! tickets serve and the help desk's state says so; when it is back the next ring updates.

mod common;

use std::time::Duration;

use common::fake_zammad::FakeZammad;
use common::{call_of, Stream, TestHub};
use ringside_client::endpoint::HubEndpoint;
use ringside_client::rest::{HubClient, DEFAULT_REQUEST_TIMEOUT};
use ringside_core::api::{HelpdeskKind, HelpdeskState};
use ringside_core::call::{Call, CallState};
use ringside_core::caller::TicketSummary;
use serde_json::{json, Value};

/// Nicole's number as a caller sends it.
const NICOLE: &str = "+4930123456";

/// A fake Zammad with Nicole (user 2) and her tickets: 1 open, 2 closed, 3 new; and a
/// ticket of another customer.
async fn zammad_with_tickets() -> FakeZammad {
    let fake = FakeZammad::start(false).await;
    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun", "phone": "+49 30 123456"}),
    );
    fake.put_user(3, json!({"firstname": "Otto", "lastname": "Other"}));
    fake.put_ticket(1, 2, "Printer on fire", 2);
    fake.put_ticket(2, 2, "Invoice question", 4);
    fake.put_ticket(3, 2, "New laptop", 1);
    fake.put_ticket(4, 3, "Not Nicole's", 2);
    fake
}

/// A hub that syncs from `fake` with fetches bounded by `timeout_ms`, after its first pass.
async fn hub_synced_from(fake: &FakeZammad, timeout_ms: u64) -> TestHub {
    let config = format!("{}ticket_timeout_ms = {timeout_ms}\n", fake.config());
    let hub = TestHub::start(&config).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;
    hub
}

/// A stream of the agent with `token`, once its snapshot has come: what comes next is news.
async fn stream_of(hub: &TestHub, token: &str) -> Stream {
    let mut stream = hub.stream(token, None).await;
    assert!(matches!(
        stream.next().await,
        ringside_core::stream::ServerMessage::Snapshot(_)
    ));
    stream
}

/// The next call on the stream, skipping snapshots and presence.
async fn next_call(stream: &mut Stream) -> Call {
    loop {
        let message = stream.next().await;
        if let Some(call) = call_of(&message) {
            return call.clone();
        }
    }
}

/// The tickets of the call's first candidate.
fn tickets(call: &Call) -> Vec<TicketSummary> {
    call.caller.as_ref().expect("a match").contacts[0]
        .tickets
        .clone()
}

fn titles(call: &Call) -> Vec<String> {
    tickets(call).into_iter().map(|t| t.title).collect()
}

/// The help desk's state as an agent reads it, once the hub's connection state is `state`.
async fn helpdesk_when(hub: &TestHub, token: &str, state: HelpdeskState) -> Value {
    let health = hub
        .running
        .hub
        .zammad_health
        .as_ref()
        .expect("Zammad is asked");
    let mut connection = health.watch();
    tokio::time::timeout(
        Duration::from_secs(10),
        connection.wait_for(|c| c.state == state),
    )
    .await
    .unwrap_or_else(|_| panic!("the state stayed {:?}", health.connection()))
    .expect("the hub runs");
    let (status, body) = hub.get("/api/v1/helpdesk", token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["connection"]["state"],
        serde_json::to_value(state).unwrap()
    );
    body
}

async fn hang_up(hub: &TestHub, call_id: &str) {
    let (status, body) = hub
        .cti(&[
            ("event", "hangup"),
            ("direction", "in"),
            ("callId", call_id),
            ("cause", "cancel"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Rings `call_id` from Nicole; the ringing call as the stream carries it.
async fn ring_without_update(hub: &TestHub, stream: &mut Stream, call_id: &str) -> Call {
    hub.ring_from(call_id, NICOLE).await;
    let ringing = next_call(stream).await;
    assert_eq!(
        (ringing.call_id.as_str(), ringing.state),
        (call_id, CallState::Ringing)
    );
    ringing
}

#[tokio::test]
async fn a_call_pops_with_kept_tickets_then_zammads_and_a_change_shows_on_the_next_call() {
    let fake = zammad_with_tickets().await;
    let hub = hub_synced_from(&fake, 2000).await;
    let agent = hub.agent("anna", false, &[]).await;
    let mut stream = stream_of(&hub, &agent).await;

    hub.ring_from("z1", NICOLE).await;
    let ringing = next_call(&mut stream).await;
    assert_eq!(ringing.state, CallState::Ringing);
    assert_eq!(titles(&ringing), Vec::<String>::new(), "nothing kept yet");
    let updated = next_call(&mut stream).await;
    assert_eq!(updated.id, ringing.id);
    assert_eq!(updated.state, CallState::Ringing);
    assert!(updated.updated_at > ringing.updated_at);
    // Newest change first: the tickets were put in the order 1, 2, 3.
    let fresh = tickets(&updated);
    let shown: Vec<(&str, &str, Option<&str>)> = fresh
        .iter()
        .map(|t| (t.id.as_str(), t.title.as_str(), t.state.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("53003", "New laptop", Some("new")),
            ("53002", "Invoice question", Some("closed")),
            ("53001", "Printer on fire", Some("open")),
        ]
    );
    assert_eq!(
        fresh[0].url.as_deref(),
        Some(format!("{}/#ticket/zoom/3", fake.url).as_str())
    );
    assert!(fresh[0].updated_at.is_some());
    let entry = hub.journal_entry("z1").await;
    assert_eq!(
        entry["caller"]["contacts"][0]["tickets"][0]["title"], "New laptop",
        "the journal keeps the fresh tickets"
    );
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.uri == "/api/v1/ticket_customer?customer_id=2"));

    fake.put_ticket(1, 2, "Printer fixed", 4);
    hub.ring_from("z2", NICOLE).await;
    let ringing = next_call(&mut stream).await;
    assert_eq!(
        titles(&ringing),
        ["New laptop", "Invoice question", "Printer on fire"],
        "the first event carries the tickets kept from the last call"
    );
    let updated = next_call(&mut stream).await;
    assert_eq!(updated.call_id, "z2");
    assert_eq!(
        titles(&updated),
        ["Printer fixed", "New laptop", "Invoice question"]
    );
    assert_eq!(tickets(&updated)[0].state.as_deref(), Some("closed"));
    assert_eq!(fake.ticket_requests(), 2, "every ring asks Zammad");

    let helpdesk = helpdesk_when(&hub, &agent, HelpdeskState::Up).await;
    assert_eq!(helpdesk["kind"], "zammad");
    assert_eq!(helpdesk["url"], fake.url.as_str());
    assert_eq!(helpdesk["sync"], true);
    assert_eq!(helpdesk["users"], 2);
    assert_eq!(helpdesk["relay"], false);
    assert!(helpdesk["last_sync"].is_string(), "{helpdesk}");
    assert!(
        !helpdesk
            .to_string()
            .contains(common::fake_zammad::ZAMMAD_TOKEN),
        "no token"
    );
    let client = HubClient::new(
        HubEndpoint::new(&hub.running.url(), &agent).unwrap(),
        DEFAULT_REQUEST_TIMEOUT,
    )
    .unwrap();
    let read = client
        .helpdesk()
        .await
        .expect("the desktop's client reads it");
    assert_eq!(read.kind, HelpdeskKind::Zammad);
    assert_eq!(read.connection.state, HelpdeskState::Up);
    assert_eq!((read.users, read.relay_pending), (2, 0));
}

#[tokio::test]
async fn the_ring_is_published_while_zammad_hangs() {
    let fake = zammad_with_tickets().await;
    let hub = hub_synced_from(&fake, 10_000).await;
    let mut stream = stream_of(&hub, &hub.admin_token).await;
    fake.set_delay(Duration::from_secs(60));

    hub.ring_from("h1", NICOLE).await;
    let ringing = next_call(&mut stream).await;
    assert_eq!(ringing.state, CallState::Ringing);
    fake.tickets_in_flight(1).await;
    assert_eq!(
        fake.tickets_in_flight_now(),
        1,
        "answered and published while Zammad still holds the fetch"
    );
}

#[tokio::test]
async fn zammad_slow_or_down_shows_as_its_state_and_the_kept_tickets_serve() {
    let fake = zammad_with_tickets().await;
    let hub = hub_synced_from(&fake, 300).await;
    let admin = hub.admin_token.clone();
    let mut stream = stream_of(&hub, &admin).await;
    hub.ring_from("s0", NICOLE).await;
    next_call(&mut stream).await;
    let kept = titles(&next_call(&mut stream).await);
    assert_eq!(kept.len(), 3);

    fake.set_delay(Duration::from_secs(2));
    let ringing = ring_without_update(&hub, &mut stream, "s1").await;
    assert_eq!(titles(&ringing), kept, "the kept tickets serve");
    let slow = helpdesk_when(&hub, &admin, HelpdeskState::Slow).await;
    assert!(
        slow["connection"]["last_error"]
            .as_str()
            .unwrap()
            .contains("300 ms"),
        "{slow}"
    );
    assert!(slow["connection"]["since"].is_string());
    hang_up(&hub, "s1").await;
    let next = next_call(&mut stream).await;
    assert_eq!(
        (next.call_id.as_str(), next.state),
        ("s1", CallState::Ended),
        "no update while Zammad is slow"
    );
    let (status, admin_state) = hub.get("/api/v1/admin/zammad", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(admin_state["connection"]["state"], "slow");

    fake.set_delay(Duration::ZERO);
    fake.set_down(true);
    let ringing = ring_without_update(&hub, &mut stream, "s2").await;
    assert_eq!(titles(&ringing), kept);
    let down = helpdesk_when(&hub, &admin, HelpdeskState::Down).await;
    assert!(
        down["connection"]["last_error"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{down}"
    );
    hang_up(&hub, "s2").await;
    let next = next_call(&mut stream).await;
    assert_eq!(
        (next.call_id.as_str(), next.state),
        ("s2", CallState::Ended),
        "no update while Zammad is down"
    );
    let (_, admin_state) = hub.get("/api/v1/admin/zammad", &admin).await;
    assert_eq!(admin_state["connection"]["state"], "down");

    fake.set_down(false);
    fake.put_ticket(5, 2, "Back again", 2);
    hub.ring_from("s3", NICOLE).await;
    assert_eq!(titles(&next_call(&mut stream).await), kept);
    let updated = next_call(&mut stream).await;
    assert_eq!(updated.call_id, "s3");
    assert_eq!(titles(&updated)[0], "Back again");
    helpdesk_when(&hub, &admin, HelpdeskState::Up).await;
}

#[tokio::test]
async fn ticket_fetches_are_capped_however_many_calls_ring() {
    let fake = FakeZammad::start(false).await;
    let callers = 10u64;
    for n in 0..callers {
        let id = 10 + n;
        fake.put_user(
            id,
            json!({"firstname": "Caller", "lastname": format!("{n}"),
                   "phone": format!("+49 30 5550{n:03}")}),
        );
        fake.put_ticket(100 + n, id, &format!("Ticket of caller {n}"), 2);
    }
    let hub = hub_synced_from(&fake, 10_000).await;
    let mut stream = stream_of(&hub, &hub.admin_token).await;
    fake.set_delay(Duration::from_millis(300));

    let rings: Vec<_> = (0..callers)
        .map(|n| {
            let hub = &hub;
            async move {
                hub.ring_from(&format!("c{n}"), &format!("+49305550{n:03}"))
                    .await
            }
        })
        .collect();
    futures_util::future::join_all(rings).await;
    let mut updated = 0;
    while updated < callers {
        let call = next_call(&mut stream).await;
        if !titles(&call).is_empty() {
            updated += 1;
        }
    }
    assert_eq!(
        fake.max_tickets_in_flight(),
        ringside_hub::zammad::tickets::MAX_FETCHES,
        "at most this many at once, and that many used"
    );
}
