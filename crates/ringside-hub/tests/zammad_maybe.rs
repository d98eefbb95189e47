//! `maybe` numbers from Zammad tickets end to end (Zammad's caller ID, reference §1.5): the
//! first article of a recent ticket, when the customer wrote it, gives its numbers as
//! `maybe` numbers of that customer; a `known` number hides them; a ticket that leaves the
//! window or is deleted takes them along; each ticket's articles are read once, and at most
//! a bounded number of them per pass.

mod common;

use std::path::Path;
use std::time::Duration;

use common::fake_zammad::FakeZammad;
use common::{contact_names, TestHub};
use ringside_core::number::DefaultCountry;
use ringside_hub::config::Config;
use ringside_hub::zammad::check;
use ringside_hub::zammad::client::{Retry, ZammadClient};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

/// The number of article lists a pass reads at most (the hub's documented bound).
const PER_PASS: usize = 500;

async fn ring(hub: &TestHub, call_id: &str, from: &str) -> Value {
    hub.ring_from(call_id, from).await;
    hub.journal_entry(call_id).await
}

/// Nicole (known +49 30 123456) and Otto, a customer without numbers of his own.
async fn zammad(elasticsearch: bool) -> FakeZammad {
    let fake = FakeZammad::start(elasticsearch).await;
    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun", "phone": "+49 (0)30 123-456"}),
    );
    fake.put_user(3, json!({"firstname": "Otto", "lastname": "Other"}));
    fake.put_user(9, json!({"firstname": "Agnes", "lastname": "Agent"}));
    fake
}

fn config(fake: &FakeZammad) -> String {
    format!("{}maybe_numbers_from_tickets = true\n", fake.config())
}

async fn full_pass(hub: &TestHub, sync: &ringside_hub::zammad::task::ZammadSync) {
    let before = sync.progress().passes;
    let (status, body) = hub
        .send(
            "POST",
            "/api/v1/admin/zammad/sync",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    sync.passes(before + 1).await;
}

#[tokio::test]
async fn a_customers_first_article_gives_maybe_numbers_that_a_known_number_hides() {
    let fake = zammad(true).await;
    // Otto's e-mail with his signature.
    fake.put_ticket(1, 3, "Printer jams", 2);
    fake.add_article(1, "Customer", 3, "It jams.\n\nOtto Other\nTel. 089 7777777");
    // An agent opened this one (a call noted by Agnes): its numbers are not Otto's.
    fake.put_ticket(2, 3, "Call back", 2);
    fake.add_article(
        2,
        "Agent",
        9,
        "Call back on 089 8888888, our hotline 089 1111111",
    );
    fake.add_article(2, "Customer", 3, "Thanks, 089 8888888 is right");
    // Otto quotes Nicole's number, which is hers (known).
    fake.put_ticket(3, 3, "Colleague", 2);
    fake.add_article(3, "Customer", 3, "Ask Nicole on +49 30 123456");
    let (hub, clock) = TestHub::start_on_manual_clock(&config(&fake)).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;

    let call = ring(&hub, "m1", "0897777777").await;
    assert_eq!(call["caller"]["level"], "maybe", "{call}");
    assert_eq!(contact_names(&call), ["Otto Other"]);
    assert_eq!(call["caller"]["contacts"][0]["source"], "zammad");

    let call = ring(&hub, "m2", "0898888888").await;
    assert_eq!(
        call["caller"],
        Value::Null,
        "an agent-written first article: {call}"
    );

    let call = ring(&hub, "m3", "030123456").await;
    assert_eq!(call["caller"]["level"], "known", "{call}");
    assert_eq!(
        contact_names(&call),
        ["Nicole Braun"],
        "the known number hides Otto"
    );

    // Articles are read once per ticket: not again by an incremental pass, nor by a full one.
    clock.advance(Duration::from_secs(60));
    sync.passes(2).await;
    full_pass(&hub, &sync).await;
    let mut read = fake.article_requests();
    read.sort_unstable();
    assert_eq!(read, [1, 2, 3]);
    let (_, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    assert_eq!(state["last_error"], Value::Null, "{state}");

    // A ticket created since is found by the incremental pass.
    fake.put_ticket(4, 3, "Another", 2);
    fake.add_article(4, "Customer", 3, "Mobile 0171 4444444");
    let next = sync.progress().passes + 1;
    clock.advance(Duration::from_secs(60));
    sync.passes(next).await;
    let call = ring(&hub, "m4", "01714444444").await;
    assert_eq!(contact_names(&call), ["Otto Other"], "{call}");
    assert_eq!(call["caller"]["level"], "maybe");
}

#[tokio::test]
async fn a_ticket_out_of_the_window_or_deleted_loses_its_maybe_numbers() {
    let fake = zammad(true).await;
    fake.put_ticket(1, 3, "Old", 2);
    fake.add_article(1, "Customer", 3, "Tel. 089 7777777");
    fake.put_ticket(2, 3, "Deleted", 2);
    fake.add_article(2, "Customer", 3, "Tel. 089 6666666");
    let (hub, _clock) = TestHub::start_on_manual_clock(&config(&fake)).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;
    assert_eq!(
        contact_names(&ring(&hub, "w1", "0897777777").await),
        ["Otto Other"]
    );
    assert_eq!(
        contact_names(&ring(&hub, "w2", "0896666666").await),
        ["Otto Other"]
    );

    // maybe_ticket_days is 30 by default.
    let old = (time::OffsetDateTime::now_utc() - time::Duration::days(31))
        .format(&Rfc3339)
        .unwrap();
    fake.set_ticket_created(1, &old);
    fake.remove_ticket(2);
    full_pass(&hub, &sync).await;
    assert_eq!(ring(&hub, "w3", "0897777777").await["caller"], Value::Null);
    assert_eq!(ring(&hub, "w4", "0896666666").await["caller"], Value::Null);
}

#[tokio::test]
async fn a_pass_reads_a_bounded_number_of_article_lists_and_the_next_the_rest() {
    let fake = zammad(true).await;
    let tickets = PER_PASS as u64 + 20;
    for id in 1..=tickets {
        fake.put_ticket(id, 3, "Many", 2);
        fake.add_article(id, "Customer", 3, &format!("Tel. 089 {}", 1_000_000 + id));
    }
    let (hub, _clock) = TestHub::start_on_manual_clock(&config(&fake)).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;
    assert_eq!(fake.article_requests().len(), PER_PASS);
    full_pass(&hub, &sync).await;
    let mut read = fake.article_requests();
    assert_eq!(read.len(), tickets as usize, "the rest, each once");
    read.sort_unstable();
    read.dedup();
    assert_eq!(read.len(), tickets as usize);
    for id in [1, tickets] {
        let call = ring(&hub, &format!("b{id}"), &format!("089{}", 1_000_000 + id)).await;
        assert_eq!(contact_names(&call), ["Otto Other"], "ticket {id}: {call}");
    }
}

#[tokio::test]
async fn without_elasticsearch_no_articles_are_read_and_the_state_says_why() {
    let fake = zammad(false).await;
    fake.put_ticket(1, 3, "Printer", 2);
    fake.add_article(1, "Customer", 3, "Tel. 089 7777777");
    let (hub, _clock) = TestHub::start_on_manual_clock(&config(&fake)).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;
    let (_, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    assert_eq!(state["users"], 3, "the users are synced: {state}");
    let note = state["last_error"].as_str().unwrap_or_default();
    assert!(note.contains("need Elasticsearch"), "{state}");
    assert_eq!(
        state["last_error_at"],
        Value::Null,
        "the pass itself succeeded"
    );
    assert!(fake.article_requests().is_empty());
    assert_eq!(ring(&hub, "e1", "0897777777").await["caller"], Value::Null);
}

#[tokio::test]
async fn a_ticket_whose_articles_are_refused_does_not_stop_the_pass_and_is_read_later() {
    let fake = zammad(true).await;
    fake.put_ticket(1, 3, "One", 2);
    fake.add_article(1, "Customer", 3, "Tel. 089 7777777");
    fake.put_ticket(2, 3, "Two", 2);
    fake.add_article(2, "Customer", 3, "Tel. 089 6666666");
    fake.data.lock().unwrap().refused_articles = vec![1];
    let (hub, _clock) = TestHub::start_on_manual_clock(&config(&fake)).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;
    let (_, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    let note = state["last_error"].as_str().unwrap_or_default();
    assert!(note.contains("1 ticket(s)"), "{state}");
    assert!(note.contains("403"), "{state}");
    assert_eq!(
        state["last_error_at"],
        Value::Null,
        "the pass itself succeeded"
    );
    assert_eq!(
        contact_names(&ring(&hub, "r1", "0896666666").await),
        ["Otto Other"]
    );
    assert_eq!(ring(&hub, "r2", "0897777777").await["caller"], Value::Null);

    fake.data.lock().unwrap().refused_articles.clear();
    full_pass(&hub, &sync).await;
    assert_eq!(
        contact_names(&ring(&hub, "r3", "0897777777").await),
        ["Otto Other"]
    );
    let (_, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    assert_eq!(state["last_error"], Value::Null, "{state}");
    let mut read = fake.article_requests();
    read.sort_unstable();
    assert_eq!(read, [1, 1, 2], "the refused ticket again, the other not");
}

fn client(fake: &FakeZammad) -> ZammadClient {
    let settings = Config::from_toml(&config(fake), Path::new("t.toml"), std::iter::empty())
        .unwrap()
        .config
        .zammad;
    assert!(settings.maybe_numbers_from_tickets);
    ZammadClient::new(&settings, Retry::default()).unwrap()
}

#[tokio::test]
async fn the_check_says_whether_maybe_numbers_can_be_read() {
    let de = DefaultCountry::from_iso("DE").unwrap();
    let fake = zammad(true).await;
    fake.put_ticket(1, 3, "Printer", 2);
    fake.add_article(1, "Customer", 3, "Tel. 089 7777777");
    let client = client(&fake);
    let mut report = check::run(&client, &de).await.unwrap();
    check::maybe_numbers(&client, 30, &mut report)
        .await
        .unwrap();
    assert!(report.missing.is_empty(), "{report}");
    assert!(report.to_string().contains("ok: maybe numbers"), "{report}");
    assert_eq!(fake.article_requests(), [1]);

    // A token with admin.user only lists users, but reads no tickets.
    fake.data.lock().unwrap().permissions = vec!["admin.user"];
    let mut report = check::run(&client, &de).await.unwrap();
    check::maybe_numbers(&client, 30, &mut report)
        .await
        .unwrap();
    let text = report.to_string();
    assert!(
        text.contains(
            "missing: maybe numbers from tickets: Zammad refused GET /api/v1/tickets/search"
        ) && text.contains("ticket.agent"),
        "{text}"
    );

    let fake = zammad(false).await;
    let client = self::client(&fake);
    let mut report = check::run(&client, &de).await.unwrap();
    check::maybe_numbers(&client, 30, &mut report)
        .await
        .unwrap();
    assert!(report.can_sync(), "users still sync");
    assert!(
        report
            .to_string()
            .contains("missing: maybe numbers from tickets need Elasticsearch"),
        "{report}"
    );
}
