//! Placetel's notify API against the real hub: Zammad's XML answers, the documented event
//! sequences in the journal, the signature on the raw body, and the SIP user mapped to an
//! agent (reference: providers.md §3, zammad-cti.md §3.2).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::TestHub;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const TOKEN: &str = "placetel-test-token-0123456789";
const SECRET: &str = "placetel-signing-secret";
const ANNA_SIP: &str = "777anna@fpbx.de";
const CALL_ID: &str = "4a4cbb39578170aed9a2761a7bec8c7e704a541f52291ef603d6f5f152980c3c";

const XML_OK: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response/>\n";

fn config(secret: &str) -> String {
    format!(
        "[placetel]\nenabled = true\ntoken = \"{TOKEN}\"\nsigning_secret = \"{secret}\"\n\
         [outbound]\ndefault_caller_id = \"4930777000000\"\n\
         [inbound]\nblock = [{{ caller_id = \"01715000000\" }}]\n"
    )
}

fn sign(body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Posts form fields as Placetel does, signed unless `signed` is false.
async fn post(hub: &TestHub, fields: &[(&str, &str)], signed: bool) -> (u16, String) {
    let body = serde_html_body(fields);
    let mut request = hub
        .http
        .post(hub.url(&format!("/api/v1/placetel/{TOKEN}")))
        .header("content-type", "application/x-www-form-urlencoded");
    if signed {
        request = request.header("X-PLACETEL-SIGNATURE", sign(&body));
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["content-type"],
        "application/xml; charset=UTF-8"
    );
    (status, response.text().await.unwrap())
}

fn serde_html_body(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

async fn with_anna(hub: &TestHub) {
    hub.agent("anna", false, &[]).await;
    let (status, _) = hub
        .send(
            "PATCH",
            "/api/v1/admin/agents/anna",
            &hub.admin_token,
            json!({"name": "Anna Agent", "identities": {"placetel": ANNA_SIP}}),
        )
        .await;
    assert_eq!(status, 200);
}

fn entry<'a>(journal: &'a [Value], call_id: &str) -> &'a Value {
    journal.iter().find(|c| c["call_id"] == call_id).unwrap()
}

#[tokio::test]
async fn inbound_answered_by_a_sip_user_is_done_and_answered_by_the_agent() {
    let hub = TestHub::start(&config(SECRET)).await;
    with_anna(&hub).await;
    let incoming = [
        ("event", "IncomingCall"),
        ("from", "022129191999"),
        ("to", "0301234567"),
        ("call_id", CALL_ID),
        ("direction", "in"),
    ];
    assert_eq!(post(&hub, &incoming, true).await, (200, XML_OK.into()));
    let accepted = [
        ("event", "CallAccepted"),
        ("from", "022129191999"),
        ("to", "0301234567"),
        ("call_id", CALL_ID),
        ("peer", ANNA_SIP),
    ];
    assert_eq!(post(&hub, &accepted, true).await.0, 200);
    let hung_up = [
        ("event", "HungUp"),
        ("from", "022129191999"),
        ("to", "0301234567"),
        ("call_id", CALL_ID),
        ("type", "accepted"),
        ("duration", "42"),
    ];
    assert_eq!(post(&hub, &hung_up, true).await.0, 200);

    let journal = hub.journal().await;
    let call = entry(&journal, CALL_ID);
    assert_eq!(call["provider"], "placetel");
    assert_eq!(call["direction"], "in", "taken from the call");
    assert_eq!(call["state"], "hangup");
    assert_eq!(call["done"], true);
    assert_eq!(call["answered_by"], "anna");
    assert_eq!(call["to_comment"], "Anna Agent", "who took it");
    assert_eq!(call["comment"], "normalClearing");
    assert_eq!(call["from_pretty"], "+49 221 29191999");
}

#[tokio::test]
async fn a_missed_call_stays_to_call_back() {
    let hub = TestHub::start(&config(SECRET)).await;
    let base = [
        ("from", "022129191999"),
        ("to", "0301234567"),
        ("call_id", "missed-1"),
    ];
    let mut incoming = vec![("event", "IncomingCall")];
    incoming.extend_from_slice(&base);
    post(&hub, &incoming, true).await;
    let mut hung_up = vec![("event", "HungUp"), ("type", "missed")];
    hung_up.extend_from_slice(&base);
    post(&hub, &hung_up, true).await;
    let journal = hub.journal().await;
    let call = entry(&journal, "missed-1");
    assert_eq!(call["done"], false);
    assert_eq!(call["comment"], "cancel");
}

#[tokio::test]
async fn outbound_calls_get_the_caller_id_and_the_agents_name() {
    let hub = TestHub::start(&config(SECRET)).await;
    with_anna(&hub).await;
    let outgoing = [
        ("event", "OutgoingCall"),
        ("from", "0301234567"),
        ("to", "01114100300"),
        ("peer", ANNA_SIP),
        ("call_id", "out-1"),
        ("direction", "out"),
    ];
    let (status, xml) = post(&hub, &outgoing, true).await;
    assert_eq!(status, 200);
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n  <Dial callerId=\"4930777000000\">\n    <Number>01114100300</Number>\n  </Dial>\n</Response>\n"
    );
    let hung_up = [
        ("event", "HungUp"),
        ("call_id", "out-1"),
        ("type", "busy"),
        ("direction", "out"),
    ];
    post(&hub, &hung_up, true).await;
    let journal = hub.journal().await;
    let call = entry(&journal, "out-1");
    assert_eq!(call["from"], "4930777000000");
    assert_eq!(call["from_comment"], "Anna Agent");
    assert_eq!(call["done"], true);
    assert_eq!(call["comment"], "busy");
}

#[tokio::test]
async fn blocked_callers_are_rejected_in_placetels_xml() {
    let hub = TestHub::start(&config(SECRET)).await;
    let incoming = [
        ("event", "IncomingCall"),
        ("from", "01715000000"),
        ("to", "0301234567"),
        ("call_id", "blocked-1"),
    ];
    let (status, xml) = post(&hub, &incoming, true).await;
    assert_eq!(status, 200);
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n  <Reject reason=\"busy\"/>\n</Response>\n"
    );
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_refused_and_stores_nothing() {
    let hub = TestHub::start(&config(SECRET)).await;
    let incoming = [
        ("event", "IncomingCall"),
        ("from", "022129191999"),
        ("to", "0301234567"),
        ("call_id", "unsigned"),
    ];
    let (status, xml) = post(&hub, &incoming, false).await;
    assert_eq!(status, 401);
    assert!(xml.contains("X-PLACETEL-SIGNATURE"), "{xml}");
    let forged = hub
        .http
        .post(hub.url(&format!("/api/v1/placetel/{TOKEN}")))
        .header("X-PLACETEL-SIGNATURE", sign("event=IncomingCall"))
        .body(serde_html_body(&incoming))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert!(hub.journal().await.is_empty());
}

#[tokio::test]
async fn without_a_secret_no_signature_is_needed_but_the_token_is() {
    let hub = TestHub::start(&config("")).await;
    let incoming = [
        ("event", "IncomingCall"),
        ("from", "022129191999"),
        ("to", "0301234567"),
        ("call_id", "c1"),
    ];
    assert_eq!(post(&hub, &incoming, false).await.0, 200);
    let wrong = hub
        .http
        .post(hub.url("/api/v1/placetel/wrong-token"))
        .body(serde_html_body(&incoming))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("<Error>Invalid token, please contact your admin!</Error>"));
}

#[tokio::test]
async fn a_follow_up_for_an_unknown_call_has_no_direction() {
    let hub = TestHub::start(&config("")).await;
    let hung_up = [
        ("event", "HungUp"),
        ("call_id", "never-seen"),
        ("type", "missed"),
    ];
    let (status, xml) = post(&hub, &hung_up, false).await;
    assert_eq!(status, 422);
    assert!(xml.contains("<Error>Invalid 'direction'!</Error>"), "{xml}");
    let (status, xml) = post(&hub, &[("event", "Ringing"), ("call_id", "x")], false).await;
    assert_eq!(status, 422);
    assert!(xml.contains("Unknown event"), "{xml}");
    assert!(hub.journal().await.is_empty());
}

/// A fake of Placetel's API: `GET /v2/sip_users` with the bearer token, counting requests.
async fn fake_placetel_api(token: &'static str) -> (String, std::sync::Arc<AtomicUsize>) {
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let app = axum::Router::new().route(
        "/v2/sip_users",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                if headers["authorization"] != format!("Bearer {token}").as_str() {
                    return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "no"})));
                }
                (
                    axum::http::StatusCode::OK,
                    axum::Json(json!([
                        {"callerid": "03055571600", "did": 10, "name": "Bob Smith", "type": "standard", "sipuid": "777bob@fpbx.de"},
                        {"did": 11, "sipuid": "777nameless@fpbx.de"},
                        {"did": 12, "name": "L".repeat(300), "sipuid": "777long@fpbx.de"}
                    ])),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, requests)
}

#[tokio::test]
async fn sip_users_no_agent_claims_get_their_name_from_placetels_api_once() {
    let (api_url, requests) = fake_placetel_api("placetel-api-token").await;
    let hub = TestHub::start(&config("").replacen(
        "signing_secret = \"\"\n",
        &format!(
            "signing_secret = \"\"\napi_token = \"placetel-api-token\"\napi_url = \"{api_url}\"\n"
        ),
        1,
    ))
    .await;
    for call_id in ["p1", "p2"] {
        let base = [
            ("from", "022129191999"),
            ("to", "0301234567"),
            ("call_id", call_id),
        ];
        let mut incoming = vec![("event", "IncomingCall")];
        incoming.extend_from_slice(&base);
        post(&hub, &incoming, false).await;
        let mut accepted = vec![("event", "CallAccepted"), ("peer", "777bob@fpbx.de")];
        accepted.extend_from_slice(&base);
        assert_eq!(post(&hub, &accepted, false).await.0, 200);
    }
    let journal = hub.journal().await;
    assert_eq!(entry(&journal, "p1")["to_comment"], "Bob Smith");
    assert_eq!(entry(&journal, "p2")["to_comment"], "Bob Smith");
    assert_eq!(
        entry(&journal, "p1")["answered_by"],
        Value::Null,
        "no agent claims Bob"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1, "the list is cached");
}

/// The real binary's log until it serves, with Placetel's `signing_secret` set to `secret`.
async fn log_at_start(secret: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let port = common::process::free_port();
    let file = dir.path().join("ringside.toml");
    let text = common::config_text(
        &dir.path().join("data"),
        &format!("listen = \"127.0.0.1:{port}\"\n{}", config(secret)),
    );
    std::fs::write(&file, text).unwrap();
    let log = dir.path().join("hub.log");
    let mut hub = common::process::serve_logging_to(
        &file,
        &format!("http://127.0.0.1:{port}"),
        std::fs::File::create(&log).unwrap(),
    )
    .await;
    hub.kill().unwrap();
    hub.wait().unwrap();
    std::fs::read_to_string(log).unwrap()
}

#[tokio::test]
async fn an_unsigned_endpoint_is_a_warning_at_start() {
    let unsigned = log_at_start("").await;
    assert!(
        unsigned.contains("WARN") && unsigned.contains("placetel.signing_secret is empty"),
        "{unsigned}"
    );
    let signed = log_at_start(SECRET).await;
    assert!(!signed.contains("signing_secret"), "{signed}");
}

#[tokio::test]
async fn a_sip_user_name_longer_than_any_real_one_is_cut() {
    let (api_url, _) = fake_placetel_api("placetel-api-token").await;
    let hub = TestHub::start(&config("").replacen(
        "signing_secret = \"\"\n",
        &format!(
            "signing_secret = \"\"\napi_token = \"placetel-api-token\"\napi_url = \"{api_url}\"\n"
        ),
        1,
    ))
    .await;
    let base = [
        ("from", "022129191999"),
        ("to", "0301234567"),
        ("call_id", "p1"),
    ];
    let mut incoming = vec![("event", "IncomingCall")];
    incoming.extend_from_slice(&base);
    post(&hub, &incoming, false).await;
    let mut accepted = vec![("event", "CallAccepted"), ("peer", "777long@fpbx.de")];
    accepted.extend_from_slice(&base);
    assert_eq!(post(&hub, &accepted, false).await.0, 200);
    let journal = hub.journal().await;
    assert_eq!(entry(&journal, "p1")["to_comment"], "L".repeat(256));
}
