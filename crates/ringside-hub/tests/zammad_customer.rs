//! Creating the customer of an unknown caller in Zammad from a popup
//! (`POST /api/v1/calls/{id}/customer`): Zammad gets one user with the caller's number, the
//! directory has them at once, and the journal's calls of the last 30 days from that
//! number show them (the stream carries each); refusals change nothing.

mod common;

use std::time::Duration;

use common::fake_zammad::FakeZammad;
use common::{call_of, contact_names, TestHub};
use ringside_core::call::Call;
use serde_json::{json, Value};

/// A hub syncing from `fake`, after its first pass, on a clock the test moves.
async fn hub_after_first_pass(fake: &FakeZammad) -> (TestHub, ringside_clock::ManualClock) {
    let (hub, clock) = TestHub::start_on_manual_clock(&fake.config()).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;
    (hub, clock)
}

/// The journal id of call `call_id`.
async fn id_of(hub: &TestHub, call_id: &str) -> i64 {
    hub.journal_entry(call_id).await["id"].as_i64().unwrap()
}

async fn create(hub: &TestHub, token: &str, id: i64, body: Value) -> (u16, Value) {
    hub.send("POST", &format!("/api/v1/calls/{id}/customer"), token, body)
        .await
}

#[tokio::test]
async fn an_unknown_caller_becomes_a_customer_and_their_recent_calls_show_them() {
    let fake = FakeZammad::start(true).await;
    let (hub, clock) = hub_after_first_pass(&fake).await;
    let agent = hub.agent("anna", false, &[]).await;

    hub.missed_call("old", "030 609854180").await;
    clock.advance(Duration::from_secs(31 * 24 * 3600));
    hub.missed_call("earlier", "+49 30 609854180").await;
    hub.missed_call("other", "0171 5550003").await;
    hub.missed_call("now", "030609854180").await;
    let mut stream = hub.stream(&agent, None).await;
    stream.next().await; // the snapshot

    let (status, card) = create(
        &hub,
        &agent,
        id_of(&hub, "now").await,
        json!({"name": " Nicole  Braun "}),
    )
    .await;
    assert_eq!(status, 201, "{card}");

    // Zammad got one user: the number in E.164, the name split (reference §1.6).
    assert_eq!(
        fake.created(),
        [json!({"firstname": "Nicole", "lastname": "Braun", "phone": "+4930609854180"})]
    );
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.uri == "/api/v1/users" && r.authorization.is_some())
        .expect("the user was posted");
    assert_eq!(
        post.authorization.as_deref(),
        Some("Token token=zammad-api-token-0123456789")
    );
    let user_id = fake.data.lock().unwrap().users[0]["id"].as_u64().unwrap();
    let base = &fake.url;
    assert_eq!(card["name"], "Nicole Braun");
    assert_eq!(card["source"], "zammad");
    assert_eq!(
        card["profile_url"],
        format!("{base}/#user/profile/{user_id}")
    );
    assert_eq!(
        card["new_ticket_url"],
        format!("{base}/#ticket/create/customer/{user_id}")
    );
    assert!(card["id"].is_i64(), "the directory's contact: {card}");

    // The call and the earlier one within 30 days show the customer; the rest not.
    for call_id in ["now", "earlier"] {
        let entry = hub.journal_entry(call_id).await;
        assert_eq!(contact_names(&entry), ["Nicole Braun"], "{call_id}");
        assert_eq!(entry["caller"]["level"], "known");
        assert_eq!(entry["from_comment"], "Nicole Braun");
        assert_eq!(
            entry["caller"]["contacts"][0]["new_ticket_url"],
            card["new_ticket_url"]
        );
    }
    assert_eq!(hub.journal_entry("old").await["caller"], Value::Null);
    assert_eq!(hub.journal_entry("other").await["caller"], Value::Null);

    // The directory answers lookups with them.
    let (status, lookup) = hub.get("/api/v1/callers/030609854180", &agent).await;
    assert_eq!(status, 200);
    assert_eq!(lookup["match"]["contacts"][0]["name"], "Nicole Braun");

    // The apps heard of both calls, and of no other.
    let mut streamed: Vec<Call> = Vec::new();
    let matched = |streamed: &[Call], call_id: &str| {
        streamed
            .iter()
            .any(|call| call.call_id == call_id && call.caller.is_some())
    };
    while !(matched(&streamed, "now") && matched(&streamed, "earlier")) {
        if let Some(call) = call_of(&stream.next().await) {
            streamed.push(call.clone());
        }
    }
    for call in &streamed {
        assert!(
            ["now", "earlier"].contains(&call.call_id.as_str()),
            "{call:?}"
        );
        assert_eq!(
            call.caller.as_ref().unwrap().contacts[0].name,
            "Nicole Braun"
        );
    }

    // The sync's next pass keeps the customer (Zammad lists them now).
    let (status, _) = hub
        .send(
            "POST",
            "/api/v1/admin/zammad/sync",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 202);
    hub.running.hub.zammad.clone().unwrap().passes(2).await;
    assert_eq!(
        contact_names(&hub.journal_entry("now").await),
        ["Nicole Braun"]
    );
}

#[tokio::test]
async fn a_double_click_creates_one_customer() {
    let fake = FakeZammad::start(false).await;
    let (hub, _clock) = hub_after_first_pass(&fake).await;
    let agent = hub.agent("anna", false, &[]).await;
    hub.missed_call("c1", "030609854180").await;
    let id = id_of(&hub, "c1").await;

    let (first, second) = tokio::join!(
        create(&hub, &agent, id, json!({})),
        create(&hub, &agent, id, json!({})),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{first:?} {second:?}");
    assert_eq!(fake.created(), [json!({"phone": "+4930609854180"})]);
    let (created, known) = if first.0 == 201 {
        (first.1, second.1)
    } else {
        (second.1, first.1)
    };
    assert_eq!(known["code"], "caller_known");
    assert_eq!(known["contact"]["profile_url"], created["profile_url"]);
    assert!(
        known["error"].as_str().unwrap().contains("+4930609854180"),
        "{known}"
    );
    // A phone is all Zammad needs to know them by; the card names them by it.
    assert_eq!(created["name"], "+4930609854180");
}

#[tokio::test]
async fn a_known_caller_is_not_created_again() {
    let fake = FakeZammad::start(true).await;
    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun", "phone": "030 609854180"}),
    );
    let (hub, _clock) = hub_after_first_pass(&fake).await;
    hub.missed_call("c1", "030609854180").await;

    let (status, body) = create(&hub, &hub.admin_token, id_of(&hub, "c1").await, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "caller_known");
    assert_eq!(body["contact"]["name"], "Nicole Braun");
    assert_eq!(
        body["contact"]["profile_url"],
        format!("{}/#user/profile/2", fake.url)
    );
    assert!(fake.created().is_empty());
}

#[tokio::test]
async fn without_zammad_no_customer_is_created() {
    let hub = TestHub::start("").await;
    hub.missed_call("c1", "030609854180").await;
    let (status, body) = create(&hub, &hub.admin_token, id_of(&hub, "c1").await, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "zammad_not_configured");
    assert!(
        body["error"].as_str().unwrap().contains("[zammad]"),
        "{body}"
    );
    let (_, me) = hub.get("/api/v1/me", &hub.admin_token).await;
    assert_eq!(me["helpdesk_url"], Value::Null);
    assert_eq!(me["login"], "admin", "{me}");
}

#[tokio::test]
async fn bad_requests_are_refused_with_reasons() {
    let fake = FakeZammad::start(true).await;
    let (hub, _clock) = hub_after_first_pass(&fake).await;
    let (_, me) = hub.get("/api/v1/me", &hub.admin_token).await;
    assert_eq!(me["helpdesk_url"], format!("{}/", fake.url));
    hub.missed_call("c1", "030609854180").await;
    let id = id_of(&hub, "c1").await;
    let token = hub.admin_token.clone();

    let (status, body) = create(&hub, &token, 999_999, json!({})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let long = "x".repeat(201);
    let (status, body) = create(&hub, &token, id, json!({ "name": long })).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")));
    let (status, body) = create(&hub, &token, id, json!({"firstname": "N"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")));
    let (status, _) = create(&hub, "not-a-token", id, json!({})).await;
    assert_eq!(status, 401);

    hub.missed_call("hidden", "anonymous").await;
    let (status, body) = create(&hub, &token, id_of(&hub, "hidden").await, json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("no_number")),
        "{body}"
    );
    assert!(fake.created().is_empty());
}

#[tokio::test]
async fn zammad_refusing_or_down_changes_nothing() {
    let fake = FakeZammad::start(true).await;
    let (hub, _clock) = hub_after_first_pass(&fake).await;
    hub.missed_call("c1", "030609854180").await;
    let id = id_of(&hub, "c1").await;

    fake.data.lock().unwrap().permissions = vec!["cti.agent"];
    let (status, body) = create(&hub, &hub.admin_token, id, json!({})).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "zammad_refused");
    let text = body["error"].as_str().unwrap();
    assert!(text.contains("ticket.agent or admin.user"), "{text}");

    fake.data.lock().unwrap().permissions = vec!["ticket.agent"];
    fake.stop();
    let (status, body) = create(&hub, &hub.admin_token, id, json!({})).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "zammad_unreachable");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{body}"
    );

    assert!(fake.created().is_empty());
    assert_eq!(hub.journal_entry("c1").await["caller"], Value::Null);
    let (_, lookup) = hub
        .get("/api/v1/callers/030609854180", &hub.admin_token)
        .await;
    assert_eq!(lookup["match"], Value::Null);
}

#[tokio::test]
async fn a_full_pass_that_paged_past_a_new_customer_keeps_them() {
    let fake = FakeZammad::start(true).await;
    fake.put_user(1, json!({"firstname": "Admin"})); // Zammad always has its admin
    let (hub, _clock) = hub_after_first_pass(&fake).await;
    let sync = hub.running.hub.zammad.clone().unwrap();
    hub.missed_call("c1", "030609854180").await;

    // A full pass reads the users' page, and answers it only after the customer exists.
    fake.data.lock().unwrap().users_held.send_replace(true);
    let mut waited = fake.data.lock().unwrap().users_waited.subscribe();
    let (status, _) = hub
        .send(
            "POST",
            "/api/v1/admin/zammad/sync",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 202);
    waited.wait_for(|n| *n >= 1).await.unwrap();
    let (status, card) = create(&hub, &hub.admin_token, id_of(&hub, "c1").await, json!({})).await;
    assert_eq!(status, 201, "{card}");
    fake.data.lock().unwrap().users_held.send_replace(false);
    sync.passes(2).await;

    assert_eq!(
        contact_names(&hub.journal_entry("c1").await),
        ["+4930609854180"],
        "the pass did not see the customer, and kept them"
    );
    let (_, lookup) = hub
        .get("/api/v1/callers/030609854180", &hub.admin_token)
        .await;
    assert_eq!(
        lookup["match"]["contacts"][0]["profile_url"],
        card["profile_url"]
    );
}
