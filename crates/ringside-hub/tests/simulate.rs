//! `ringside-hub simulate` against a real hub: each provider's call sequence arrives in the
//! journal, signed where the provider signs.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use hmac::{Hmac, Mac};
use sha2::Sha256;

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
    simulate_against(&hub.running.url(), hub.dir.path(), args).await
}

/// Runs the simulator against whatever serves `url`, with its configuration in `dir`.
async fn simulate_against(url: &str, dir: &Path, args: &[&str]) -> std::process::Output {
    // The simulator reads the hub's URL, tokens and signing secret from a configuration file.
    let config = dir.join("simulate.toml");
    let text = format!(
        "public_url = \"{url}\"\n{}\n[generic]\nenabled = true\ntoken = \"{}\"\n",
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
    // Tokens are URL-safe base64: one may start with `-`, and still reaches the hub (which
    // refuses this one) instead of being read as an option.
    let out = simulate(&hub, &["inbound", "--via", "generic", "--token", "-wrong"]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
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
        assert!(
            stdout.contains("/api/v1/twilio/<token>/status") && !stdout.contains(TWILIO_TOKEN),
            "the callback URLs are printed without the token: {stdout}"
        );
    }
    let journal = hub.journal().await;
    let answered = entry(&journal, "CAanswered");
    assert_eq!(answered["provider"], "twilio");
    assert_eq!(answered["answered_by"], "anna");
    assert_eq!(answered["done"], true);
    assert_eq!(entry(&journal, "CAmissed")["done"], false);
}

/// A request the stand-in hub received: path with query, headers, body.
type Received = (String, HeaderMap, Bytes);

/// A stand-in for the hub on `127.0.0.1:0` that records what the simulator sends and
/// answers as the hub does: TwiML that rings one phone for Twilio's voice URL, an empty
/// answer otherwise. Returns its URL and what it received.
async fn stand_in() -> (String, Arc<Mutex<Vec<Received>>>) {
    async fn answer(
        State(received): State<Arc<Mutex<Vec<Received>>>>,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> String {
        let voice = uri.path().ends_with("/voice");
        let path = uri.path_and_query().unwrap().as_str().to_owned();
        received.lock().unwrap().push((path, headers, body));
        if voice {
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial>\
             <Number>+491701111111</Number></Dial></Response>"
                .into()
        } else {
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".into()
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(received.clone());
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// `X-PLACETEL-SIGNATURE` as Placetel documents it, written here independently of the
/// hub's signer: lower-case hex of HMAC-SHA256 of the raw body with the shared secret.
fn placetel_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_tests_signers_reproduce_the_published_vectors() {
    // Placetel's README (reference §3.4).
    assert_eq!(
        placetel_signature(
            "12345",
            b"call_id=4a4cbb39578170aed9a2761a7bec8c7e704a541f52291ef603d6f5f152980c3c\
              &event=CallAccepted&from=0123456789&to=0987654321"
        ),
        "c4f823c5b8806432fe2b83b1fc2ee714422e0cdfb4b5129152a7d0bbcd7792d0"
    );
    // Twilio's SDK test suites (reference §1.4).
    assert_eq!(
        common::twilio_signature(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &[
                ("CallSid", "CA1234567890ABCDE"),
                ("Caller", "+14158675309"),
                ("Digits", "1234"),
                ("From", "+14158675309"),
                ("To", "+18005551212"),
            ]
        ),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
}

#[tokio::test]
async fn the_simulators_signatures_are_the_providers() {
    let (url, received) = stand_in().await;
    let dir = tempfile::tempdir().unwrap();
    for via in ["placetel", "twilio"] {
        let out = simulate_against(&url, dir.path(), &["inbound", "--via", via]).await;
        assert!(out.status.success(), "{via}: {out:?}");
    }

    let received = received.lock().unwrap().clone();
    let placetel: Vec<_> = received
        .iter()
        .filter(|(path, _, _)| path.starts_with("/api/v1/placetel/"))
        .collect();
    assert!(placetel.len() >= 3, "a whole call: {placetel:?}");
    for (_, headers, body) in placetel {
        assert_eq!(
            headers["x-placetel-signature"].to_str().unwrap(),
            placetel_signature(SECRET, body),
            "{body:?}"
        );
    }
    let twilio: Vec<_> = received
        .iter()
        .filter(|(path, _, _)| path.starts_with("/api/v1/twilio/"))
        .collect();
    assert!(twilio.len() >= 5, "a whole call: {twilio:?}");
    for (path, headers, body) in twilio {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(body).into_owned().collect();
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            headers["x-twilio-signature"].to_str().unwrap(),
            common::twilio_signature("twilio-sim-auth", &format!("{url}{path}"), &params),
            "{path} {body:?}"
        );
    }
}
