//! Callers who become known after their call: a Zammad sync pass or an import gives the
//! journal's calls of the last 30 days the directory's current match, and the stream
//! carries each changed call; older calls and calls that already had the match are left
//! alone.

mod common;

use std::process::Command;
use std::time::Duration;

use common::fake_zammad::FakeZammad;
use common::{call_of, contact_names, Stream, TestHub};
use ringside_core::call::Call;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_ringside-hub");

/// The call events of the stream up to and including the first for `call_id`.
async fn calls_until(stream: &mut Stream, call_id: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    loop {
        let message = stream.next().await;
        if let Some(call) = call_of(&message) {
            calls.push(call.clone());
            if call.call_id == call_id {
                return calls;
            }
        }
    }
}

async fn demand_full_pass(hub: &TestHub) {
    let (status, _) = hub
        .send(
            "POST",
            "/api/v1/admin/zammad/sync",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn a_customer_synced_after_the_call_is_matched_to_the_last_30_days_calls() {
    let fake = FakeZammad::start(true).await;
    fake.put_user(3, json!({"firstname": "Otto", "mobile": "0171 5550003"}));
    let (hub, clock) = TestHub::start_on_manual_clock(&fake.config()).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;

    hub.missed_call("old", "030123456").await;
    clock.advance(Duration::from_secs(31 * 24 * 3600));
    sync.passes(2).await;
    hub.missed_call("recent", "030123456").await;
    assert_eq!(hub.journal_entry("recent").await["caller"], Value::Null);

    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await; // the snapshot
    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun", "phone": "+49 (0)30 123-456"}),
    );
    demand_full_pass(&hub).await;
    sync.passes(3).await;

    let recent = hub.journal_entry("recent").await;
    assert_eq!(contact_names(&recent), ["Nicole Braun"]);
    assert_eq!(recent["caller"]["level"], "known");
    assert_eq!(recent["from_comment"], "Nicole Braun");
    let old = hub.journal_entry("old").await;
    assert_eq!(old["caller"], Value::Null, "older than 30 days: left alone");
    assert_eq!(old["from_comment"], Value::Null);

    let streamed = calls_until(&mut stream, "recent").await;
    let updated = streamed.last().unwrap();
    let caller = updated
        .caller
        .as_ref()
        .expect("the stream carries the match");
    assert_eq!(caller.contacts[0].name, "Nicole Braun");
    assert!(
        streamed.iter().all(|call| call.call_id != "old"),
        "{streamed:?}"
    );

    // Another pass finds the same match: no event. A later call's event comes next.
    demand_full_pass(&hub).await;
    sync.passes(4).await;
    hub.missed_call("probe", "01715550003").await;
    let streamed = calls_until(&mut stream, "probe").await;
    assert!(
        streamed.iter().all(|call| call.call_id == "probe"),
        "an unchanged match sends nothing: {streamed:?}"
    );
}

const CONTACT: &str = "BEGIN:VCARD\r
VERSION:3.0\r
FN:Carla Customer\r
ORG:Acme GmbH\r
TEL;TYPE=work:+49 30 609854180\r
END:VCARD\r
";

#[tokio::test]
async fn an_imported_contact_is_matched_to_recent_calls_and_streamed() {
    let hub = TestHub::start("").await;
    hub.missed_call("before-import", "030 609854180").await;
    assert_eq!(
        hub.journal_entry("before-import").await["caller"],
        Value::Null
    );
    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await; // the snapshot

    let config = hub.dir.path().join("ringside.toml");
    std::fs::write(
        &config,
        common::config_text(&hub.dir.path().join("data"), ""),
    )
    .unwrap();
    let contacts = hub.dir.path().join("contacts.vcf");
    std::fs::write(&contacts, CONTACT).unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .args(["import", "contacts"])
        .arg(&contacts)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 recent calls now show"),
        "{out:?}"
    );

    let matched = hub.journal_entry("before-import").await;
    assert_eq!(contact_names(&matched), ["Carla Customer"]);
    assert_eq!(matched["from_comment"], "Carla Customer");

    // The hub publishes what the command line wrote before its own next event.
    hub.missed_call("after-import", "01715550003").await;
    let streamed = calls_until(&mut stream, "after-import").await;
    let updated = streamed
        .iter()
        .find(|call| call.call_id == "before-import")
        .expect("the stream carries the matched call");
    assert_eq!(
        updated.caller.as_ref().unwrap().contacts[0].name,
        "Carla Customer"
    );
}
