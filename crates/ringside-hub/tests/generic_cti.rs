//! The generic CTI webhook against the real hub: Zammad's answers, status codes and caller
//! log rules (reference: zammad-cti.md §1–§5), and Ringside's deliberate improvements.

mod common;

use common::{TestHub, GENERIC_ON, TOKEN};
use serde_json::{json, Value};

/// Zammad's request-spec fixture (§10).
const ZAMMAD_FIXTURE: &str = r#"
[inbound]
block = [{ caller_id = "491715000000", note = "some note" }]
[outbound]
default_caller_id = "4930777000000"
routes = [
  { dest = "41*", caller_id = "41715880339000" },
  { dest = "491714000000", caller_id = "41715880339000" },
]
"#;

/// Form fields of one webhook request.
type Fields<'a> = &'a [(&'a str, &'a str)];

fn by_call_id<'a>(journal: &'a [Value], call_id: &str) -> &'a Value {
    journal
        .iter()
        .find(|c| c["call_id"] == call_id)
        .unwrap_or_else(|| panic!("no journal entry {call_id}"))
}

#[tokio::test]
async fn disabled_unconfigured_and_wrong_token_answer_like_zammad() {
    let disabled = TestHub::start_in(tempfile::tempdir().unwrap(), "").await;
    let (status, body) = disabled
        .cti(&[("event", "newCall"), ("direction", "in")])
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body,
        json!({"error": "Feature is disabled, please contact your administrator!"})
    );

    let hub = TestHub::start("").await;
    let response = hub
        .http
        .post(hub.url("/api/v1/cti/not-the-token"))
        .form(&[("event", "newCall"), ("direction", "in")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"error": "Invalid token, please contact your admin!"})
    );
    assert!(hub.journal().await.is_empty());
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let hub = TestHub::start("").await;
    let cases: Vec<(Fields, u16, &str)> = vec![
        (
            &[("event", "newCall"), ("direction", "sideways"), ("callId", "1")],
            422,
            "Invalid 'direction'!",
        ),
        (
            &[("event", "newCall"), ("callId", "1"), ("from", "1"), ("to", "2")],
            422,
            "Invalid 'direction'!",
        ),
        (
            &[("event", "ring"), ("direction", "in"), ("callId", "1")],
            422,
            "Unknown event \"ring\"",
        ),
        (
            &[("event", "newCall"), ("direction", "in"), ("callId", "1"), ("from", "491711234567")],
            422,
            "'newCall' needs both 'from' and 'to'",
        ),
        (
            &[("event", "newCall"), ("direction", "in"), ("from", "4917"), ("to", "4930")],
            422,
            "missing 'callId' (or 'call_id')",
        ),
        (
            &[("event", "answer"), ("direction", "in"), ("callId", "ghost")],
            422,
            "No such call_id ghost; to create it, the event must carry 'direction', 'from' and 'to'",
        ),
    ];
    for (fields, status, error) in cases {
        let (got, body) = hub.cti(fields).await;
        assert_eq!(
            (got, body),
            (status, json!({ "error": error })),
            "{fields:?}"
        );
    }

    let url = hub.url(&format!("/api/v1/cti/{TOKEN}"));
    let broken = hub
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"event\": \"newCall\",")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let error: Value = broken.json().await.unwrap();
    assert!(error["error"]
        .as_str()
        .unwrap()
        .starts_with("the body is not valid JSON"));

    let huge = hub
        .http
        .post(&url)
        .form(&[("event", "newCall"), ("note", &"x".repeat(100_000))])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let error: Value = huge.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("length limit"),
        "{error}"
    );

    assert!(hub.journal().await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn fields_longer_than_any_real_one_are_refused_and_store_nothing() {
    let hub = TestHub::start("").await;
    let new_call = [
        ("event", "newCall"),
        ("direction", "in"),
        ("callId", "1"),
        ("from", "491711234567"),
        ("to", "4930600000000"),
    ];
    let long_number = "4".repeat(257);
    let long_id = "c".repeat(257);
    let long_name = "Anna ".repeat(52);
    for (field, value) in [
        ("from", &long_number),
        ("to", &long_number),
        ("answeringNumber", &long_number),
        ("callId", &long_id),
        ("user", &long_name),
        ("queue", &long_name),
    ] {
        let mut fields: Vec<(&str, &str)> = new_call
            .iter()
            .filter(|(k, _)| *k != field)
            .copied()
            .collect();
        fields.push((field, value));
        let (status, body) = hub.cti(&fields).await;
        assert_eq!(
            (status, body),
            (
                422,
                json!({ "error": format!("\"{field}\" is longer than 256 characters") })
            ),
        );
    }
    let users: Vec<(&str, &str)> = (0..101).map(|_| ("user[]", "Anna")).collect();
    let (status, body) = hub.cti(&[&new_call[..], &users].concat()).await;
    assert_eq!(
        (status, body),
        (
            422,
            json!({ "error": "more than 100 values of \"user[]\"" })
        )
    );
    assert!(hub.journal().await.is_empty(), "nothing stored");

    // At the bound, it is a real call.
    let at_bound = "4".repeat(256);
    let mut fields = new_call.to_vec();
    fields.retain(|(k, _)| *k != "to");
    fields.push(("to", &at_bound));
    assert_eq!(hub.cti(&fields).await, (200, json!({})));
}

#[tokio::test]
async fn journal_follows_zammads_caller_log_rules() {
    let hub = TestHub::start("").await;
    let call = |id: &'static str, event: &'static str, direction: &'static str| {
        vec![
            ("event", event),
            ("direction", direction),
            ("callId", id),
            ("from", "4930609854180"),
            ("to", "4930600000000"),
        ]
    };
    let with = |mut fields: Vec<(&'static str, &'static str)>,
                extra: &[(&'static str, &'static str)]| {
        fields.extend_from_slice(extra);
        fields
    };
    // answered
    hub.cti(&with(
        call("answered", "newCall", "in"),
        &[("user", "Anna"), ("queue", "support")],
    ))
    .await;
    hub.cti(&with(call("answered", "answer", "in"), &[("user", "Ben")]))
        .await;
    hub.cti(&with(
        call("answered", "hangup", "in"),
        &[("cause", "normalClearing")],
    ))
    .await;
    // missed
    hub.cti(&call("missed", "newCall", "in")).await;
    hub.cti(&with(
        call("missed", "hangup", "in"),
        &[("cause", "cancel")],
    ))
    .await;
    // voicemail
    hub.cti(&call("voicemail", "newCall", "in")).await;
    hub.cti(&with(
        call("voicemail", "answer", "in"),
        &[("user", "voicemail")],
    ))
    .await;
    let after_answer = hub.journal().await;
    assert_eq!(by_call_id(&after_answer, "voicemail")["done"], true);
    hub.cti(&call("voicemail", "hangup", "in")).await;
    // forwarded
    hub.cti(&call("forwarded", "newCall", "in")).await;
    hub.cti(&with(
        call("forwarded", "hangup", "in"),
        &[("cause", "forwarded")],
    ))
    .await;
    // ringing
    hub.cti(&call("ringing", "newCall", "in")).await;

    let journal = hub.journal().await;
    let answered = by_call_id(&journal, "answered");
    assert_eq!(answered["state"], "hangup");
    assert_eq!(answered["done"], true);
    assert_eq!(answered["queue"], "support");
    assert_eq!(answered["to_comment"], "Ben");
    assert_eq!(answered["comment"], "normalClearing");
    assert!(answered["duration_waiting_time"].is_i64());
    assert!(answered["duration_talking_time"].is_i64());
    assert_eq!(answered["from_pretty"], "+49 30 609854180");

    let missed = by_call_id(&journal, "missed");
    assert_eq!(missed["done"], false);
    assert_eq!(missed["comment"], "cancel");
    assert!(missed["duration_waiting_time"].is_i64());
    assert!(missed["duration_talking_time"].is_null());
    assert_eq!(missed["queue"], "4930600000000");

    assert_eq!(by_call_id(&journal, "voicemail")["done"], false);
    assert_eq!(by_call_id(&journal, "forwarded")["done"], true);
    let ringing = by_call_id(&journal, "ringing");
    assert_eq!(ringing["state"], "newCall");
    assert_eq!(ringing["done"], false);

    assert_eq!(journal[0]["call_id"], "ringing", "newest first");
}

#[tokio::test]
async fn an_inbound_call_for_a_queue_and_no_user_shows_the_queue() {
    let hub = TestHub::start("").await;
    let ring = |id: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut fields = vec![
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", id),
            ("from", "4930609854180"),
            ("to", "4930600000000"),
            ("queue", "support"),
        ];
        fields.extend_from_slice(extra);
        fields
    };
    hub.cti(&ring("no-user", &[])).await;
    hub.cti(&ring("empty-user", &[("user", "")])).await;
    hub.cti(&ring("empty-user-list", &[("user[]", "")])).await;
    hub.cti(&ring("user", &[("user", "Anna")])).await;

    let journal = hub.journal().await;
    for id in ["no-user", "empty-user", "empty-user-list"] {
        assert_eq!(by_call_id(&journal, id)["to_comment"], "support", "{id}");
    }
    assert_eq!(by_call_id(&journal, "user")["to_comment"], "Anna");
}

#[tokio::test]
async fn outbound_calls_are_done_and_get_the_routed_caller_id() {
    let hub = TestHub::start(ZAMMAD_FIXTURE).await;
    let (status, body) = hub
        .cti(&[
            ("event", "newCall"),
            ("direction", "out"),
            ("callId", "out-ch"),
            ("from", "4930600000000"),
            ("to", "4147110000000"),
            ("user", "Anna"),
        ])
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"action": "dial", "caller_id": "41715880339000", "number": "4147110000000"})
    );
    let (_, body) = hub
        .cti(&[
            ("event", "newCall"),
            ("direction", "out"),
            ("callId", "out-default"),
            ("from", "4930600000000"),
            ("to", "4912347114711"),
        ])
        .await;
    assert_eq!(
        body,
        json!({"action": "dial", "caller_id": "4930777000000", "number": "4912347114711"})
    );
    hub.cti(&[
        ("event", "hangup"),
        ("direction", "out"),
        ("callId", "out-ch"),
        ("cause", "busy"),
    ])
    .await;

    let journal = hub.journal().await;
    let routed = by_call_id(&journal, "out-ch");
    assert_eq!(
        routed["from"], "41715880339000",
        "from is the caller ID used"
    );
    assert_eq!(routed["queue"], "41715880339000");
    assert_eq!(routed["from_comment"], "Anna");
    assert_eq!(routed["done"], true);
    assert_eq!(routed["comment"], "busy");
    assert_eq!(
        by_call_id(&journal, "out-default")["queue"],
        "4930777000000"
    );
}

#[tokio::test]
async fn blocked_caller_is_rejected_logged_and_offered_to_nobody() {
    let hub = TestHub::start(ZAMMAD_FIXTURE).await;
    for (call_id, from) in [
        ("blocked-raw", "491715000000"),
        ("blocked-plus", "+491715000000"),
    ] {
        let (status, body) = hub
            .cti(&[
                ("event", "newCall"),
                ("direction", "in"),
                ("callId", call_id),
                ("from", from),
                ("to", "4930600000000"),
            ])
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"action": "reject", "reason": "busy"}),
            "{from}"
        );
    }
    let (_, body) = hub
        .cti(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", "welcome"),
            ("from", "491715000001"),
            ("to", "4930600000000"),
        ])
        .await;
    assert_eq!(body, json!({}));
    let journal = hub.journal().await;
    let blocked = by_call_id(&journal, "blocked-raw");
    assert_eq!(blocked["state"], "newCall");
    assert_eq!(blocked["done"], false);
    assert_eq!(blocked["offered_to"], json!([]));
    assert_eq!(by_call_id(&journal, "welcome")["offered_to"], Value::Null);
}

#[tokio::test]
async fn repeated_and_reordered_events_are_harmless() {
    let hub = TestHub::start("").await;
    let base = [
        ("direction", "in"),
        ("callId", "c1"),
        ("from", "4912347114711"),
        ("to", "4930600000000"),
    ];
    let event = |name: &'static str| {
        let mut fields = vec![("event", name)];
        fields.extend_from_slice(&base);
        fields
    };
    assert_eq!(hub.cti(&event("newCall")).await, (200, json!({})));
    assert_eq!(
        hub.cti(&event("newCall")).await,
        (200, json!({})),
        "a PBX retry"
    );
    assert_eq!(hub.journal().await.len(), 1);

    let mut hangup = event("hangup");
    hangup.push(("cause", "cancel"));
    assert_eq!(hub.cti(&hangup).await.0, 200);
    assert_eq!(
        hub.cti(&event("answer")).await.0,
        200,
        "late answer accepted"
    );
    assert_eq!(hub.cti(&hangup).await.0, 200, "second hangup accepted");
    let journal = hub.journal().await;
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0]["state"], "hangup");
    assert_eq!(journal[0]["done"], false, "still a missed call");
    assert!(journal[0]["start_at"].is_null());

    // A hangup for a call the hub never saw, with enough to create it.
    let late = [
        ("event", "hangup"),
        ("direction", "in"),
        ("call_id", "never-rang"),
        ("from", "4912347114711"),
        ("to", "4930600000000"),
        ("cause", "cancel"),
    ];
    assert_eq!(hub.cti(&late).await, (200, json!({})));
    let journal = hub.journal().await;
    let created = by_call_id(&journal, "never-rang");
    assert_eq!(created["state"], "hangup");
    assert_eq!(created["done"], false);
}

#[tokio::test]
async fn json_bodies_and_user_arrays_work_like_forms() {
    let hub = TestHub::start("").await;
    let response = hub
        .http
        .post(hub.url(&format!("/api/v1/cti/{TOKEN}")))
        .json(&json!({
            "event": "newCall", "direction": "in", "callId": "json-1",
            "from": "4912347114711", "to": "4930600000000", "user": ["Anna", "Ben"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let form = [
        ("event", "newCall"),
        ("direction", "in"),
        ("callId", "form-1"),
        ("from", "4912347114711"),
        ("to", "4930600000000"),
        ("user[]", "Anna"),
        ("user[]", "Ben"),
    ];
    assert_eq!(hub.cti(&form).await.0, 200);
    let journal = hub.journal().await;
    assert_eq!(by_call_id(&journal, "json-1")["to_comment"], "Anna, Ben");
    assert_eq!(by_call_id(&journal, "form-1")["to_comment"], "Anna, Ben");
}

#[tokio::test]
async fn answering_agent_is_found_by_number_or_login() {
    let hub = TestHub::start("").await;
    hub.agent("anna", false, &["030 600000001"]).await;
    hub.agent("ben", false, &[]).await;
    for (id, extra) in [
        ("by-number", ("answeringNumber", "4930600000001")),
        ("by-login", ("user", "Ben")),
    ] {
        let base = [
            ("direction", "in"),
            ("callId", id),
            ("from", "4912347114711"),
            ("to", "4930600000000"),
        ];
        let mut ring = vec![("event", "newCall")];
        ring.extend_from_slice(&base);
        hub.cti(&ring).await;
        let mut answer = vec![("event", "answer"), extra];
        answer.extend_from_slice(&base);
        hub.cti(&answer).await;
    }
    let journal = hub.journal().await;
    assert_eq!(by_call_id(&journal, "by-number")["answered_by"], "anna");
    assert_eq!(by_call_id(&journal, "by-login")["answered_by"], "ben");

    let (_, agents) = hub.get("/api/v1/agents", &hub.admin_token).await;
    let anna = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["login"] == "anna")
        .unwrap();
    assert_eq!(anna["on_call"]["with"], "4912347114711");
}

#[tokio::test]
async fn webhook_log_shows_requests_to_admins_only() {
    let hub = TestHub::start("").await;
    hub.cti(&[("event", "nope"), ("direction", "in"), ("callId", "1")])
        .await;
    let (status, log) = hub.get("/api/v1/admin/webhook-log", &hub.admin_token).await;
    assert_eq!(status, 200);
    let entry = &log[0];
    assert_eq!(entry["status"], 422);
    assert_eq!(entry["endpoint"], "generic");
    assert!(entry["request"].as_str().unwrap().contains("event=nope"));
    assert!(entry["response"]
        .as_str()
        .unwrap()
        .contains("Unknown event"));

    // Without the token, nothing of the body is kept.
    hub.http
        .post(hub.url("/api/v1/cti/not-the-token"))
        .body("junk for the admin's log")
        .send()
        .await
        .unwrap();
    let (_, log) = hub.get("/api/v1/admin/webhook-log", &hub.admin_token).await;
    assert_eq!(log[0]["status"], 401);
    assert!(!log[0]["request"].as_str().unwrap().contains("junk"));

    let agent = hub.agent("anna", false, &[]).await;
    let (status, body) = hub.get("/api/v1/admin/webhook-log", &agent).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "forbidden");
}

#[tokio::test]
async fn the_generic_section_can_be_switched_off_by_config() {
    let hub = TestHub::start_in(
        tempfile::tempdir().unwrap(),
        &GENERIC_ON.replace("enabled = true", "enabled = false"),
    )
    .await;
    let (status, _) = hub.cti(&[("event", "newCall"), ("direction", "in")]).await;
    assert_eq!(status, 422);
}
