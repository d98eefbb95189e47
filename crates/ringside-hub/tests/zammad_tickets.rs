//! Calls logged as Zammad tickets, against the real hub and the strict fake Zammad
//! (`common::fake_zammad`): a missed call of a known customer becomes one phone ticket
//! however often the PBX repeats itself, an answered call the answering agent's article,
//! a second call within the window an article on the open ticket; an unknown caller gets
//! nothing; an outage, a lost answer and a killed hub still end in exactly one ticket; an
//! agent's one click makes the ticket and answers with it; the call shows its ticket in
//! the journal and on the stream.

mod common;

use std::time::Duration;

use common::fake_zammad::FakeZammad;
use common::process::{free_port, get_json, hub_command, serve};
use common::{call_of, TestHub};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Nicole's number as she calls, and as the hub shows it.
const NICOLE: &str = "030123456";
const NICOLE_PRETTY: &str = "+49 30 123456";

/// A fake Zammad with the customer Nicole Braun (user 2) and the agent Anna (user 5, whose
/// e-mail address is the hub agent's login), and a token that may act for other users.
async fn zammad() -> FakeZammad {
    let fake = FakeZammad::start(true).await;
    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun", "phone": "+49 (0)30 123-456",
               "email": "nicole.braun@zammad.org"}),
    );
    fake.put_user(
        5,
        json!({"firstname": "Anna", "lastname": "Agent", "email": "anna@example.com",
               "role_ids": [2]}),
    );
    fake.data.lock().unwrap().permissions = vec!["ticket.agent", "admin.user"];
    fake
}

/// `[zammad]` pointing at `fake`, logging `log_calls` with the window `window_hours`.
fn logging(fake: &FakeZammad, log_calls: &str, window_hours: u64) -> String {
    format!(
        "{}ticket_group = \"Users\"\nlog_calls = \"{log_calls}\"\nticket_window_hours = {window_hours}\n",
        fake.config()
    )
}

/// A hub logging calls to `fake`, with Zammad's customers synced once.
async fn hub_logging(fake: &FakeZammad, log_calls: &str, window_hours: u64) -> TestHub {
    let hub = TestHub::start(&logging(fake, log_calls, window_hours)).await;
    hub.running.hub.zammad.clone().unwrap().passes(1).await;
    hub
}

/// Waits (at most 10 s) until call `call_id`'s journal entry has a ticket; returns the entry.
async fn with_ticket(hub: &TestHub, call_id: &str) -> Value {
    for _ in 0..500 {
        let entry = hub.journal_entry(call_id).await;
        if !entry["ticket"].is_null() {
            return entry;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "call {call_id} never got its ticket: {}",
        hub.journal_entry(call_id).await
    );
}

async fn backlog(hub: &TestHub) -> Value {
    let (status, body) = hub
        .get("/api/v1/admin/zammad/relay", &hub.admin_token)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn hangup(hub: &TestHub, call_id: &str) {
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

#[tokio::test]
async fn a_missed_call_from_a_known_customer_becomes_one_ticket_even_when_the_pbx_repeats() {
    let fake = zammad().await;
    let hub = hub_logging(&fake, "missed", 0).await;
    hub.agent("bert", false, &[]).await;

    hub.missed_call("m1", NICOLE).await;
    // The PBX repeats its hangup, and the newCall.
    hangup(&hub, "m1").await;
    hangup(&hub, "m1").await;
    hub.ring_from("m1", NICOLE).await;

    let entry = with_ticket(&hub, "m1").await;
    let tickets = fake.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    let ticket = &tickets[0];
    let title = ticket["title"].as_str().unwrap();
    assert!(
        title.starts_with(&format!("Missed call from Nicole Braun ({NICOLE_PRETTY})")),
        "{title}"
    );
    assert_eq!(ticket["customer_id"], 2);
    assert_eq!(ticket["group_id"], 1, "the group Users");
    let articles = fake.articles_of(ticket["id"].as_u64().unwrap());
    assert_eq!(articles.len(), 1);
    let article = &articles[0];
    assert_eq!(article["type"], "phone");
    assert_eq!(article["sender"], "Customer");
    assert_eq!(article["internal"], true);
    let body = article["body"].as_str().unwrap();
    for part in [
        &format!("Caller: Nicole Braun ({NICOLE_PRETTY})")[..],
        "Time: ",
        " UTC",
        "Waiting time: ",
        "Rung: ",
        "Answered by: nobody (missed)",
    ] {
        assert!(body.contains(part), "{part:?} in {body}");
    }
    assert_eq!(entry["ticket"]["number"], ticket["number"]);
    assert_eq!(entry["ticket"]["id"], ticket["id"]);
    assert_eq!(
        entry["ticket"]["url"],
        format!("{}/#ticket/zoom/{}", fake.url, ticket["id"])
    );
    let body = backlog(&hub).await;
    assert_eq!(
        (body["pending"].clone(), body["failed"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(fake.tickets().len(), 1, "still one");
}

#[tokio::test]
async fn an_unknown_caller_gets_no_ticket() {
    let fake = zammad().await;
    let hub = hub_logging(&fake, "all", 0).await;
    hub.missed_call("stranger", "+4940999888").await;
    // Nicole's call after it: once hers is logged, the stranger's would have been too.
    hub.missed_call("nicole", NICOLE).await;
    with_ticket(&hub, "nicole").await;
    assert_eq!(fake.tickets().len(), 1);
    assert!(hub.journal_entry("stranger").await["ticket"].is_null());
    assert_eq!(backlog(&hub).await["pending"], 0);
}

#[tokio::test]
async fn an_answered_call_becomes_the_answering_agents_phone_article() {
    let fake = zammad().await;
    let hub = hub_logging(&fake, "all", 0).await;
    hub.agent("anna@example.com", false, &[]).await;
    hub.ring_from("a1", NICOLE).await;
    for (event, extra) in [
        ("answer", ("user", "anna@example.com")),
        ("hangup", ("cause", "normalClearing")),
    ] {
        let (status, body) = hub
            .cti(&[
                ("event", event),
                ("direction", "in"),
                ("callId", "a1"),
                extra,
            ])
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let entry = with_ticket(&hub, "a1").await;
    let tickets = fake.tickets();
    assert_eq!(tickets.len(), 1);
    assert!(tickets[0]["title"]
        .as_str()
        .unwrap()
        .starts_with("Call with Nicole Braun"));
    let article = &fake.articles_of(tickets[0]["id"].as_u64().unwrap())[0];
    assert_eq!(article["sender"], "Agent");
    assert_eq!(article["type"], "phone");
    assert_eq!(article["created_by_id"], 5, "written on behalf of Anna");
    let body = article["body"].as_str().unwrap();
    assert!(body.contains("Answered by: anna@example.com"), "{body}");
    assert!(body.contains("Talking time: "), "{body}");
    assert_eq!(entry["ticket"]["id"], tickets[0]["id"]);
}

#[tokio::test]
async fn without_admin_user_the_article_is_the_tokens_with_the_agents_name() {
    let fake = zammad().await;
    fake.data.lock().unwrap().permissions = vec!["ticket.agent"];
    let hub = hub_logging(&fake, "all", 0).await;
    let (status, body) = hub
        .send(
            "POST",
            "/api/v1/admin/agents",
            &hub.admin_token,
            json!({"login": "anna@example.com", "name": "Anna Agent", "admin": false, "numbers": []}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    hub.ring_from("t1", NICOLE).await;
    for (event, extra) in [
        ("answer", ("user", "anna@example.com")),
        ("hangup", ("cause", "normalClearing")),
    ] {
        let (status, body) = hub
            .cti(&[
                ("event", event),
                ("direction", "in"),
                ("callId", "t1"),
                extra,
            ])
            .await;
        assert_eq!(status, 200, "{body}");
    }
    with_ticket(&hub, "t1").await;
    let tickets = fake.tickets();
    assert_eq!(tickets.len(), 1);
    let article = &fake.articles_of(tickets[0]["id"].as_u64().unwrap())[0];
    assert_eq!(article["created_by_id"], 1, "the token's user");
    assert!(
        article["body"]
            .as_str()
            .unwrap()
            .contains("Answered by: Anna Agent"),
        "{article:?}"
    );
}

#[tokio::test]
async fn a_second_missed_call_within_the_window_goes_on_the_open_ticket() {
    let fake = zammad().await;
    let hub = hub_logging(&fake, "missed", 24).await;
    hub.missed_call("w1", NICOLE).await;
    let first = with_ticket(&hub, "w1").await;
    hub.missed_call("w2", NICOLE).await;
    let second = with_ticket(&hub, "w2").await;
    assert_eq!(first["ticket"], second["ticket"], "the same ticket");
    let tickets = fake.tickets();
    assert_eq!(tickets.len(), 1);
    let articles = fake.articles_of(tickets[0]["id"].as_u64().unwrap());
    assert_eq!(articles.len(), 2, "{articles:?}");
    assert_eq!(articles[1]["type"], "phone");
    assert_eq!(articles[1]["sender"], "Customer");
}

#[tokio::test]
async fn a_zammad_outage_is_retried_and_ends_in_exactly_one_ticket() {
    let fake = zammad().await;
    let (hub, clock) = TestHub::start_on_manual_clock(&logging(&fake, "missed", 0)).await;
    hub.running.hub.zammad.clone().unwrap().passes(1).await;
    {
        let mut data = fake.data.lock().unwrap();
        data.fail_only = Some("/api/v1/tickets");
        data.fail_next = vec![StatusCode::SERVICE_UNAVAILABLE; 2];
    }
    hub.missed_call("down", NICOLE).await;
    for _ in 0..500 {
        if backlog(&hub).await["last_error"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let body = backlog(&hub).await;
    assert_eq!(body["pending"], 1, "{body}");
    assert!(
        body["last_error"].as_str().unwrap().contains("503"),
        "{body}"
    );
    assert!(fake.tickets().is_empty());
    let mut entry = hub.journal_entry("down").await;
    for _ in 0..200 {
        clock.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(20)).await;
        entry = hub.journal_entry("down").await;
        if !entry["ticket"].is_null() {
            break;
        }
    }
    assert!(!entry["ticket"].is_null(), "{entry}");
    assert_eq!(fake.tickets().len(), 1);
}

#[tokio::test]
async fn one_click_makes_the_ticket_and_answers_with_it_once_also_for_an_unknown_caller() {
    let fake = zammad().await;
    let hub = hub_logging(&fake, "off", 24).await;
    let token = hub.agent("bert", false, &[]).await;
    hub.missed_call("c1", NICOLE).await;
    hub.missed_call("c2", "+4940999888").await;
    let id = hub.journal_entry("c1").await["id"].as_i64().unwrap();
    let unknown = hub.journal_entry("c2").await["id"].as_i64().unwrap();
    assert!(fake.tickets().is_empty(), "log_calls is off");
    let mut stream = hub.stream(&token, None).await;
    stream.next().await; // the snapshot

    let path = format!("/api/v1/calls/{id}/ticket");
    let (status, ticket) = hub.send("POST", &path, &token, json!(null)).await;
    assert_eq!(status, 200, "{ticket}");
    let made = fake.tickets();
    assert_eq!(made.len(), 1);
    assert_eq!(ticket["id"], made[0]["id"]);
    assert_eq!(ticket["number"], made[0]["number"]);
    assert_eq!(
        ticket["url"],
        format!("{}/#ticket/zoom/{}", fake.url, made[0]["id"])
    );
    assert!(made[0]["title"]
        .as_str()
        .unwrap()
        .starts_with("Missed call from Nicole Braun"));

    let published = loop {
        let message = stream.next().await;
        if let Some(call) = call_of(&message).filter(|c| c.id == id && c.ticket.is_some()) {
            break call.ticket.clone().unwrap();
        }
    };
    assert_eq!(published.number, ticket["number"].as_str().unwrap());
    assert_eq!(hub.journal_entry("c1").await["ticket"], ticket);

    let (status, again) = hub.send("POST", &path, &token, json!(null)).await;
    assert_eq!((status, &again), (200, &ticket), "the same ticket");
    assert_eq!(fake.tickets().len(), 1, "no second ticket");

    // An unknown caller becomes a customer with their number, and the ticket is theirs.
    let (status, body) = hub
        .send(
            "POST",
            &format!("/api/v1/calls/{unknown}/ticket"),
            &token,
            json!(null),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let created = fake.data.lock().unwrap().created.clone();
    assert_eq!(created.len(), 1, "one customer created: {created:?}");
    assert_eq!(created[0]["phone"], "+4940999888");
    let made = fake.tickets();
    assert_eq!(made.len(), 2);
    let new_customer = fake
        .data
        .lock()
        .unwrap()
        .users
        .iter()
        .find(|u| u["phone"] == "+4940999888")
        .cloned()
        .expect("the new customer is listed");
    assert_eq!(made[1]["customer_id"], new_customer["id"]);
    assert_eq!(body["number"], made[1]["number"]);

    // A hidden number cannot become a customer.
    hub.missed_call("c3", "anonymous").await;
    let hidden = hub.journal_entry("c3").await["id"].as_i64().unwrap();
    let (status, body) = hub
        .send(
            "POST",
            &format!("/api/v1/calls/{hidden}/ticket"),
            &token,
            json!(null),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "unknown_caller");
    let (status, body) = hub
        .send("POST", "/api/v1/calls/999999/ticket", &token, json!(null))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(fake.tickets().len(), 2);
    assert_eq!(fake.data.lock().unwrap().created.len(), 1);
}

#[tokio::test]
async fn one_click_says_when_zammad_is_down_or_tickets_are_off() {
    let fake = zammad().await;
    let hub = hub_logging(&fake, "off", 0).await;
    hub.missed_call("d1", NICOLE).await;
    let id = hub.journal_entry("d1").await["id"].as_i64().unwrap();
    {
        let mut data = fake.data.lock().unwrap();
        data.fail_only = Some("/api/v1/tickets");
        data.fail_next = vec![StatusCode::BAD_GATEWAY];
    }
    let path = format!("/api/v1/calls/{id}/ticket");
    let (status, body) = hub.send("POST", &path, &hub.admin_token, json!(null)).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "zammad_unreachable");
    assert!(fake.tickets().is_empty());
    // Clicked again: tried at once, and made.
    let (status, body) = hub.send("POST", &path, &hub.admin_token, json!(null)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.tickets().len(), 1);

    let off = TestHub::start(&fake.config()).await;
    off.missed_call("o1", NICOLE).await;
    let id = off.journal_entry("o1").await["id"].as_i64().unwrap();
    let (status, body) = off
        .send(
            "POST",
            &format!("/api/v1/calls/{id}/ticket"),
            &off.admin_token,
            json!(null),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "zammad_not_configured");
}

/// The hub is killed while Zammad has made the ticket but not answered; the hub started
/// again finds the ticket by its marker instead of making a second one.
#[tokio::test]
async fn a_hub_killed_between_the_post_and_the_answer_still_makes_one_ticket() {
    let fake = zammad().await;
    fake.data.lock().unwrap().swallow_answers = true;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("ringside.toml");
    let text = common::config_text(
        &dir.path().join("data"),
        &format!("{}\n{}", common::GENERIC_ON, logging(&fake, "missed", 0)),
    )
    .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&config, text).unwrap();
    let added = hub_command(&config)
        .args(["agent", "add", "watcher", "--name", "Watcher"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let token = String::from_utf8(added.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let client = reqwest::Client::new();
    let journal = || async {
        let page = get_json(&format!("{base}/api/v1/journal?limit=10"), &token).await;
        page["entries"][0].clone()
    };

    let mut hub = serve(&config, &base).await;
    // Waits until the first sync pass has made Nicole known: a call missed while its
    // caller is unknown gets no ticket.
    for n in 0.. {
        let known = get_json(&format!("{base}/api/v1/callers/{NICOLE}"), &token).await;
        if !known["match"].is_null() {
            break;
        }
        assert!(n < 200, "the sync never made Nicole known");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cti = format!("{base}/api/v1/cti/{}", common::TOKEN);
    for event in ["newCall", "hangup"] {
        let response = client
            .post(&cti)
            .form(&[
                ("event", event),
                ("direction", "in"),
                ("callId", "k1"),
                ("from", NICOLE),
                ("to", "4930600000000"),
                ("cause", "cancel"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    for _ in 0..500 {
        if !fake.tickets().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        fake.tickets().len(),
        1,
        "Zammad made it, the answer is held"
    );
    hub.kill().unwrap();
    hub.wait().unwrap();

    fake.data.lock().unwrap().swallow_answers = false;
    let asked_before = fake.requests().len();
    let mut hub = serve(&config, &base).await;
    let mut entry = journal().await;
    for _ in 0..500 {
        if !entry["ticket"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        entry = journal().await;
    }
    hub.kill().unwrap();
    hub.wait().unwrap();
    let tickets = fake.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(entry["ticket"]["id"], tickets[0]["id"], "{entry}");
    assert_eq!(entry["call_id"], "k1");
    let looked = fake.requests()[asked_before..]
        .iter()
        .any(|r| r.uri == "/api/v1/ticket_customer?customer_id=2");
    assert!(looked, "found again through the customer's tickets");
}
