//! The Twilio webhooks against the real hub, driven as Twilio drives them: every request
//! signed (`X-Twilio-Signature`, computed here with Twilio's published algorithm over the
//! hub's public URL), the event sequences of providers.md §1.7, checked in the journal and
//! on the stream; refused requests; the block list; who is rung; the Studio endpoints.

mod common;

use common::{call_of, Stream, TestHub};
use ringside_core::call::CallState;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The URL Twilio is configured with; the hub listens elsewhere, as behind a proxy.
const PUBLIC_URL: &str = "https://hub.example";
const TWILIO_TOKEN: &str = "twilio-test-token-0123456789";
const AUTH_TOKEN: &str = "twilio-auth-token-for-tests";
const NUMBER: &str = "+4930600000000";
const CUSTOMER: &str = "+4930609854180";

fn config(flow: &str) -> String {
    format!(
        r#"public_url = "{PUBLIC_URL}"
[inbound]
block = [{{ caller_id = "491715000000", note = "spam" }}]
[twilio]
enabled = true
token = "{TWILIO_TOKEN}"
auth_token = "{AUTH_TOKEN}"
number = "{NUMBER}"
flow = "{flow}"
ring_secs = 20
"#
    )
}

fn sign(key: &str, url: &str, params: &[(&str, &str)]) -> String {
    common::twilio_signature(key, url, params)
}

fn path(endpoint: &str) -> String {
    format!("/api/v1/twilio/{TWILIO_TOKEN}/{endpoint}")
}

/// POSTs signed form fields to a Twilio endpoint; returns status and body.
async fn post(hub: &TestHub, endpoint: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let path = path(endpoint);
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}{path}"), fields);
    send(hub, &path, fields, Some(&signature)).await
}

async fn send(
    hub: &TestHub,
    path: &str,
    fields: &[(&str, &str)],
    signature: Option<&str>,
) -> (u16, String) {
    let mut request = hub.http.post(hub.url(path)).form(fields);
    if let Some(signature) = signature {
        request = request.header("X-Twilio-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The number's voice URL request for a new call.
fn voice(call_sid: &str, from: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef".into()),
        ("ApiVersion", "2010-04-01".into()),
        ("CallSid", call_sid.into()),
        ("CallStatus", "ringing".into()),
        ("Direction", "inbound".into()),
        ("From", from.into()),
        ("Caller", from.into()),
        ("To", NUMBER.into()),
        ("Called", NUMBER.into()),
    ]
}

/// A status callback of a leg the ring-all dialed.
fn leg(leg_sid: &str, parent: &str, to: &str, status: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CallSid", leg_sid.into()),
        ("ParentCallSid", parent.into()),
        ("CallStatus", status.into()),
        ("Direction", "outbound-dial".into()),
        ("From", CUSTOMER.into()),
        ("To", to.into()),
        ("Called", to.into()),
        ("CallbackSource", "call-progress-events".into()),
    ]
}

/// The `<Dial action>` request.
fn dial_ended(parent: &str, status: &str, leg_sid: Option<&str>) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("CallSid", parent.into()),
        ("CallStatus", "in-progress".into()),
        ("Direction", "inbound".into()),
        ("From", CUSTOMER.into()),
        ("To", NUMBER.into()),
        ("DialCallStatus", status.into()),
    ];
    if let Some(leg_sid) = leg_sid {
        fields.push(("DialCallSid", leg_sid.into()));
        fields.push(("DialBridged", "true".into()));
    }
    fields
}

/// The number's status callback once the call is over.
fn parent_completed(parent: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CallSid", parent.into()),
        ("CallStatus", "completed".into()),
        ("Direction", "inbound".into()),
        ("From", CUSTOMER.into()),
        ("To", NUMBER.into()),
        ("CallbackSource", "call-progress-events".into()),
        ("CallDuration", "35".into()),
    ]
}

fn refs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// POSTs one of the requests above, expecting 200.
async fn twilio(hub: &TestHub, endpoint: &str, fields: &[(&'static str, String)]) -> String {
    let (status, body) = post(hub, endpoint, &refs(fields)).await;
    assert_eq!(status, 200, "{endpoint} {fields:?}: {body}");
    body
}

const EMPTY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;

/// Creates an agent with a Twilio identity; returns its token.
async fn agent(hub: &TestHub, login: &str, name: &str, twilio: &str) -> String {
    let body = json!({"login": login, "name": name, "identities": {"twilio": twilio}});
    let (status, created) = hub
        .send("POST", "/api/v1/admin/agents", &hub.admin_token, body)
        .await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().unwrap().to_owned()
}

/// Brings an agent online: a live stream, past its snapshot.
async fn online(hub: &TestHub, token: &str) -> Stream {
    let mut stream = hub.stream(token, None).await;
    stream.next().await;
    stream
}

async fn dnd(hub: &TestHub, token: &str) {
    let (status, body) = hub
        .send("PUT", "/api/v1/me/dnd", token, json!({"dnd": true}))
        .await;
    assert_eq!(status, 200, "{body}");
}

fn entry<'a>(journal: &'a [Value], call_sid: &str) -> &'a Value {
    journal
        .iter()
        .find(|c| c["call_id"] == call_sid)
        .unwrap_or_else(|| panic!("no journal entry {call_sid}"))
}

/// The next call event on a stream, skipping presence.
async fn next_call(stream: &mut Stream) -> ringside_core::call::Call {
    loop {
        if let Some(call) = call_of(&stream.next().await) {
            return call.clone();
        }
    }
}

#[tokio::test]
async fn a_one_agent_answers() {
    let hub = TestHub::start(&config("ring-all")).await;
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let mut stream = online(&hub, &anna).await;

    let twiml = twilio(&hub, "voice", &voice("CA_a", CUSTOMER)).await;
    let status_url = format!("{PUBLIC_URL}{}", path("status"));
    assert_eq!(
        twiml,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
             <Dial callerId=\"{NUMBER}\" timeout=\"20\" action=\"{status_url}\">\
             <Number statusCallback=\"{status_url}\" \
             statusCallbackEvent=\"initiated ringing answered completed\">+491701111111</Number>\
             </Dial></Response>"
        )
    );
    let ringing = next_call(&mut stream).await;
    assert_eq!(ringing.state, CallState::Ringing);
    assert_eq!(ringing.from, CUSTOMER);
    assert_eq!(ringing.offered_to, Some(vec!["anna".to_owned()]));

    for status in ["initiated", "ringing"] {
        let fields = leg("CA_a1", "CA_a", "+491701111111", status);
        assert_eq!(twilio(&hub, "status", &fields).await, EMPTY);
    }
    twilio(
        &hub,
        "status",
        &leg("CA_a1", "CA_a", "+491701111111", "in-progress"),
    )
    .await;
    let answered = next_call(&mut stream).await;
    assert_eq!(answered.state, CallState::Answered);
    assert_eq!(answered.answered_by.as_deref(), Some("anna"));

    twilio(
        &hub,
        "status",
        &leg("CA_a1", "CA_a", "+491701111111", "completed"),
    )
    .await;
    let fields = dial_ended("CA_a", "completed", Some("CA_a1"));
    assert_eq!(twilio(&hub, "status", &fields).await, EMPTY);
    twilio(&hub, "status", &parent_completed("CA_a")).await;
    let ended = next_call(&mut stream).await;
    assert_eq!(ended.state, CallState::Ended);

    let journal = hub.journal().await;
    assert_eq!(journal.len(), 1);
    let call = entry(&journal, "CA_a");
    assert_eq!(call["provider"], "twilio");
    assert_eq!(call["state"], "hangup");
    assert_eq!(call["done"], true);
    assert_eq!(call["comment"], "normalClearing");
    assert_eq!(call["answered_by"], "anna");
    assert_eq!(call["to_comment"], "Anna");
    assert_eq!(call["offered_to"], json!(["anna"]));
    assert!(call["duration_talking_time"].is_i64());
    // Anna is free again; the parent's `completed` changes nothing more.
    while let Some(message) = stream
        .next_within(std::time::Duration::from_millis(300))
        .await
    {
        assert!(call_of(&message).is_none(), "{message:?}");
    }
}

#[tokio::test]
async fn b_missed_when_nobody_answers() {
    let hub = TestHub::start(&config("ring-all")).await;
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let _stream = online(&hub, &anna).await;

    twilio(&hub, "voice", &voice("CA_b", CUSTOMER)).await;
    for status in ["initiated", "ringing", "no-answer"] {
        twilio(
            &hub,
            "status",
            &leg("CA_b1", "CA_b", "+491701111111", status),
        )
        .await;
    }
    assert_eq!(entry(&hub.journal().await, "CA_b")["state"], "newCall");
    let twiml = twilio(&hub, "status", &dial_ended("CA_b", "no-answer", None)).await;
    assert_eq!(
        twiml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
         <Say voice=\"alice\" language=\"en-US\">No agent is available at the moment. \
         Please try again later. Goodbye.</Say><Hangup/></Response>"
    );
    twilio(&hub, "status", &parent_completed("CA_b")).await;

    let journal = hub.journal().await;
    let call = entry(&journal, "CA_b");
    assert_eq!(call["state"], "hangup");
    assert_eq!(call["done"], false, "a missed call is open");
    assert_eq!(call["comment"], "noAnswer");
    assert_eq!(call["answered_by"], Value::Null);
    assert!(call["duration_talking_time"].is_null());
}

#[tokio::test]
async fn c_ring_all_the_second_answers_and_the_others_are_canceled() {
    let hub = TestHub::start(&config("ring-all")).await;
    let mut streams = Vec::new();
    for (login, name, identity) in [
        ("anna", "Anna", "+491701111111"),
        ("ben", "Ben", "client:ben"),
        ("carl", "Carl", "0170 3333333"),
    ] {
        let token = agent(&hub, login, name, identity).await;
        streams.push(online(&hub, &token).await);
    }

    let twiml = twilio(&hub, "voice", &voice("CA_c", CUSTOMER)).await;
    assert_eq!(twiml.matches("statusCallback=").count(), 3, "{twiml}");
    assert!(twiml.contains(">+491701111111</Number>"), "{twiml}");
    assert!(twiml.contains(">ben</Client>"), "{twiml}");
    assert!(
        twiml.contains(">+491703333333</Number>"),
        "a national identity is dialed in E.164: {twiml}"
    );

    let legs = [
        ("CA_c1", "+491701111111"),
        ("CA_c2", "client:ben"),
        ("CA_c3", "+491703333333"),
    ];
    for status in ["initiated", "ringing"] {
        for (sid, to) in legs {
            twilio(&hub, "status", &leg(sid, "CA_c", to, status)).await;
        }
    }
    twilio(
        &hub,
        "status",
        &leg("CA_c2", "CA_c", "client:ben", "in-progress"),
    )
    .await;
    for (sid, to) in [legs[0], legs[2]] {
        let answer = twilio(&hub, "status", &leg(sid, "CA_c", to, "canceled")).await;
        assert_eq!(answer, EMPTY);
    }
    let journal = hub.journal().await;
    let call = entry(&journal, "CA_c");
    assert_eq!(call["state"], "answer", "losing legs do not end the call");
    assert_eq!(call["answered_by"], "ben");
    assert_eq!(call["to_comment"], "Ben");

    // Ben is on the call: a second caller rings only the others.
    let second = twilio(&hub, "voice", &voice("CA_d", "+4989123456")).await;
    assert!(!second.contains("ben"), "{second}");
    assert_eq!(second.matches("<Number ").count(), 2, "{second}");

    twilio(
        &hub,
        "status",
        &leg("CA_c2", "CA_c", "client:ben", "completed"),
    )
    .await;
    twilio(
        &hub,
        "status",
        &dial_ended("CA_c", "completed", Some("CA_c2")),
    )
    .await;
    twilio(&hub, "status", &parent_completed("CA_c")).await;

    let journal = hub.journal().await;
    let call = entry(&journal, "CA_c");
    assert_eq!(call["state"], "hangup");
    assert_eq!(call["done"], true);
    assert_eq!(call["comment"], "normalClearing");
    assert_eq!(call["answered_by"], "ben");
    assert_eq!(call["offered_to"], json!(["anna", "ben", "carl"]));
    assert_eq!(
        entry(&journal, "CA_d")["offered_to"],
        json!(["anna", "carl"])
    );
}

#[tokio::test]
async fn unsigned_and_forged_requests_are_refused_and_store_nothing() {
    let hub = TestHub::start(&config("ring-all")).await;
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let _stream = online(&hub, &anna).await;
    let fields = voice("CA_forged", CUSTOMER);
    let fields = refs(&fields);
    let voice_path = path("voice");
    let public = format!("{PUBLIC_URL}{voice_path}");

    let (status, body) = send(&hub, &voice_path, &fields, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body.contains("<Error>the X-Twilio-Signature header is missing"),
        "{body}"
    );

    let forgeries = [
        (
            "another auth token",
            sign("not-the-auth-token", &public, &fields),
        ),
        (
            "the hub's own address",
            sign(AUTH_TOKEN, &hub.url(&voice_path), &fields),
        ),
        (
            "other parameters",
            sign(AUTH_TOKEN, &public, &refs(&voice("CA_other", CUSTOMER))),
        ),
        ("not base64", "%%%".to_owned()),
    ];
    for (what, signature) in forgeries {
        let (status, body) = send(&hub, &voice_path, &fields, Some(&signature)).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(body.contains("X-Twilio-Signature"), "{what}: {body}");
    }

    let status_path = path("status");
    let status_fields = parent_completed("CA_forged");
    let status_fields = refs(&status_fields);
    let (status, _) = send(&hub, &status_path, &status_fields, None).await;
    assert_eq!(status, 401);

    let wrong_token = "/api/v1/twilio/not-the-token-at-all/voice";
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}{wrong_token}"), &fields);
    let (status, body) = send(&hub, wrong_token, &fields, Some(&signature)).await;
    assert_eq!(status, 401);
    assert!(
        body.contains("Invalid token, please contact your admin!"),
        "{body}"
    );

    assert!(hub.journal().await.is_empty(), "nothing stored");
    let (_, log) = hub.get("/api/v1/admin/webhook-log", &hub.admin_token).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 7);
    assert!(log
        .iter()
        .all(|e| e["endpoint"] == "twilio" && e["status"] == 401));
    assert!(
        !log[0]["request"].as_str().unwrap().contains("CallSid"),
        "nothing of a body refused at the gate is kept"
    );
    assert!(log[1]["request"].as_str().unwrap().contains("CallSid"));
}

#[tokio::test]
async fn a_blocked_caller_is_rejected_as_busy_before_anything_else() {
    let hub = TestHub::start(&config("ring-all")).await;
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let _stream = online(&hub, &anna).await;

    let twiml = twilio(&hub, "voice", &voice("CA_spam", "+491715000000")).await;
    assert_eq!(
        twiml,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>"#
    );
    let journal = hub.journal().await;
    let call = entry(&journal, "CA_spam");
    assert_eq!(call["offered_to"], json!([]), "nobody is bothered");
}

#[tokio::test]
async fn nobody_available_hears_the_message() {
    let hub = TestHub::start(&config("ring-all")).await;
    let nobody = "<Say voice=\"alice\" language=\"en-US\">No agent is available";
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let ben = agent(&hub, "ben", "Ben", "client:ben").await;

    let twiml = twilio(&hub, "voice", &voice("CA_offline", CUSTOMER)).await;
    assert!(
        twiml.contains(nobody) && twiml.ends_with("<Hangup/></Response>"),
        "{twiml}"
    );

    let _streams = [online(&hub, &anna).await, online(&hub, &ben).await];
    dnd(&hub, &anna).await;
    dnd(&hub, &ben).await;
    let twiml = twilio(&hub, "voice", &voice("CA_dnd", CUSTOMER)).await;
    assert!(
        twiml.contains(nobody) && twiml.ends_with("<Hangup/></Response>"),
        "{twiml}"
    );
    assert!(!twiml.contains("<Dial"), "{twiml}");
    assert_eq!(hub.journal().await.len(), 2, "the calls are in the journal");
}

#[tokio::test]
async fn dnd_agents_and_the_caller_are_not_rung() {
    let hub = TestHub::start(&config("ring-all")).await;
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let ben = agent(&hub, "ben", "Ben", "client:ben").await;
    let carl = agent(&hub, "carl", "Carl", "0170 3333333").await;
    let _streams = [
        online(&hub, &anna).await,
        online(&hub, &ben).await,
        online(&hub, &carl).await,
    ];
    dnd(&hub, &anna).await;

    // Carl calls the support line from his own phone.
    let twiml = twilio(&hub, "voice", &voice("CA_carl", "+491703333333")).await;
    assert!(twiml.contains(">ben</Client>"), "{twiml}");
    assert!(!twiml.contains("+491701111111"), "DND: {twiml}");
    assert!(!twiml.contains("+491703333333</Number>"), "caller: {twiml}");
    let journal = hub.journal().await;
    assert_eq!(entry(&journal, "CA_carl")["offered_to"], json!(["ben"]));

    // Ben calls from his Twilio Client.
    let twiml = twilio(&hub, "voice", &voice("CA_ben", "client:ben")).await;
    assert!(twiml.contains(">+491703333333</Number>"), "{twiml}");
    assert!(!twiml.contains("<Client"), "{twiml}");
}

#[tokio::test]
async fn studio_lists_available_agents_and_records_events() {
    let hub = TestHub::start(&config("studio")).await;
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let ben = agent(&hub, "ben", "Ben", "client:ben").await;
    let carl = agent(&hub, "carl", "Carl", "+491703333333").await;
    let _streams = [
        online(&hub, &anna).await,
        online(&hub, &ben).await,
        online(&hub, &carl).await,
    ];
    dnd(&hub, &carl).await;

    // GET, signed over the URL with its query, as a Studio widget requests it.
    let get_path = format!("{}?From=%2B491701111111", path("agents"));
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}{get_path}"), &[]);
    let response = hub
        .http
        .get(hub.url(&get_path))
        .header("X-Twilio-Signature", signature)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"agents": [{"login": "ben", "name": "Ben", "target": "client:ben"}]})
    );
    let (status, body) = post(&hub, "agents", &[("CallSid", "CA_s")]).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"agents": [
            {"login": "anna", "name": "Anna", "target": "+491701111111"},
            {"login": "ben", "name": "Ben", "target": "client:ben"},
        ]})
    );
    let (status, body) = send(&hub, &path("agents"), &[], None).await;
    assert_eq!(status, 401);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["error"].is_string());

    // Events: Twilio's parameters, answered in JSON.
    let (status, body) = post(&hub, "events", &refs(&voice("CA_s", CUSTOMER))).await;
    assert_eq!((status, body.as_str()), (200, "{}"));
    let (_, body) = post(&hub, "events", &refs(&voice("CA_spam", "+491715000000"))).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"action": "reject", "reason": "busy"})
    );
    post(
        &hub,
        "events",
        &refs(&leg("CA_s1", "CA_s", "client:ben", "in-progress")),
    )
    .await;

    // A JSON body is signed through the URL's bodySHA256.
    let body = json!({
        "CallSid": "CA_s", "CallStatus": "completed", "Direction": "inbound",
        "From": CUSTOMER, "To": NUMBER,
    })
    .to_string();
    let hash: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let json_path = format!("{}?bodySHA256={hash}", path("events"));
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}{json_path}"), &[]);
    let response = hub
        .http
        .post(hub.url(&json_path))
        .header("content-type", "application/json")
        .header("X-Twilio-Signature", &signature)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let tampered = hub
        .http
        .post(hub.url(&json_path))
        .header("content-type", "application/json")
        .header("X-Twilio-Signature", &signature)
        .body(body.replace("completed", "busy"))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);

    let journal = hub.journal().await;
    let call = entry(&journal, "CA_s");
    assert_eq!(call["state"], "hangup");
    assert_eq!(call["answered_by"], "ben");
    assert_eq!(call["done"], true);

    // The voice URL is not Studio's: the caller hears the message.
    let twiml = twilio(&hub, "voice", &voice("CA_v", CUSTOMER)).await;
    assert!(
        twiml.contains("<Say") && !twiml.contains("<Dial"),
        "{twiml}"
    );
}

const REJECT_BUSY: &str =
    r#"<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>"#;

#[tokio::test]
async fn a_replayed_voice_request_rings_nobody_again() {
    let hub = TestHub::start(&config("ring-all")).await;
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let mut stream = online(&hub, &anna).await;

    let first = twilio(&hub, "voice", &voice("CA_r", CUSTOMER)).await;
    assert!(first.contains(">+491701111111</Number>"), "{first}");
    assert_eq!(next_call(&mut stream).await.state, CallState::Ringing);

    // The same correctly signed request again, as a replay or a retry sends it.
    let again = twilio(&hub, "voice", &voice("CA_r", CUSTOMER)).await;
    assert_eq!(again, REJECT_BUSY, "nobody is rung again");
    let journal = hub.journal().await;
    assert_eq!(journal.len(), 1);
    assert_eq!(entry(&journal, "CA_r")["state"], "newCall");

    // The call goes on as the first answer said: the next event on the stream is Anna
    // answering, not a second ringing (which would pop up again).
    let answered = leg("CA_r1", "CA_r", "+491701111111", "in-progress");
    twilio(&hub, "status", &answered).await;
    let next = next_call(&mut stream).await;
    assert_eq!(next.state, CallState::Answered, "no second popup: {next:?}");
}

/// Makes the hub's database refuse every change to a journal entry, as a full or failing
/// disk would, through a second connection to the hub's real SQLite file.
fn refuse_journal_updates(hub: &TestHub) {
    let path = hub.dir.path().join("data").join("ringside.sqlite");
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse_updates BEFORE UPDATE ON calls \
         BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    )
    .unwrap();
}

#[tokio::test]
async fn a_dial_outcome_the_hub_cannot_store_is_an_error_not_twiml() {
    let hub = TestHub::start(&format!("{}{}", common::ON_SQLITE, config("ring-all"))).await;
    let anna = agent(&hub, "anna", "Anna", "+491701111111").await;
    let _stream = online(&hub, &anna).await;
    twilio(&hub, "voice", &voice("CA_f", CUSTOMER)).await;
    refuse_journal_updates(&hub);

    let (status, body) = post(
        &hub,
        "status",
        &refs(&dial_ended("CA_f", "no-answer", None)),
    )
    .await;

    assert_eq!(status, 500, "{body}");
    assert!(body.contains("<Error>"), "{body}");
    let journal = hub.journal().await;
    assert_eq!(
        entry(&journal, "CA_f")["state"],
        "newCall",
        "nothing stored"
    );
}

#[tokio::test]
async fn a_refused_signature_is_logged_without_the_webhook_token() {
    let (logs, _capture) = common::Logs::capture();
    let hub = TestHub::start(&config("ring-all")).await;

    let fields = voice("CA_forged", CUSTOMER);
    let (status, _) = send(&hub, &path("voice"), &refs(&fields), Some("Zm9yZ2Vk")).await;

    assert_eq!(status, 401);
    let text = logs.text();
    assert!(
        text.contains("https://hub.example/api/v1/twilio/<token>/voice"),
        "the log says which endpoint: {text}"
    );
    assert!(!text.contains(TWILIO_TOKEN), "{text}");
}
