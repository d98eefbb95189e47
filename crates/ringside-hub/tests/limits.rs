//! What one client may hold of the hub (`[limits]`): a full writer queue answers 503.

mod common;

use std::time::Duration;

use common::{TestHub, TOKEN};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;

fn new_call(call_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("event", "newCall".into()),
        ("direction", "in".into()),
        ("callId", call_id.into()),
        ("from", "4930609854180".into()),
        ("to", "4930600000000".into()),
    ]
}

/// POSTs a newCall on a connection of its own; returns status and body.
async fn post_new_call(url: &str, call_id: &str) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let response = client
        .post(url)
        .form(&new_call(call_id))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_full_writer_queue_answers_503_with_the_reason_and_loses_nothing_answered() {
    let hub = TestHub::start("[limits]\nwrite_queue = 1\n").await;
    // Another writer holds the database: the hub's writer waits, and its queue fills.
    let database = hub.dir.path().join("data").join("ringside.sqlite");
    let blocker = rusqlite::Connection::open(&database).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let url = hub.url(&format!("/api/v1/cti/{TOKEN}"));
    let mut posts: FuturesUnordered<_> = (0..3)
        .map(|n| {
            let url = url.clone();
            async move {
                let call_id = format!("queued-{n}");
                let answer = post_new_call(&url, &call_id).await;
                (call_id, answer)
            }
        })
        .collect();
    // One change can wait in the writer and one in the queue: the third cannot, and nothing
    // else can finish while the database is held.
    let (_, (status, body)) = tokio::time::timeout(Duration::from_secs(10), posts.next())
        .await
        .expect("a refusal while the writer waits")
        .unwrap();
    assert_eq!(status, 503, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("busy"), "{message}");
    assert!(message.contains("retry"), "{message}");

    blocker.execute_batch("COMMIT").unwrap();
    let mut answered = Vec::new();
    while let Some((call_id, (status, body))) = posts.next().await {
        assert!(status == 200 || status == 503, "{status} {body}");
        if status == 200 {
            answered.push(call_id);
        }
    }
    let (status, _) = post_new_call(&url, "afterwards").await;
    assert_eq!(status, 200, "the hub takes changes again");
    answered.push("afterwards".into());

    let mut recorded: Vec<String> = hub
        .journal()
        .await
        .iter()
        .map(|c| c["call_id"].as_str().unwrap().to_owned())
        .collect();
    recorded.sort();
    answered.sort();
    assert_eq!(recorded, answered, "exactly the webhooks answered 200");
}
