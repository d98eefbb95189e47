//! The real `ringside-hub` binary, killed (SIGKILL) in the middle of a burst of concurrent
//! webhooks and started again: every webhook it answered 200 is in the journal, none twice.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::process::{free_port, hub_command, serve};
use serde_json::Value;
use tokio::sync::Notify;

/// Webhooks in the burst, and how many are on the way at once.
const BURST: usize = 400;
const CONCURRENT: usize = 32;
/// The hub is killed once this many webhooks were answered 200.
const KILL_AFTER: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_answered_before_a_kill_is_in_the_journal_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("ringside.toml");
    let text = common::config_text(&dir.path().join("data"), common::GENERIC_ON)
        .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&config, text).unwrap();
    let added = hub_command(&config)
        .args(["agent", "add", "anna", "--name", "Anna Agent", "--admin"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let stdout = String::from_utf8(added.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_owned();

    let mut hub = serve(&config, &base).await;
    let url = format!("{base}/api/v1/cti/{}", common::TOKEN);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let mut posters = Vec::new();
    for _ in 0..CONCURRENT {
        let (client, url, next, ok, enough) = (
            client.clone(),
            url.clone(),
            next.clone(),
            ok.clone(),
            enough.clone(),
        );
        posters.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= BURST {
                    return answered;
                }
                let call_id = format!("burst-{n}");
                let sent = client
                    .post(&url)
                    .form(&[
                        ("event", "newCall"),
                        ("direction", "in"),
                        ("callId", call_id.as_str()),
                        ("from", "4930609854180"),
                        ("to", "4930600000000"),
                    ])
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 200 => {
                        answered.push(call_id);
                        if ok.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                            enough.notify_one();
                        }
                    }
                    // Refused, cut off by the kill, or the hub gone: not answered 200.
                    Ok(_) => {}
                    Err(_) => return answered,
                }
            }
        }));
    }
    tokio::time::timeout(Duration::from_secs(60), enough.notified())
        .await
        .expect("the hub answers webhooks under load");
    hub.kill().unwrap(); // SIGKILL, while webhooks are in flight
    hub.wait().unwrap();
    let mut answered = Vec::new();
    for poster in posters {
        answered.extend(poster.await.unwrap());
    }
    assert!(answered.len() >= KILL_AFTER);
    assert!(
        answered.len() < BURST,
        "the kill came in the middle of the burst"
    );

    let mut hub = serve(&config, &base).await;
    let journal: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/journal?limit=500"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    hub.kill().unwrap();
    hub.wait().unwrap();
    let mut times: HashMap<String, usize> = HashMap::new();
    for entry in journal["entries"].as_array().unwrap() {
        *times
            .entry(entry["call_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert!(times.values().all(|&n| n == 1), "no call is recorded twice");
    for call_id in &answered {
        assert_eq!(
            times.get(call_id),
            Some(&1),
            "{call_id} was answered 200 but is not in the journal"
        );
    }
}
