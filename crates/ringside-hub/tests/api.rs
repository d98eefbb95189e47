//! The agent and admin API against the real hub: the journal with paging, filters and done
//! flags, caller lookup, tokens, errors, and the OpenAPI description matching the routes.

mod common;

use common::TestHub;
use serde_json::{json, Value};

async fn ring_and_hang_up(hub: &TestHub, call_id: &str, answered_by: Option<&str>) {
    let base = [
        ("direction", "in"),
        ("callId", call_id),
        ("from", "4930609854180"),
        ("to", "4930600000000"),
    ];
    let send = |event: &'static str, extra: Option<(&'static str, &'static str)>| {
        let mut fields: Vec<(&str, &str)> = vec![("event", event)];
        fields.extend_from_slice(&base);
        fields.extend(extra);
        fields
    };
    hub.cti(&send("newCall", None)).await;
    if let Some(user) = answered_by {
        let mut answer = send("answer", None);
        answer.push(("user", user));
        hub.cti(&answer).await;
    }
    hub.cti(&send("hangup", Some(("cause", "cancel")))).await;
}

#[tokio::test]
async fn journal_pages_newest_first_without_overlap() {
    let hub = TestHub::start("").await;
    for n in 0..5 {
        ring_and_hang_up(&hub, &format!("c{n}"), None).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/journal?limit=2".to_owned();
    loop {
        let (status, page) = hub.get(&path, &hub.admin_token).await;
        assert_eq!(status, 200);
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= 2);
        seen.extend(
            entries
                .iter()
                .map(|e| e["call_id"].as_str().unwrap().to_owned()),
        );
        match page["next_before"].as_i64() {
            Some(before) => path = format!("/api/v1/journal?limit=2&before={before}"),
            None => break,
        }
    }
    assert_eq!(seen, vec!["c4", "c3", "c2", "c1", "c0"]);

    let (status, error) = hub.get("/api/v1/journal?limit=0", &hub.admin_token).await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], "bad_request");
    let (status, error) = hub
        .get("/api/v1/journal?filter=odd", &hub.admin_token)
        .await;
    assert_eq!(status, 400);
    assert!(
        error["error"].as_str().unwrap().contains("filter"),
        "{error}"
    );
}

#[tokio::test]
async fn journal_filters_missed_and_mine() {
    let hub = TestHub::start("").await;
    let anna = hub.agent("anna", false, &[]).await;
    ring_and_hang_up(&hub, "missed", None).await;
    ring_and_hang_up(&hub, "annas", Some("anna")).await;
    let ids = |page: Value| -> Vec<String> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["call_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, missed) = hub.get("/api/v1/journal?filter=missed", &anna).await;
    assert_eq!(ids(missed), vec!["missed"]);
    let (_, mine) = hub.get("/api/v1/journal?filter=mine", &anna).await;
    assert_eq!(ids(mine), vec!["annas"]);
    let (_, all) = hub.get("/api/v1/journal", &anna).await;
    assert_eq!(ids(all), vec!["annas", "missed"]);
}

#[tokio::test]
async fn entries_are_marked_done_one_by_one_or_in_bulk() {
    let hub = TestHub::start("").await;
    let anna = hub.agent("anna", false, &[]).await;
    for n in 0..3 {
        ring_and_hang_up(&hub, &format!("m{n}"), None).await;
    }
    let journal = hub.journal().await;
    let ids: Vec<i64> = journal.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(journal.iter().all(|e| e["done"] == false));

    let (status, entry) = hub
        .send(
            "POST",
            &format!("/api/v1/journal/{}/done", ids[0]),
            &anna,
            json!({"done": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(entry["done"], true);
    let (_, entry) = hub
        .send(
            "POST",
            &format!("/api/v1/journal/{}/done", ids[0]),
            &anna,
            json!({"done": false}),
        )
        .await;
    assert_eq!(entry["done"], false);

    let (status, body) = hub
        .send("POST", "/api/v1/journal/done", &anna, json!({"ids": ids}))
        .await;
    assert_eq!((status, body), (200, json!({"updated": 3})));
    assert!(hub.journal().await.iter().all(|e| e["done"] == true));

    let (status, body) = hub
        .send(
            "POST",
            "/api/v1/journal/999999/done",
            &anna,
            json!({"done": true}),
        )
        .await;
    assert_eq!((status, body["code"].clone()), (404, json!("not_found")));
    let (status, body) = hub
        .send(
            "POST",
            &format!("/api/v1/journal/{}/done", ids[1]),
            &anna,
            json!({"done": "yes"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], "bad_request");
}

#[tokio::test]
async fn tokens_are_required_and_can_be_replaced() {
    let hub = TestHub::start("").await;
    let response = hub.http.get(hub.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized");

    let old = hub.agent("anna", false, &[]).await;
    assert_eq!(hub.get("/api/v1/me", &old).await.0, 200);
    let (status, body) = hub
        .send(
            "POST",
            "/api/v1/admin/agents/anna/token",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let new = body["token"].as_str().unwrap();
    assert_eq!(
        hub.get("/api/v1/me", &old).await.0,
        401,
        "the old token is revoked"
    );
    let (status, me) = hub.get("/api/v1/me", new).await;
    assert_eq!((status, me["login"].clone()), (200, json!("anna")));

    let (status, _) = hub
        .send("POST", "/api/v1/admin/agents/anna/token", new, json!({}))
        .await;
    assert_eq!(status, 403, "agents cannot mint tokens");
    let (status, body) = hub
        .send(
            "POST",
            "/api/v1/admin/agents/nobody/token",
            &hub.admin_token,
            json!({}),
        )
        .await;
    assert_eq!((status, body["code"].clone()), (404, json!("not_found")));
}

#[tokio::test]
async fn agents_are_checked_when_created() {
    let hub = TestHub::start("").await;
    hub.agent("anna", false, &[]).await;
    let create = |body: Value| hub.send("POST", "/api/v1/admin/agents", &hub.admin_token, body);
    let (status, body) = create(json!({"login": "anna", "name": "Anna"})).await;
    assert_eq!((status, body["code"].clone()), (409, json!("conflict")));
    let (status, body) = create(json!({"login": "Bad Login", "name": "X"})).await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("login"));
    let (status, _) = create(json!({"login": "ben"})).await;
    assert_eq!(status, 422, "a missing name is refused");
}

#[tokio::test]
async fn admins_change_and_remove_agents() {
    let hub = TestHub::start("").await;
    let anna = hub.agent("anna", false, &[]).await;
    let mut stream = hub.stream(&hub.admin_token, None).await;
    stream.next().await;

    let (status, changed) = hub
        .send(
            "PATCH",
            "/api/v1/admin/agents/anna",
            &hub.admin_token,
            json!({"name": "Anna Agent", "admin": true, "numbers": ["030 600000001"], "out_of_office": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(changed["out_of_office"], true);
    assert_eq!(changed["name"], "Anna Agent");
    assert_eq!(changed["role"], "admin");
    assert_eq!(changed["numbers"], json!(["030 600000001"]));
    let event = serde_json::to_value(common::event_of(stream.next().await)).unwrap();
    assert_eq!(event["kind"], "presence");
    assert_eq!(event["presence"]["name"], "Anna Agent");

    let (status, body) = hub
        .send(
            "PATCH",
            "/api/v1/admin/agents/admin",
            &hub.admin_token,
            json!({"admin": false}),
        )
        .await;
    assert_eq!((status, body["code"].clone()), (409, json!("conflict")));

    let (status, _) = hub
        .send(
            "DELETE",
            "/api/v1/admin/agents/anna",
            &hub.admin_token,
            json!(null),
        )
        .await;
    assert_eq!(status, 204);
    let event = serde_json::to_value(common::event_of(stream.next().await)).unwrap();
    assert_eq!(event["kind"], "agent_removed");
    assert_eq!(event["login"], "anna");
    assert_eq!(
        hub.get("/api/v1/me", &anna).await.0,
        401,
        "the token is gone"
    );
    let (status, _) = hub
        .send(
            "DELETE",
            "/api/v1/admin/agents/anna",
            &hub.admin_token,
            json!(null),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = hub
        .send(
            "DELETE",
            "/api/v1/admin/agents/admin",
            &hub.admin_token,
            json!(null),
        )
        .await;
    assert_eq!(status, 409, "an admin cannot remove themselves");
}

#[tokio::test]
async fn caller_lookup_normalizes_and_explains_bad_numbers() {
    let hub = TestHub::start("").await;
    let (status, body) = hub
        .get("/api/v1/callers/030%20609854180", &hub.admin_token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"number": "+4930609854180", "match": null}));
    let (status, body) = hub.get("/api/v1/callers/anonymous", &hub.admin_token).await;
    assert_eq!(status, 400);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("not a phone number"));
}

#[tokio::test]
async fn every_documented_route_exists() {
    let hub = TestHub::start("").await;
    let spec: Value = hub
        .http
        .get(hub.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 12);
    for (path, operations) in paths {
        let concrete = path
            .replace("{token}", common::TOKEN)
            .replace("{number}", "4930609854180")
            .replace("{id}", "1")
            .replace("{login}", "nobody")
            .replace("{route}", "in");
        for method in operations.as_object().unwrap().keys() {
            let response = hub
                .http
                .request(
                    reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    hub.url(&concrete),
                )
                .bearer_auth(&hub.admin_token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !body.contains("no such endpoint"),
                "{method} {path}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn probes_say_live_and_ready_and_not_ready_while_the_writer_cannot_commit() {
    let hub = TestHub::start(common::ON_SQLITE).await;
    let probe = |path: &str| hub.http.get(hub.url(path)).send();
    let live = probe("/healthz").await.unwrap();
    assert_eq!(live.status(), 200, "no token needed");
    assert_eq!(
        live.json::<Value>().await.unwrap(),
        json!({"status": "live"})
    );
    let ready = probe("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"status": "ready"})
    );

    // Another process holds the database's write lock: the hub's writer cannot commit, so
    // a webhook could not be made durable, and a load balancer must send it elsewhere.
    let database = hub
        .dir
        .path()
        .join("data")
        .join(ringside_hub::store::DATABASE_FILE);
    let other = rusqlite::Connection::open(database).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let stuck = probe("/readyz").await.unwrap();
    assert_eq!(stuck.status(), 503);
    let body: Value = stuck.json().await.unwrap();
    assert_eq!(body["code"], "not_ready");
    let reason = body["error"].as_str().unwrap();
    assert!(reason.contains("the writer did not commit"), "{reason}");
    assert!(
        probe("/healthz").await.unwrap().status().is_success(),
        "still live"
    );

    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(probe("/readyz").await.unwrap().status(), 200, "ready again");
}
