//! The simple-queue flow against the real hub and a fake Twilio REST API (a real HTTP
//! server on `127.0.0.1:0` that records every request): the caller is enqueued, agents are
//! called one at a time through the Calls API, their calls' signed status callbacks move
//! the offer on, the `<Queue url>` request records who answered, and a caller who hangs up
//! stops the offer (reference §1.5, §1.6).

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::TestHub;
use serde_json::{json, Value};

const PUBLIC_URL: &str = "https://hub.example";
const TWILIO_TOKEN: &str = "twilio-test-token-0123456789";
const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "twilio-auth-token-for-tests";
const NUMBER: &str = "+4930600000000";
const CUSTOMER: &str = "+4930609854180";
const EMPTY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;

/// One request the fake API received.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    authorization: Option<String>,
    form: Vec<(String, String)>,
}

impl Received {
    /// Every value of a form field, in order.
    fn all(&self, name: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The one value of a form field.
    fn field(&self, name: &str) -> &str {
        match self.all(name)[..] {
            [value] => value,
            _ => panic!("{name} in {:?}", self.form),
        }
    }
}

/// Twilio's Calls API: a created call answers `201` with the next sid (`CA_agent1`, …),
/// an updated call `200`.
#[derive(Clone)]
struct FakeTwilio {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn calls_api(
    State(received): State<Arc<Mutex<Vec<Received>>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let mut received = received.lock().unwrap();
    received.push(Received {
        method,
        path: uri.path().to_owned(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned()),
        form: url::form_urlencoded::parse(&body).into_owned().collect(),
    });
    let created = uri.path().ends_with("/Calls.json");
    let calls = received
        .iter()
        .filter(|r| r.path.ends_with("/Calls.json"))
        .count();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = json!({"sid": format!("CA_agent{calls}"), "status": "queued"});
    (status, axum::Json(body))
}

impl FakeTwilio {
    async fn start() -> FakeTwilio {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .fallback(calls_api)
            .with_state(received.clone());
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeTwilio { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The calls created so far.
    fn created(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == calls_path())
            .collect()
    }
}

fn calls_path() -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json")
}

fn config(api_url: &str) -> String {
    format!(
        r#"public_url = "{PUBLIC_URL}"
[inbound]
block = [{{ caller_id = "491715000000", note = "spam" }}]
[twilio]
enabled = true
token = "{TWILIO_TOKEN}"
account_sid = "{ACCOUNT_SID}"
auth_token = "{AUTH_TOKEN}"
number = "{NUMBER}"
flow = "simple-queue"
ring_secs = 20
api_url = "{api_url}"
"#
    )
}

fn sign(url: &str, params: &[(&str, &str)]) -> String {
    common::twilio_signature(AUTH_TOKEN, url, params)
}

fn path(endpoint: &str) -> String {
    format!("/api/v1/twilio/{TWILIO_TOKEN}/{endpoint}")
}

fn status_url() -> String {
    format!("{PUBLIC_URL}{}", path("status"))
}

/// POSTs signed fields to `endpoint` (with its query), expecting 200; returns the TwiML.
async fn twilio(hub: &TestHub, endpoint: &str, fields: &[(&str, &str)]) -> String {
    let path = path(endpoint);
    let signature = sign(&format!("{PUBLIC_URL}{path}"), fields);
    let response = hub
        .http
        .post(hub.url(&path))
        .header("X-Twilio-Signature", signature)
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{endpoint} {fields:?}: {body}");
    body
}

/// The voice URL request of a new call from `from`.
async fn voice(hub: &TestHub, call_sid: &str, from: &str) -> String {
    let fields = [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", from),
        ("To", NUMBER),
    ];
    twilio(hub, "voice", &fields).await
}

/// A status callback of the call the hub placed to `agent` to offer `caller`.
async fn agent_call(hub: &TestHub, caller: &str, sid: &str, agent: &str, status: &str) {
    let fields = [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", sid),
        ("CallStatus", status),
        ("Direction", "outbound-api"),
        ("From", NUMBER),
        ("To", agent),
        ("CallbackSource", "call-progress-events"),
    ];
    let answer = twilio(hub, &format!("status?offer={caller}"), &fields).await;
    assert_eq!(answer, EMPTY);
}

/// A request about the caller's own call, with `extra` parameters.
async fn caller(hub: &TestHub, call_sid: &str, status: &str, extra: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("Direction", "inbound"),
        ("From", CUSTOMER),
        ("To", NUMBER),
    ];
    fields.extend_from_slice(extra);
    twilio(hub, "status", &fields).await
}

/// Creates an agent with a Twilio identity and brings it online; keep the stream.
async fn online_agent(hub: &TestHub, login: &str, identity: &str) -> common::Stream {
    let body =
        json!({"login": login, "name": login.to_uppercase(), "identities": {"twilio": identity}});
    let (status, created) = hub
        .send("POST", "/api/v1/admin/agents", &hub.admin_token, body)
        .await;
    assert_eq!(status, 201, "{created}");
    let mut stream = hub.stream(created["token"].as_str().unwrap(), None).await;
    stream.next().await;
    stream
}

fn entry(journal: &[Value], call_sid: &str) -> Value {
    journal
        .iter()
        .find(|c| c["call_id"] == call_sid)
        .unwrap_or_else(|| panic!("no journal entry {call_sid}"))
        .clone()
}

/// The agent call offering `caller_sid` to `to`, as the hub must create it.
fn assert_offer(request: &Received, caller_sid: &str, to: &str) {
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, calls_path());
    let basic = STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(request.field("To"), to);
    assert_eq!(request.field("From"), NUMBER);
    assert_eq!(
        request.field("Twiml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial>\
             <Queue url=\"{}\">{caller_sid}</Queue></Dial></Response>",
            status_url()
        )
    );
    assert_eq!(request.field("Timeout"), "20");
    assert_eq!(
        request.field("StatusCallback"),
        format!("{}?offer={caller_sid}", status_url())
    );
    assert_eq!(
        request.all("StatusCallbackEvent"),
        ["initiated", "ringing", "answered", "completed"]
    );
}

#[tokio::test]
async fn the_second_agent_takes_the_caller_the_first_did_not_answer() {
    let api = FakeTwilio::start().await;
    let hub = TestHub::start(&config(&api.url)).await;
    let _anna = online_agent(&hub, "anna", "+491701111111").await;
    let _ben = online_agent(&hub, "ben", "client:ben").await;

    let twiml = voice(&hub, "CA_q", CUSTOMER).await;
    assert_eq!(
        twiml,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
             <Enqueue action=\"{}\">CA_q</Enqueue></Response>",
            status_url()
        )
    );
    let created = api.created();
    assert_eq!(created.len(), 1, "one agent at a time: {created:?}");
    assert_offer(&created[0], "CA_q", "+491701111111");
    let call = entry(&hub.journal().await, "CA_q");
    assert_eq!(call["state"], "newCall");
    assert_eq!(call["offered_to"], json!(["anna", "ben"]));

    for status in ["initiated", "ringing", "no-answer"] {
        agent_call(&hub, "CA_q", "CA_agent1", "+491701111111", status).await;
    }
    let created = api.created();
    assert_eq!(created.len(), 2, "{created:?}");
    assert_offer(&created[1], "CA_q", "client:ben");

    for status in ["initiated", "ringing", "in-progress"] {
        agent_call(&hub, "CA_q", "CA_agent2", "client:ben", status).await;
    }
    assert_eq!(entry(&hub.journal().await, "CA_q")["state"], "newCall");
    let dequeue = [
        ("QueueSid", "QU5ef8732a3c49700934481addd5ce1659"),
        ("QueueTime", "14"),
        ("DequeingCallSid", "CA_agent2"),
    ];
    assert_eq!(caller(&hub, "CA_q", "in-progress", &dequeue).await, EMPTY);
    let call = entry(&hub.journal().await, "CA_q");
    assert_eq!(call["state"], "answer");
    assert_eq!(call["answered_by"], "ben");
    assert_eq!(call["to_comment"], "BEN");

    agent_call(&hub, "CA_q", "CA_agent2", "client:ben", "completed").await;
    let left = [("QueueResult", "bridged"), ("QueueTime", "14")];
    caller(&hub, "CA_q", "in-progress", &left).await;
    caller(&hub, "CA_q", "completed", &[]).await;

    let journal = hub.journal().await;
    assert_eq!(journal.len(), 1, "agent calls stay out: {journal:?}");
    let call = entry(&journal, "CA_q");
    assert_eq!(call["state"], "hangup");
    assert_eq!(call["done"], true);
    assert_eq!(call["answered_by"], "ben");
    assert_eq!(api.received().len(), 2, "nothing else asked of Twilio");
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_waiting_is_missed_and_nobody_else_is_rung() {
    let api = FakeTwilio::start().await;
    let hub = TestHub::start(&config(&api.url)).await;
    let _anna = online_agent(&hub, "anna", "+491701111111").await;
    let _ben = online_agent(&hub, "ben", "client:ben").await;

    voice(&hub, "CA_h", CUSTOMER).await;
    agent_call(&hub, "CA_h", "CA_agent1", "+491701111111", "ringing").await;
    let gave_up = [("QueueResult", "hangup"), ("QueueTime", "12")];
    assert_eq!(caller(&hub, "CA_h", "completed", &gave_up).await, EMPTY);

    let received = api.received();
    assert_eq!(received.len(), 2, "{received:?}");
    let hang_up = &received[1];
    assert_eq!(hang_up.method, Method::POST);
    assert_eq!(
        hang_up.path,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/CA_agent1.json")
    );
    assert_eq!(hang_up.form, [("Status".into(), "completed".into())]);

    agent_call(&hub, "CA_h", "CA_agent1", "+491701111111", "completed").await;
    caller(&hub, "CA_h", "completed", &[]).await;
    assert_eq!(api.created().len(), 1, "nobody else is rung");
    let journal = hub.journal().await;
    assert_eq!(journal.len(), 1);
    let call = entry(&journal, "CA_h");
    assert_eq!(call["state"], "hangup");
    assert_eq!(call["done"], false, "a missed call is open");
    assert_eq!(call["answered_by"], Value::Null);
}

#[tokio::test]
async fn when_every_agent_declined_the_caller_hears_the_message() {
    let api = FakeTwilio::start().await;
    let hub = TestHub::start(&config(&api.url)).await;
    let _anna = online_agent(&hub, "anna", "+491701111111").await;

    voice(&hub, "CA_n", CUSTOMER).await;
    agent_call(&hub, "CA_n", "CA_agent1", "+491701111111", "busy").await;
    let received = api.received();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(
        received[1].path,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/CA_n.json")
    );
    let twiml = received[1].field("Twiml");
    assert!(
        twiml.contains("<Say") && twiml.ends_with("<Hangup/></Response>"),
        "{twiml}"
    );
    caller(&hub, "CA_n", "completed", &[]).await;
    assert_eq!(api.received().len(), 2);
    assert_eq!(entry(&hub.journal().await, "CA_n")["state"], "hangup");
}

#[tokio::test]
async fn blocked_callers_and_callers_nobody_can_take_are_not_queued() {
    let api = FakeTwilio::start().await;
    let hub = TestHub::start(&config(&api.url)).await;

    let twiml = voice(&hub, "CA_alone", CUSTOMER).await;
    assert!(
        twiml.contains("<Say") && twiml.ends_with("<Hangup/></Response>"),
        "nobody online: {twiml}"
    );
    let _anna = online_agent(&hub, "anna", "+491701111111").await;
    let twiml = voice(&hub, "CA_spam", "+491715000000").await;
    assert!(twiml.contains(r#"<Reject reason="busy"/>"#), "{twiml}");
    assert!(api.received().is_empty(), "no agent was called");
    assert_eq!(hub.journal().await.len(), 2);
}

#[tokio::test]
async fn a_replayed_voice_request_calls_no_agent_again() {
    let api = FakeTwilio::start().await;
    let hub = TestHub::start(&config(&api.url)).await;
    let _anna = online_agent(&hub, "anna", "+491701111111").await;

    voice(&hub, "CA_r", CUSTOMER).await;
    assert_eq!(api.created().len(), 1);
    let again = voice(&hub, "CA_r", CUSTOMER).await;

    assert_eq!(
        again,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>"#
    );
    assert_eq!(api.received().len(), 1, "no second agent call");
    assert_eq!(hub.journal().await.len(), 1);
}

#[tokio::test]
async fn an_answer_the_hub_cannot_store_is_an_error_not_twiml() {
    let api = FakeTwilio::start().await;
    let hub = TestHub::start(&format!("{}{}", common::ON_SQLITE, config(&api.url))).await;
    let _ben = online_agent(&hub, "ben", "client:ben").await;
    voice(&hub, "CA_x", CUSTOMER).await;
    agent_call(&hub, "CA_x", "CA_agent1", "client:ben", "in-progress").await;
    // A failing disk: every change to a journal entry is refused.
    let conn =
        rusqlite::Connection::open(hub.dir.path().join("data").join("ringside.sqlite")).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse_updates BEFORE UPDATE ON calls \
         BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    )
    .unwrap();

    let fields = [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", "CA_x"),
        ("CallStatus", "in-progress"),
        ("Direction", "inbound"),
        ("From", CUSTOMER),
        ("To", NUMBER),
        ("QueueSid", "QU5ef8732a3c49700934481addd5ce1659"),
        ("QueueTime", "3"),
        ("DequeingCallSid", "CA_agent1"),
    ];
    let path = path("status");
    let signature = sign(&format!("{PUBLIC_URL}{path}"), &fields);
    let response = hub
        .http
        .post(hub.url(&path))
        .header("X-Twilio-Signature", signature)
        .form(&fields)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 500);
    assert!(response.text().await.unwrap().contains("<Error>"));
    assert_eq!(entry(&hub.journal().await, "CA_x")["state"], "newCall");
}

/// Twilio's Calls API, were it to answer with more than any Call resource: a valid one
/// padded past the hub's 1 MiB bound.
async fn oversized_calls_api() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = axum::Router::new().fallback(|| async {
        let body = json!({"sid": "CA_agent1", "status": "queued", "pad": "x".repeat(2 << 20)});
        (StatusCode::CREATED, axum::Json(body))
    });
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn an_answer_larger_than_any_call_resource_offers_the_call_to_nobody() {
    let api_url = oversized_calls_api().await;
    let hub = TestHub::start(&config(&api_url)).await;
    let _anna = online_agent(&hub, "anna", "+491701111111").await;

    let twiml = voice(&hub, "CA_big", CUSTOMER).await;
    assert!(
        twiml.contains("<Say") && twiml.ends_with("<Hangup/></Response>"),
        "no agent could be offered the call: {twiml}"
    );
}
