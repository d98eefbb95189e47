//! Callers synced from Zammad end to end: the hub syncs from the fake Zammad at start, a
//! ringing call's candidates are the synced customer, and a change in Zammad shows after
//! the next pass, which the test brings about by moving the hub's manual clock.

mod common;

use std::time::Duration;

use common::fake_zammad::FakeZammad;
use common::{contact_names, TestHub};
use serde_json::{json, Value};

/// Rings call `call_id` from `from` and returns its journal entry.
async fn ring(hub: &TestHub, call_id: &str, from: &str) -> Value {
    hub.ring_from(call_id, from).await;
    hub.journal_entry(call_id).await
}

async fn zammad_with_nicole(elasticsearch: bool) -> FakeZammad {
    let fake = FakeZammad::start(elasticsearch).await;
    fake.put_organization(1, "Zammad Foundation", "");
    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun", "organization_id": 1,
               "phone": "+49 (0)30 123-456", "email": "nicole.braun@zammad.org"}),
    );
    fake.put_user(
        3,
        json!({"firstname": "Otto", "lastname": "Other", "mobile": "0171 5550003"}),
    );
    fake
}

#[tokio::test]
async fn a_synced_customer_is_the_callers_candidate_and_changes_show_after_the_next_pass() {
    let fake = zammad_with_nicole(true).await;
    let (hub, clock) = TestHub::start_on_manual_clock(&fake.config()).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;

    let (status, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["enabled"], true);
    assert_eq!(state["mode"], "incremental", "{state}");
    assert_eq!(state["users"], 2);
    assert_eq!(state["organizations"], 1);
    assert_eq!(state["numbers"], 2);
    assert_eq!(state["last_error"], Value::Null);

    let call = ring(&hub, "z1", "030123456").await;
    assert_eq!(contact_names(&call), ["Nicole Braun"]);
    let nicole = &call["caller"]["contacts"][0];
    assert_eq!(nicole["organization"], "Zammad Foundation");
    assert_eq!(nicole["source"], "zammad");
    assert_eq!(
        nicole["profile_url"],
        format!("{}/#user/profile/2", fake.url)
    );

    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun-Weiss", "organization_id": 1,
               "phone": "+49 (0)30 123-456"}),
    );
    clock.advance(Duration::from_secs(60));
    sync.passes(2).await;
    let call = ring(&hub, "z2", "+4930123456").await;
    assert_eq!(
        contact_names(&call),
        ["Nicole Braun-Weiss"],
        "the incremental pass"
    );
    let searched = fake.requests().into_iter().any(|r| {
        r.uri
            .starts_with("/api/v1/users/search?query=updated_at%3A%3Enow-")
    });
    assert!(searched, "{:?}", fake.requests());
}

#[tokio::test]
async fn without_elasticsearch_full_passes_notice_changes_and_deletions() {
    let fake = zammad_with_nicole(false).await;
    let (hub, clock) = TestHub::start_on_manual_clock(&fake.config()).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;
    let (_, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    assert_eq!(state["mode"], "full_passes");
    assert_eq!(
        contact_names(&ring(&hub, "f1", "01715550003").await),
        ["Otto Other"]
    );

    fake.remove_user(3);
    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun", "mobile": "01715550003"}),
    );
    clock.advance(Duration::from_secs(60));
    tokio::task::yield_now().await;
    assert_eq!(sync.progress().passes, 1, "no pass before full_sync_secs");
    clock.advance(Duration::from_secs(900));
    sync.passes(2).await;
    assert_eq!(
        contact_names(&ring(&hub, "f2", "01715550003").await),
        ["Nicole Braun"],
        "Otto is gone, Nicole has his number now"
    );
    let (_, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    assert_eq!(state["users"], 1);
    let searched = fake
        .requests()
        .into_iter()
        .any(|r| r.uri.contains("updated_at"));
    assert!(!searched, "no incremental search without Elasticsearch");
}

#[tokio::test]
async fn a_full_pass_on_demand_records_errors_and_a_failed_one_is_tried_again() {
    let fake = zammad_with_nicole(true).await;
    let (hub, clock) = TestHub::start_on_manual_clock(&fake.config()).await;
    let sync = hub.running.hub.zammad.clone().expect("the sync runs");
    sync.passes(1).await;

    fake.data.lock().unwrap().permissions = vec![];
    let (status, _) = hub
        .send(
            "POST",
            "/api/v1/admin/zammad/sync",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 202);
    sync.passes(2).await;
    let (_, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    let error = state["last_error"].as_str().unwrap();
    assert!(error.contains("ticket.agent or admin.user"), "{error}");
    assert_eq!(state["users"], 2, "the directory keeps what it had");
    assert_eq!(
        contact_names(&ring(&hub, "d1", "030123456").await),
        ["Nicole Braun"]
    );

    fake.data.lock().unwrap().permissions = vec!["ticket.agent"];
    fake.put_user(4, json!({"firstname": "Neu", "phone": "089 4444444"}));
    clock.advance(Duration::from_secs(60));
    let progress = sync.passes(3).await;
    assert_eq!(
        progress.full_passes, 3,
        "a failed full pass is tried again soon"
    );
    let (_, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    assert_eq!(state["last_error"], Value::Null);
    assert_eq!(state["users"], 3);
}

#[tokio::test]
async fn without_zammad_the_state_says_so_and_a_sync_is_refused() {
    let hub = TestHub::start("").await;
    let (status, state) = hub.get("/api/v1/admin/zammad", &hub.admin_token).await;
    assert_eq!(status, 200);
    assert_eq!(state["enabled"], false);
    assert_eq!(state["mode"], Value::Null);
    let (status, error) = hub
        .send(
            "POST",
            "/api/v1/admin/zammad/sync",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "{error}");
    let agent = hub.agent("anna", false, &[]).await;
    let (status, _) = hub.get("/api/v1/admin/zammad", &agent).await;
    assert_eq!(status, 403);
}

/// Runs `ringside-hub zammad sync` with `args`, off the async threads that serve the fakes.
async fn sync_command(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    let config = config.to_owned();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        common::process::hub_command(&config)
            .args(["zammad", "sync"])
            .args(&args)
            .env_remove("RINGSIDE_ADMIN_TOKEN")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_sync_command_asks_the_running_hub_or_syncs_the_store_itself() {
    let fake = zammad_with_nicole(false).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    let port = common::process::free_port();
    let text = common::config_text(
        &dir.path().join("data"),
        &format!(
            "listen = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n{}",
            fake.config()
        ),
    );
    std::fs::write(&config, &text).unwrap();

    let out = sync_command(&config, &[]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("no hub runs"), "{stdout}");
    assert!(
        stdout.contains("synced 2 users and 1 organizations"),
        "{stdout}"
    );

    let hub = TestHub::start_in(dir, &format!("{}\n{}", fake.config(), common::GENERIC_ON)).await;
    let (_, found) = hub
        .get("/api/v1/callers/+4930123456", &hub.admin_token)
        .await;
    assert_eq!(found["match"]["contacts"][0]["name"], "Nicole Braun");
    let sync = hub.running.hub.zammad.clone().unwrap();
    sync.passes(1).await;

    fake.put_user(5, json!({"firstname": "Fünf", "phone": "040 5555555"}));
    let url = hub.running.url();
    let out = sync_command(&config, &["--url", &url]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("give an admin's token"),
        "{out:?}"
    );
    let out = sync_command(&config, &["--url", &url, "--token", &hub.admin_token]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("synced 3 users and 1 organizations"),
        "{stdout}"
    );
}
