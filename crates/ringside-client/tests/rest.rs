//! `HubClient` against a one-request HTTP server on 127.0.0.1:0 that plays the hub.

use std::time::Duration;

use ringside_client::endpoint::HubEndpoint;
use ringside_client::rest::{HubClient, JournalFilter, JournalQuery, DEFAULT_REQUEST_TIMEOUT};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A request as the fake hub read it.
#[derive(Debug)]
struct Seen {
    /// `METHOD /path?query`.
    line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// Serves one request with `status` and `body`, returning what it saw.
async fn hub_answering(status: u16, body: String) -> (HubClient, JoinHandle<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let client = HubClient::new(
        HubEndpoint::new(&url, "tok").unwrap(),
        DEFAULT_REQUEST_TIMEOUT,
    )
    .unwrap();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let seen = read_request(&mut tcp).await;
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(response.as_bytes()).await.unwrap();
        seen
    });
    (client, server)
}

async fn read_request(tcp: &mut tokio::net::TcpStream) -> Seen {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = tcp.read(&mut chunk).await.unwrap();
        assert!(n > 0, "request ended early");
        data.extend_from_slice(&chunk[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8(data[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap();
    let line = request_line.rsplit_once(' ').unwrap().0.to_owned();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    while data.len() < head_end + 4 + length {
        let n = tcp.read(&mut chunk).await.unwrap();
        data.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(data[head_end + 4..].to_vec()).unwrap();
    Seen {
        line,
        headers,
        body,
    }
}

fn presence_json(dnd: bool) -> Value {
    json!({"login": "alice", "name": "Alice", "role": "agent", "numbers": ["+4930123"],
           "online": true, "dnd": dnd, "on_call": null})
}

fn call_json(id: i64, done: bool) -> Value {
    json!({
        "id": id, "provider": "generic", "call_id": "abc", "direction": "in", "state": "hangup",
        "from": "+4930123", "from_comment": null, "from_pretty": "+49 30 123",
        "to": "+4930999", "to_comment": null, "to_pretty": "+49 30 999",
        "queue": null, "comment": "cancel", "done": done,
        "initialized_at": "2026-01-05T09:00:00Z", "start_at": null, "end_at": "2026-01-05T09:00:30Z",
        "duration_waiting_time": 30, "duration_talking_time": null,
        "answered_by": null, "offered_to": null, "caller": null,
        "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:05:00Z"
    })
}

#[tokio::test]
async fn me_sends_the_bearer_token() {
    let (client, server) = hub_answering(200, presence_json(false).to_string()).await;
    let me = client.me().await.unwrap();
    assert_eq!(me.presence.login, "alice");
    assert_eq!(me.helpdesk_url, None, "an older hub names no help desk");
    let seen = server.await.unwrap();
    assert_eq!(seen.line, "GET /api/v1/me");
    assert_eq!(seen.header("authorization"), Some("Bearer tok"));
}

#[tokio::test]
async fn me_names_the_hubs_help_desk() {
    let mut answer = presence_json(false);
    answer["helpdesk_url"] = json!("https://zammad.example.com/");
    let (client, _server) = hub_answering(200, answer.to_string()).await;
    let me = client.me().await.unwrap();
    assert_eq!(me.presence.name, "Alice");
    assert_eq!(
        me.helpdesk_url.as_deref(),
        Some("https://zammad.example.com/")
    );
}

#[tokio::test]
async fn create_customer_posts_the_name_and_reads_the_card() {
    let card = json!({"id": 5, "name": "Nicole Braun", "organization": null, "email": null,
        "profile_url": "https://zammad.example.com/#user/profile/101",
        "new_ticket_url": "https://zammad.example.com/#ticket/create/customer/101",
        "source": "zammad", "tickets": []});
    let (client, server) = hub_answering(201, card.to_string()).await;
    let created = client
        .create_customer(42, Some("Nicole Braun"))
        .await
        .unwrap();
    assert_eq!(
        created.profile_url.as_deref(),
        Some("https://zammad.example.com/#user/profile/101")
    );
    let seen = server.await.unwrap();
    assert_eq!(seen.line, "POST /api/v1/calls/42/customer");
    assert_eq!(seen.json(), json!({"name": "Nicole Braun"}));
}

#[tokio::test]
async fn create_customer_keeps_the_hubs_refusal_code() {
    for (status, code) in [
        (409, "caller_known"),
        (409, "zammad_not_configured"),
        (422, "no_number"),
        (502, "zammad_unreachable"),
        (502, "zammad_refused"),
    ] {
        let body = json!({"code": code, "error": "in words"});
        let (client, _server) = hub_answering(status, body.to_string()).await;
        let error = client.create_customer(42, None).await.unwrap_err();
        assert_eq!(error.code(), code);
        assert_eq!(error.to_string(), "in words");
    }
    let body = json!({"code": "not_found", "error": "no call 42"});
    let (client, _server) = hub_answering(404, body.to_string()).await;
    let error = client.create_customer(42, None).await.unwrap_err();
    assert_eq!(error.code(), "not_found");
}

#[tokio::test]
async fn set_dnd_puts_the_flag() {
    let (client, server) = hub_answering(200, presence_json(true).to_string()).await;
    assert!(client.set_dnd(true).await.unwrap().dnd);
    let seen = server.await.unwrap();
    assert_eq!(seen.line, "PUT /api/v1/me/dnd");
    assert_eq!(seen.json(), json!({"dnd": true}));
}

#[tokio::test]
async fn agents_lists_presence() {
    let (client, server) = hub_answering(200, json!([presence_json(false)]).to_string()).await;
    assert_eq!(client.agents().await.unwrap().len(), 1);
    assert_eq!(server.await.unwrap().line, "GET /api/v1/agents");
}

#[tokio::test]
async fn journal_pages_with_the_query() {
    let body = json!({"entries": [call_json(41, false)], "next_before": 41}).to_string();
    let (client, server) = hub_answering(200, body).await;
    let query = JournalQuery {
        limit: Some(20),
        before: Some(99),
        filter: JournalFilter::Missed,
    };
    let page = client.journal(&query).await.unwrap();
    assert_eq!(page.entries[0].id, 41);
    assert_eq!(page.next_before, Some(41));
    assert_eq!(
        server.await.unwrap().line,
        "GET /api/v1/journal?limit=20&before=99&filter=missed"
    );
}

#[tokio::test]
async fn journal_defaults_to_all() {
    let body = json!({"entries": [], "next_before": null}).to_string();
    let (client, server) = hub_answering(200, body).await;
    let page = client.journal(&JournalQuery::default()).await.unwrap();
    assert!(page.entries.is_empty() && page.next_before.is_none());
    assert_eq!(server.await.unwrap().line, "GET /api/v1/journal?filter=all");
}

#[tokio::test]
async fn set_done_posts_one_entry() {
    let (client, server) = hub_answering(200, call_json(7, true).to_string()).await;
    assert!(client.set_done(7, true).await.unwrap().done);
    let seen = server.await.unwrap();
    assert_eq!(seen.line, "POST /api/v1/journal/7/done");
    assert_eq!(seen.json(), json!({"done": true}));
}

#[tokio::test]
async fn mark_done_posts_many() {
    let (client, server) = hub_answering(200, json!({"updated": 2}).to_string()).await;
    assert_eq!(client.mark_done(&[1, 2]).await.unwrap(), 2);
    let seen = server.await.unwrap();
    assert_eq!(seen.line, "POST /api/v1/journal/done");
    assert_eq!(seen.json(), json!({"ids": [1, 2]}));
}

#[tokio::test]
async fn create_ticket_posts_for_the_call_and_reads_the_ticket() {
    let ticket =
        json!({"id": 12, "number": "53012", "url": "https://desk.example/#ticket/zoom/12"});
    let (client, server) = hub_answering(200, ticket.to_string()).await;
    let made = client.create_ticket(7).await.unwrap();
    assert_eq!((made.id, made.number.as_str()), (12, "53012"));
    assert_eq!(made.url, "https://desk.example/#ticket/zoom/12");
    assert_eq!(server.await.unwrap().line, "POST /api/v1/calls/7/ticket");

    let refusal = json!({"error": "the caller is no Zammad customer the hub knows",
        "code": "unknown_caller"});
    let (client, _server) = hub_answering(409, refusal.to_string()).await;
    let error = client.create_ticket(8).await.unwrap_err();
    assert_eq!(error.code(), "unknown_caller");
    assert_eq!(
        error.to_string(),
        "the caller is no Zammad customer the hub knows"
    );
}

#[tokio::test]
async fn lookup_caller_encodes_the_number() {
    let body = json!({"number": "+4930123", "match": null}).to_string();
    let (client, server) = hub_answering(200, body).await;
    let found = client.lookup_caller("+49 30/123").await.unwrap();
    assert_eq!(found.number, "+4930123");
    assert!(found.caller_match.is_none());
    assert_eq!(
        server.await.unwrap().line,
        "GET /api/v1/callers/+49%2030%2F123"
    );
}

#[tokio::test]
async fn hub_errors_keep_their_message_and_get_a_code() {
    for (status, code) in [
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not_found"),
        (422, "bad_request"),
        (500, "internal"),
    ] {
        let body = json!({"error": format!("nope {status}"), "code": "whatever"}).to_string();
        let (client, _server) = hub_answering(status, body).await;
        let error = client.me().await.unwrap_err();
        assert_eq!(error.code(), code);
        assert_eq!(error.to_string(), format!("nope {status}"));
    }
}

#[tokio::test]
async fn an_unreadable_answer_is_invalid_response() {
    let (client, _server) = hub_answering(200, "<html>".into()).await;
    assert_eq!(client.me().await.unwrap_err().code(), "invalid_response");
}

#[tokio::test]
async fn a_hub_that_does_not_answer_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let timeout = Duration::from_millis(200);
    let client = HubClient::new(HubEndpoint::new(&url, "tok").unwrap(), timeout).unwrap();
    let _silent = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(tcp);
    });
    let error = client.me().await.unwrap_err();
    assert_eq!(error.code(), "timeout");
}

#[tokio::test]
async fn no_hub_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = HubClient::new(
        HubEndpoint::new(&url, "tok").unwrap(),
        DEFAULT_REQUEST_TIMEOUT,
    )
    .unwrap();
    assert_eq!(client.me().await.unwrap_err().code(), "hub_unreachable");
}

#[tokio::test]
async fn helpdesk_reads_the_help_desks_state() {
    let body = json!({
        "kind": "zammad", "url": "https://zammad.example.com",
        "connection": {"state": "down", "since": "2026-12-03T10:00:00Z",
                       "last_error": "Zammad at https://zammad.example.com/ could not be reached"},
        "sync": true, "last_sync": "2026-12-03T09:59:00Z", "last_sync_error": null,
        "users": 120, "organizations": 4, "numbers": 180,
        "relay": true, "relay_pending": 3, "relay_failed": 1
    })
    .to_string();
    let (client, server) = hub_answering(200, body).await;
    let helpdesk = client.helpdesk().await.unwrap();
    assert_eq!(
        helpdesk.connection.state,
        ringside_core::api::HelpdeskState::Down
    );
    assert_eq!((helpdesk.users, helpdesk.relay_pending), (120, 3));
    let seen = server.await.unwrap();
    assert_eq!(seen.line, "GET /api/v1/helpdesk");
    assert_eq!(seen.header("authorization"), Some("Bearer tok"));
}
