//! Click-to-dial against fake provider APIs: real HTTP servers on `127.0.0.1:0` that record
//! every request, so each test checks method, path, credentials, content type and body as
//! the providers document them (reference §1.6, §3.5, §4.5).

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use common::TestHub;
use serde_json::{json, Value};

const PLACETEL_TOKEN: &str = "placetel-api-token";
const SIPGATE_TOKEN_ID: &str = "token-ABC123";
const SIPGATE_TOKEN: &str = "2f9a1c44-0b8e-4d6f-9a51-7c3e2b1d0f00";
const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_AUTH: &str = "twilio-auth-token";
const TWILIO_NUMBER: &str = "+4930600000000";
const TWILIO_WEBHOOK_TOKEN: &str = "twilio-webhook-token-0123456789";
const PUBLIC_URL: &str = "https://hub.example.com";

/// One request a fake provider received.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

/// A provider API that answers every request with one status and JSON body and records
/// what it received.
#[derive(Clone)]
struct FakeApi {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

#[derive(Clone)]
struct Behaviour {
    status: StatusCode,
    body: &'static str,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn answer(
    State(behaviour): State<Behaviour>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let text = |name| {
        headers
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    behaviour.received.lock().unwrap().push(Received {
        method,
        path: uri.path().to_owned(),
        authorization: text(header::AUTHORIZATION),
        content_type: text(header::CONTENT_TYPE),
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    (
        behaviour.status,
        [(header::CONTENT_TYPE, "application/json")],
        behaviour.body,
    )
}

impl FakeApi {
    async fn start(status: u16, body: &'static str) -> FakeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new().fallback(answer).with_state(Behaviour {
            status: StatusCode::from_u16(status).unwrap(),
            body,
            received: received.clone(),
        });
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeApi { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn only_request(&self) -> Received {
        let received = self.received();
        assert_eq!(received.len(), 1, "{received:?}");
        received[0].clone()
    }
}

/// A URL where nothing listens.
async fn closed_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// The three providers' API sections, with credentials, pointing at `placetel`, `sipgate`
/// and `twilio`; their webhooks stay off.
fn providers(placetel: &str, sipgate: &str, twilio: &str) -> String {
    format!(
        "public_url = \"{PUBLIC_URL}\"\n\
         [placetel]\nenabled = false\napi_token = \"{PLACETEL_TOKEN}\"\napi_url = \"{placetel}/v2\"\n\
         [sipgate]\nenabled = false\napi_token_id = \"{SIPGATE_TOKEN_ID}\"\napi_token = \"{SIPGATE_TOKEN}\"\napi_url = \"{sipgate}/v2\"\n\
         [twilio]\nenabled = false\ntoken = \"{TWILIO_WEBHOOK_TOKEN}\"\naccount_sid = \"{TWILIO_SID}\"\n\
         auth_token = \"{TWILIO_AUTH}\"\nnumber = \"{TWILIO_NUMBER}\"\napi_url = \"{twilio}\"\n"
    )
}

/// The outbound rules of the issue's example.
const OUTBOUND: &str = "[outbound]\ndefault_caller_id = \"4930777000000\"\n\
    routes = [{ dest = \"41*\", caller_id = \"41715880339000\", note = \"CH\" }]\n";

/// Creates an agent with provider identities; returns its token.
async fn agent(hub: &TestHub, login: &str, identities: Value) -> String {
    let (status, created) = hub
        .send(
            "POST",
            "/api/v1/admin/agents",
            &hub.admin_token,
            json!({"login": login, "name": format!("Agent {login}"), "identities": identities}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().unwrap().to_owned()
}

async fn dial(hub: &TestHub, token: &str, number: &str) -> (u16, Value) {
    hub.send("POST", "/api/v1/dial", token, json!({ "number": number }))
        .await
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[tokio::test]
async fn placetel_rings_the_agents_sip_user_then_the_customer() {
    let placetel = FakeApi::start(201, r#"{"id": 4711}"#).await;
    let hub = TestHub::start(&providers(&placetel.url, "http://unused", "http://unused")).await;
    let token = agent(&hub, "anna", json!({"placetel": "777anna@fpbx.de"})).await;

    let (status, answer) = dial(&hub, &token, "030 609854180").await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"via": "placetel", "number": "+4930609854180", "caller_id": null, "call_id": null})
    );
    let request = placetel.only_request();
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/v2/calls");
    assert_eq!(
        request.authorization.as_deref(),
        Some("Bearer placetel-api-token")
    );
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({"sipuid": "777anna@fpbx.de", "target": "+4930609854180"})
    );
    assert!(
        hub.journal().await.is_empty(),
        "Placetel's webhook records it"
    );
}

#[tokio::test]
async fn sipgate_returns_the_session_id_and_presents_the_routed_caller_id() {
    let sipgate = FakeApi::start(200, r#"{"sessionId": "B0A1C2D3E4"}"#).await;
    let hub = TestHub::start(&format!(
        "{}{OUTBOUND}",
        providers("http://unused", &sipgate.url, "http://unused")
    ))
    .await;
    let token = agent(&hub, "ben", json!({"sipgate": "e14"})).await;

    let (status, swiss) = dial(&hub, &token, "0041 71 588 03 39").await;
    assert_eq!(status, 200, "{swiss}");
    assert_eq!(
        swiss,
        json!({"via": "sipgate", "number": "+41715880339", "caller_id": "+41715880339000", "call_id": "B0A1C2D3E4"})
    );
    let (status, german) = dial(&hub, &token, "+49 30 609854180").await;
    assert_eq!(status, 200, "{german}");
    assert_eq!(
        german["caller_id"], "+4930777000000",
        "the default caller ID"
    );

    let received = sipgate.received();
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "/v2/sessions/calls");
        assert_eq!(
            request.authorization.as_deref(),
            Some(basic(SIPGATE_TOKEN_ID, SIPGATE_TOKEN).as_str())
        );
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
    }
    assert_eq!(
        received[0].json(),
        json!({"caller": "e14", "callee": "+41715880339", "callerId": "+41715880339000"})
    );
    assert_eq!(
        received[1].json(),
        json!({"caller": "e14", "callee": "+4930609854180", "callerId": "+4930777000000"})
    );
}

#[tokio::test]
async fn sipgate_without_routes_sends_no_caller_id() {
    let sipgate = FakeApi::start(200, r#"{"sessionId": "S1"}"#).await;
    let hub = TestHub::start(&providers("http://unused", &sipgate.url, "http://unused")).await;
    let token = agent(&hub, "ben", json!({"sipgate": "w0"})).await;

    let (status, answer) = dial(&hub, &token, "030 609854180").await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["caller_id"], Value::Null);
    assert_eq!(
        sipgate.only_request().json(),
        json!({"caller": "w0", "callee": "+4930609854180"})
    );
}

#[tokio::test]
async fn sipgate_ok_without_a_session_is_no_call() {
    let sipgate = FakeApi::start(200, "{}").await;
    let hub = TestHub::start(&providers("http://unused", &sipgate.url, "http://unused")).await;
    let token = agent(&hub, "ben", json!({"sipgate": "e99"})).await;

    let (status, answer) = dial(&hub, &token, "030 609854180").await;

    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["code"], "provider_error");
    let message = answer["error"].as_str().unwrap();
    assert!(
        message.starts_with("sipgate refused the call:"),
        "{message}"
    );
    assert!(message.contains("no call was started"), "{message}");
}

#[tokio::test]
async fn an_answer_larger_than_any_real_one_is_not_read_whole() {
    let huge: &'static str = Box::leak(format!("{{\"x\":\"{}\"}}", "x".repeat(2 << 20)).into());
    let sipgate = FakeApi::start(200, huge).await;
    let hub = TestHub::start(&providers("http://unused", &sipgate.url, "http://unused")).await;
    let token = agent(&hub, "ben", json!({"sipgate": "e99"})).await;

    let (status, answer) = dial(&hub, &token, "030 609854180").await;

    assert_eq!(status, 502, "{answer}");
    assert_eq!(
        answer["error"],
        "sipgate refused the call: its answer is larger than 1 MiB; check the API URL"
    );
}

#[tokio::test]
async fn twilio_calls_the_agent_and_the_call_enters_the_journal() {
    let twilio = FakeApi::start(
        201,
        r#"{"sid": "CA00000000000000000000000000000001", "status": "queued"}"#,
    )
    .await;
    let hub = TestHub::start(&providers("http://unused", "http://unused", &twilio.url)).await;
    let token = agent(&hub, "cleo", json!({"twilio": "+491701111111"})).await;

    let (status, answer) = dial(&hub, &token, "030 609854180").await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({
            "via": "twilio",
            "number": "+4930609854180",
            "caller_id": TWILIO_NUMBER,
            "call_id": "CA00000000000000000000000000000001"
        })
    );
    let request = twilio.only_request();
    assert_eq!(request.method, Method::POST);
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{TWILIO_SID}/Calls.json")
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some(basic(TWILIO_SID, TWILIO_AUTH).as_str())
    );
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    // Twilio's Calls API (reference §1.6): `To` is the agent's phone, `From` the Twilio
    // number, `Twiml` the inline TwiML run when the agent answers, which dials the customer
    // showing the Twilio number; the call's progress comes back to the hub's status URL,
    // one `StatusCallbackEvent` field per event; `Timeout` in seconds (default 60, max 600).
    let callback = "https://hub.example.com/api/v1/twilio/twilio-webhook-token-0123456789/status";
    let twiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
        <Dial callerId=\"+4930600000000\" action=\"https://hub.example.com/api/v1/twilio/twilio-webhook-token-0123456789/status\">\
        <Number statusCallback=\"https://hub.example.com/api/v1/twilio/twilio-webhook-token-0123456789/status\" \
        statusCallbackEvent=\"answered completed\">+4930609854180</Number></Dial></Response>";
    let expected = [
        ("To", "+491701111111"),
        ("From", "+4930600000000"),
        ("Twiml", twiml),
        ("StatusCallback", callback),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
        ("Timeout", "30"),
    ];
    let form = request.form();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(form, expected);

    let journal = hub.journal().await;
    assert_eq!(journal.len(), 1, "{journal:?}");
    let call = &journal[0];
    assert_eq!(call["provider"], "twilio");
    assert_eq!(call["call_id"], "CA00000000000000000000000000000001");
    assert_eq!(call["direction"], "out");
    assert_eq!(call["state"], "newCall");
    assert_eq!(call["from"], TWILIO_NUMBER);
    assert_eq!(call["from_comment"], "Agent cleo");
    assert_eq!(call["to_pretty"], "+49 30 609854180");
}

#[tokio::test]
async fn twilio_presents_the_routed_caller_id() {
    let twilio = FakeApi::start(201, r#"{"sid": "CA00000000000000000000000000000002"}"#).await;
    let hub = TestHub::start(&format!(
        "{}{OUTBOUND}",
        providers("http://unused", "http://unused", &twilio.url)
    ))
    .await;
    let token = agent(&hub, "cleo", json!({"twilio": "client:cleo"})).await;

    let (status, answer) = dial(&hub, &token, "+41 71 588 03 39").await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["caller_id"], "+41715880339000");
    let form = twilio.only_request().form();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(field("To"), "client:cleo");
    assert_eq!(field("From"), "+41715880339000");
    assert!(
        field("Twiml").contains("callerId=\"+41715880339000\""),
        "{form:?}"
    );
    let journal = hub.journal().await;
    assert_eq!(journal[0]["from"], "41715880339000", "as the route says");
}

#[tokio::test]
async fn a_refusal_is_a_502_with_the_providers_message_and_nothing_recorded() {
    let placetel = FakeApi::start(
        422,
        r#"{"message": "sipuid is not a SIP user of this account"}"#,
    )
    .await;
    let twilio = FakeApi::start(
        400,
        r#"{"code": 21210, "message": "The source phone number provided, +4930600000000, is not yet verified for your account.", "more_info": "https://www.twilio.com/docs/errors/21210", "status": 400}"#,
    )
    .await;
    let hub = TestHub::start(&providers(&placetel.url, "http://unused", &twilio.url)).await;
    let anna = agent(&hub, "anna", json!({"placetel": "777nobody@fpbx.de"})).await;
    let cleo = agent(&hub, "cleo", json!({"twilio": "+491701111111"})).await;

    let (status, answer) = dial(&hub, &anna, "030 609854180").await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(
        answer,
        json!({
            "error": "Placetel refused the call: sipuid is not a SIP user of this account (HTTP 422)",
            "code": "provider_error"
        })
    );

    let (status, answer) = dial(&hub, &cleo, "030 609854180").await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["code"], "provider_error");
    assert_eq!(
        answer["error"],
        "Twilio refused the call: The source phone number provided, +4930600000000, is not yet verified for your account. (HTTP 400)"
    );
    assert_eq!(twilio.received().len(), 1);
    assert!(hub.journal().await.is_empty());
}

#[tokio::test]
async fn an_unreachable_provider_is_a_502() {
    let hub = TestHub::start(&providers(
        &closed_url().await,
        "http://unused",
        "http://unused",
    ))
    .await;
    let token = agent(&hub, "anna", json!({"placetel": "777anna@fpbx.de"})).await;

    let (status, answer) = dial(&hub, &token, "030 609854180").await;

    assert_eq!(status, 502, "{answer}");
    assert_eq!(answer["code"], "provider_error");
    let message = answer["error"].as_str().unwrap();
    assert!(
        message.starts_with("Placetel could not be reached: "),
        "{message}"
    );
}

#[tokio::test]
async fn without_a_provider_the_agent_gets_a_tel_link() {
    let placetel = FakeApi::start(201, "{}").await;
    // Placetel has credentials, sipgate and Twilio have none.
    let hub = TestHub::start(&format!(
        "[placetel]\napi_token = \"{PLACETEL_TOKEN}\"\napi_url = \"{}/v2\"\n{OUTBOUND}",
        placetel.url
    ))
    .await;
    let no_identity = agent(&hub, "dora", json!({})).await;
    let no_credentials = agent(
        &hub,
        "emil",
        json!({"sipgate": "w0", "twilio": "client:emil"}),
    )
    .await;

    for token in [&no_identity, &no_credentials] {
        let (status, answer) = dial(&hub, token, "030 609854180").await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer,
            json!({"via": "tel", "number": "+4930609854180", "link": "tel:+4930609854180"})
        );
    }
    assert!(placetel.received().is_empty());
}

#[tokio::test]
async fn what_is_not_a_number_is_a_400_that_says_so() {
    let placetel = FakeApi::start(201, "{}").await;
    let hub = TestHub::start(&providers(&placetel.url, "http://unused", "http://unused")).await;
    let token = agent(&hub, "anna", json!({"placetel": "777anna@fpbx.de"})).await;

    for garbage in ["anonymous", "23", "client:bob", "call me maybe"] {
        let (status, answer) = dial(&hub, &token, garbage).await;
        assert_eq!(status, 400, "{garbage}: {answer}");
        assert_eq!(answer["code"], "bad_request");
        let message = answer["error"].as_str().unwrap();
        assert!(
            message.contains(&format!("{garbage:?} is not a phone number")),
            "{message}"
        );
    }
    let (status, answer) = dial(&hub, &token, "  ").await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"], "enter the phone number to dial");
    let (status, answer) = hub
        .send(
            "POST",
            "/api/v1/dial",
            &token,
            json!({"phone": "030 609854180"}),
        )
        .await;
    assert!(status == 400 || status == 422, "{status} {answer}");
    assert_eq!(answer["code"], "bad_request");
    assert!(placetel.received().is_empty());
}

#[tokio::test]
async fn dialing_needs_an_agent_token() {
    let placetel = FakeApi::start(201, "{}").await;
    let hub = TestHub::start(&providers(&placetel.url, "http://unused", "http://unused")).await;

    let response = hub
        .http
        .post(hub.url("/api/v1/dial"))
        .json(&json!({"number": "030 609854180"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let (status, answer) = dial(&hub, "not-a-token", "030 609854180").await;
    assert_eq!(status, 401);
    assert_eq!(answer["code"], "unauthorized");
    assert!(placetel.received().is_empty());
}
