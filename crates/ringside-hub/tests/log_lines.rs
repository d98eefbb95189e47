//! The real binary's log with `log_format = "json"`: one JSON object per line, and one line
//! per webhook with its provider, call id, outcome, status and time, never the token.

mod common;

use common::process::{free_port, serve_logging_to};
use serde_json::Value;

/// The hub's process, killed if the test fails before it stops it.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn every_webhook_gets_one_json_line_and_the_token_is_in_none() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("ringside.toml");
    let extra = format!(
        "listen = \"127.0.0.1:{port}\"\nlog_format = \"json\"\n{}",
        common::GENERIC_ON
    );
    std::fs::write(
        &config,
        common::config_text(&dir.path().join("data"), &extra),
    )
    .unwrap();
    let log_path = dir.path().join("hub.log");
    let mut hub =
        Running(serve_logging_to(&config, &base, std::fs::File::create(&log_path).unwrap()).await);
    let http = reqwest::Client::new();

    let ring = [
        ("event", "newCall"),
        ("direction", "in"),
        ("callId", "log-1"),
        ("from", "4930609854180"),
        ("to", "4930600000000"),
    ];
    let post = |token: &str| {
        http.post(format!("{base}/api/v1/cti/{token}"))
            .form(&ring)
            .send()
    };
    assert_eq!(post(common::TOKEN).await.unwrap().status(), 200);
    assert_eq!(
        post("not-the-token-0123456789").await.unwrap().status(),
        401
    );
    hub.0.kill().unwrap();
    hub.0.wait().unwrap();

    let log = std::fs::read_to_string(&log_path).unwrap();
    for token in [common::TOKEN, "not-the-token-0123456789"] {
        assert!(!log.contains(token), "a path's token is in the log:\n{log}");
    }
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let answered: Vec<&Value> = lines
        .iter()
        .filter(|line| line["message"] == "webhook answered")
        .collect();
    assert_eq!(answered.len(), 2, "one line per webhook:\n{log}");
    let accepted = answered[0];
    assert_eq!(accepted["span"]["provider"], "generic");
    assert_eq!(accepted["span"]["call_id"], "log-1");
    assert_eq!(accepted["outcome"], "accepted");
    assert_eq!(accepted["status"], 200);
    assert!(accepted["ms"].as_f64().unwrap() > 0.0, "{accepted}");
    let refused = answered[1];
    assert_eq!(refused["span"]["provider"], "generic");
    assert_eq!(refused["outcome"], "refused");
    assert_eq!(refused["status"], 401);
    assert!(
        refused["span"].get("call_id").is_none(),
        "a refused request's body is not read: {refused}"
    );
}
