//! `ringside-hub simulate` against a real hub: each provider's call sequence arrives in the
//! journal, signed where the provider signs.

mod common;

use std::process::Command;

use common::TestHub;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ringside-hub");
const PLACETEL_TOKEN: &str = "placetel-sim-token-0123456789";
const SIPGATE_TOKEN: &str = "sipgate-sim-token-0123456789";
const SECRET: &str = "placetel-sim-secret";
const TWILIO_TOKEN: &str = "twilio-sim-token-0123456789";

fn providers() -> String {
    format!(
        "[placetel]\nenabled = true\ntoken = \"{PLACETEL_TOKEN}\"\nsigning_secret = \"{SECRET}\"\n\
         [sipgate]\nenabled = true\ntoken = \"{SIPGATE_TOKEN}\"\nverify_signature = false\n\
         [twilio]\nenabled = true\ntoken = \"{TWILIO_TOKEN}\"\nauth_token = \"twilio-sim-auth\"\n"
    )
}

/// Runs the simulator off the test's thread, so that the hub keeps serving meanwhile.
async fn simulate(hub: &TestHub, args: &[&str]) -> std::process::Output {
    // The simulator reads the hub's URL, tokens and signing secret from a configuration file.
    let config = hub.dir.path().join("simulate.toml");
    let text = format!(
        "public_url = \"{}\"\n{}\n[generic]\nenabled = true\ntoken = \"{}\"\n",
        hub.running.url(),
        providers(),
        common::TOKEN
    );
    std::fs::write(&config, text).unwrap();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("simulate")
            .args(&args)
            .args(["--ring-secs", "0", "--talk-secs", "0"])
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn entry(journal: &[Value], call_id: &str) -> Value {
    journal
        .iter()
        .find(|c| c["call_id"] == call_id)
        .unwrap_or_else(|| panic!("no entry {call_id}"))
        .clone()
}

#[tokio::test]
async fn each_provider_sequence_lands_in_the_journal() {
    let hub = TestHub::start(&providers()).await;
    for (via, call_id, ending) in [
        ("generic", "sim-generic", "answered"),
        ("placetel", "sim-placetel", "answered"),
        ("placetel", "sim-placetel-missed", "missed"),
        ("sipgate", "sim-sipgate", "voicemail"),
    ] {
        let out = simulate(
            &hub,
            &[
                "inbound",
                "--via",
                via,
                "--call-id",
                call_id,
                "--ending",
                ending,
            ],
        )
        .await;
        assert!(out.status.success(), "{via}: {out:?}");
    }
    let out = simulate(
        &hub,
        &[
            "outbound",
            "--via",
            "placetel",
            "--call-id",
            "sim-out",
            "--to",
            "01114100300",
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");

    let journal = hub.journal().await;
    let done = |id: &str| entry(&journal, id)["done"].clone();
    assert_eq!(entry(&journal, "sim-generic")["state"], "hangup");
    assert_eq!(done("sim-generic"), true);
    assert_eq!(entry(&journal, "sim-placetel")["provider"], "placetel");
    assert_eq!(done("sim-placetel"), true);
    assert_eq!(done("sim-placetel-missed"), false);
    assert_eq!(entry(&journal, "sim-sipgate")["provider"], "sipgate");
    assert_eq!(done("sim-sipgate"), false, "a voicemail stays to call back");
    assert_eq!(entry(&journal, "sim-out")["direction"], "out");
}

#[tokio::test]
async fn a_refused_event_fails_the_simulation() {
    let hub = TestHub::start(&providers()).await;
    let out = simulate(
        &hub,
        &["inbound", "--via", "placetel", "--ending", "forwarded"],
    )
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no forwarded ending"), "{stderr}");
    let out = simulate(&hub, &["inbound", "--via", "generic", "--token", "wrong"]).await;
    assert!(!out.status.success());
}

#[tokio::test]
async fn twilio_calls_ring_the_available_agent_and_are_signed() {
    // Twilio signs the public URL: the hub listens where its public_url says.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hub = TestHub::start(&format!(
        "listen = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n{}",
        providers()
    ))
    .await;
    let anna = hub.agent("anna", false, &[]).await;
    let (status, _) = hub
        .send(
            "PATCH",
            "/api/v1/admin/agents/anna",
            &hub.admin_token,
            serde_json::json!({"identities": {"twilio": "+491701111111"}}),
        )
        .await;
    assert_eq!(status, 200);
    let mut online = hub.stream(&anna, None).await;
    online.next().await;

    for (call_id, ending) in [("CAanswered", "answered"), ("CAmissed", "missed")] {
        let out = simulate(
            &hub,
            &[
                "inbound",
                "--via",
                "twilio",
                "--call-id",
                call_id,
                "--ending",
                ending,
            ],
        )
        .await;
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("+491701111111"),
            "the TwiML rings anna: {stdout}"
        );
    }
    let journal = hub.journal().await;
    let answered = entry(&journal, "CAanswered");
    assert_eq!(answered["provider"], "twilio");
    assert_eq!(answered["answered_by"], "anna");
    assert_eq!(answered["done"], true);
    assert_eq!(entry(&journal, "CAmissed")["done"], false);
}
