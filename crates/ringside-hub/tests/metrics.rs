//! `GET /metrics` against the real hub: who may read it, and that its figures are what
//! happened (webhooks by outcome, open streams, the event log and what this hub published
//! of it, the outbox, the store's timings).

mod common;

use std::collections::HashMap;

use common::{TestHub, METRICS_TOKEN};
use ringside_core::stream::{EventBody, ServerMessage};
use ringside_hub::recorder::Recorder;
use ringside_hub::store::Store;

/// The samples of an OpenMetrics text: each sample's name with its labels, and its value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').expect("a sample has a value");
            (name.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(hub: &TestHub, token: Option<&str>) -> reqwest::Response {
    let request = hub.http.get(hub.url("/metrics"));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

async fn metrics(hub: &TestHub) -> HashMap<String, f64> {
    let response = scrape(hub, Some(METRICS_TOKEN)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    samples(&text)
}

#[tokio::test]
async fn only_the_scrape_token_and_admins_read_the_metrics() {
    let hub = TestHub::start(&format!("[metrics]\ntoken = \"{METRICS_TOKEN}\"\n")).await;
    let agent = hub.agent("anna", false, &[]).await;

    let none = scrape(&hub, None).await;
    assert_eq!(none.status(), 401);
    let body: serde_json::Value = none.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");
    assert!(body["error"].as_str().unwrap().contains("[metrics] token"));
    assert_eq!(scrape(&hub, Some("not-the-token")).await.status(), 401);
    assert_eq!(scrape(&hub, Some(&agent)).await.status(), 403);
    assert_eq!(scrape(&hub, Some(&hub.admin_token)).await.status(), 200);
    assert_eq!(scrape(&hub, Some(METRICS_TOKEN)).await.status(), 200);
}

#[tokio::test]
async fn the_metrics_count_what_happened() {
    // On a clock of the test's: no janitor pass writes (and so publishes) in between.
    let (hub, _clock) = TestHub::start_on_manual_clock(&format!(
        "store = \"sqlite\"\n[metrics]\ntoken = \"{METRICS_TOKEN}\"\n"
    ))
    .await;
    let agent = hub.agent("anna", false, &[]).await;
    let mut stream = hub.stream(&agent, None).await;
    let ServerMessage::Snapshot(_) = stream.next().await else {
        panic!("a new client starts with a snapshot");
    };

    let ring = [
        ("event", "newCall"),
        ("direction", "in"),
        ("callId", "m1"),
        ("from", "4930609854180"),
        ("to", "4930600000000"),
    ];
    assert_eq!(hub.cti(&ring).await.0, 200);
    // A new call without numbers: Zammad's endpoint answers 422.
    assert_eq!(hub.cti(&[("event", "newCall")]).await.0, 422);
    let wrong_token = hub
        .http
        .post(hub.url("/api/v1/cti/not-the-webhook-token-000000"))
        .form(&ring)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), 401);
    let ServerMessage::Event(ringing) = stream.next().await else {
        panic!("the call's event");
    };
    let EventBody::Call { call } = &ringing.body else {
        panic!("the call's event, not {ringing:?}");
    };
    assert_eq!(call.call_id, "m1");

    let seen = metrics(&hub).await;
    let webhooks = |outcome: &str| {
        seen.get(&format!(
            "ringside_webhooks_total{{provider=\"generic\",outcome=\"{outcome}\"}}"
        ))
        .copied()
    };
    assert_eq!(webhooks("accepted"), Some(1.0));
    assert_eq!(webhooks("invalid"), Some(1.0));
    assert_eq!(webhooks("refused"), Some(1.0));
    assert_eq!(webhooks("failed"), Some(0.0), "nothing failed");
    assert_eq!(
        seen[r#"ringside_webhook_duration_seconds_count{provider="generic"}"#],
        3.0
    );
    assert_eq!(seen["ringside_stream_connections"], 1.0);
    assert_eq!(seen["ringside_event_log_seq"], ringing.seq as f64);
    assert_eq!(seen["ringside_published_seq"], ringing.seq as f64);
    assert_eq!(seen["ringside_event_lag"], 0.0);
    assert_eq!(seen["ringside_outbox_pending"], 0.0);
    assert!(seen["ringside_store_commit_duration_seconds_count"] >= 1.0);
    let reads = seen["ringside_store_read_duration_seconds_count"];
    let again = metrics(&hub).await;
    assert!(
        again["ringside_store_read_duration_seconds_count"] >= reads + 2.0,
        "the scrape's own reads of the log and the outbox are timed"
    );
    assert_eq!(
        seen[&format!(
            "ringside_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )],
        1.0
    );
    assert!(
        !seen.keys().any(|name| name.contains("certificate")),
        "a hub without [tls] has no certificate to report"
    );

    // Another process writes an event (as `ringside-hub agent add` does): it is in the log,
    // and this hub has not sent it yet, until its writer's next batch.
    let (store, conn) = Store::open(&hub.dir.path().join("data")).unwrap();
    let other = Recorder::new(store, conn);
    let bert = ringside_hub::state::new_agent(
        "bert",
        "Bert",
        false,
        vec![],
        Default::default(),
        &hub.running.hub.settings.country,
    )
    .unwrap();
    other
        .add_agent(&bert, "hash", hub.running.hub.clock.now())
        .await
        .unwrap()
        .expect("a new login");
    let behind = metrics(&hub).await;
    assert_eq!(behind["ringside_event_log_seq"], ringing.seq as f64 + 1.0);
    assert_eq!(behind["ringside_event_lag"], 1.0);

    // A readiness probe commits through the writer, which first sends its streams what the
    // log holds: the other writer's event reaches the stream without a webhook.
    let ready = hub.http.get(hub.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ServerMessage::Event(added) = stream.next().await else {
        panic!("the other writer's event");
    };
    assert_eq!(added.seq, ringing.seq + 1);
    let caught_up = metrics(&hub).await;
    assert_eq!(caught_up["ringside_event_lag"], 0.0);
    assert_eq!(caught_up["ringside_published_seq"], added.seq as f64);
}
