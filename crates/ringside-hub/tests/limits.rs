//! What one client may hold of the hub (`[limits]`): slow clients are cut off after the
//! configured timeouts while webhooks still get through, connections and streams beyond their
//! caps are refused with a reason, and a full writer queue answers 503.

mod common;

use std::time::Duration;

use common::{TestHub, TOKEN};
use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Reads what the hub sends until it closes the connection; `None` when it has not closed it
/// within `within`.
async fn read_until_closed(tcp: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

fn new_call(call_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("event", "newCall".into()),
        ("direction", "in".into()),
        ("callId", call_id.into()),
        ("from", "4930609854180".into()),
        ("to", "4930600000000".into()),
    ]
}

/// POSTs a newCall on a connection of its own; returns status and body.
async fn post_new_call(url: &str, call_id: &str) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let response = client
        .post(url)
        .form(&new_call(call_id))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_client_sending_half_a_header_is_cut_off_while_webhooks_go_through() {
    let hub = TestHub::start("[limits]\nheader_timeout_secs = 1\n").await;
    let mut slow = TcpStream::connect(hub.running.addr).await.unwrap();
    slow.write_all(
        format!("POST /api/v1/cti/{TOKEN} HTTP/1.1\r\nHost: hub\r\nContent-").as_bytes(),
    )
    .await
    .unwrap();

    let url = hub.url(&format!("/api/v1/cti/{TOKEN}"));
    let (status, body) = post_new_call(&url, "meanwhile").await;
    assert_eq!(status, 200, "{body}");

    let answer = read_until_closed(&mut slow, Duration::from_secs(10))
        .await
        .expect("the hub closes the connection after the header timeout");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_its_answers_is_cut_off_after_the_idle_timeout() {
    const PIPELINED: usize = 1000;
    let hub = TestHub::start("[limits]\nidle_timeout_secs = 1\n").await;
    let answer_size = hub
        .http
        .get(hub.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    let mut reader = TcpStream::connect(hub.running.addr).await.unwrap();
    // Far more answers than the socket buffers hold: the hub's writes stall.
    let requests = "GET /api/v1/openapi.json HTTP/1.1\r\nHost: hub\r\n\r\n".repeat(PIPELINED);
    reader.write_all(requests.as_bytes()).await.unwrap();
    // The client's misbehaviour under test: it reads nothing for three idle timeouts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut received = 0;
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received += n,
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the hub closed the connection");
    assert!(
        received < PIPELINED * answer_size,
        "the hub gave up before sending every answer ({received} bytes)"
    );
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_refused_with_the_reason() {
    let hub = TestHub::start("[limits]\nbody_timeout_secs = 1\n").await;
    let mut slow = TcpStream::connect(hub.running.addr).await.unwrap();
    slow.write_all(
        format!(
            "POST /api/v1/cti/{TOKEN} HTTP/1.1\r\nHost: hub\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
             event=newCall"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let head_and_body = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let n = slow.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed without an answer");
            answer.extend_from_slice(&buf[..n]);
            if answer.ends_with(b"}") {
                break;
            }
        }
    })
    .await;
    head_and_body.expect("an answer after the body timeout");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("limits.body_timeout_secs"),
        "the reason is given: {answer}"
    );
    assert!(hub.journal().await.is_empty());
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_and_served_again_once_others_close() {
    let hub = TestHub::start("[limits]\nmax_connections = 2\n").await;
    let first = TcpStream::connect(hub.running.addr).await.unwrap();
    let _second = TcpStream::connect(hub.running.addr).await.unwrap();
    // Accepted in order: by the time the third is taken, the first two hold the slots.
    let mut third = TcpStream::connect(hub.running.addr).await.unwrap();
    let answer = read_until_closed(&mut third, Duration::from_secs(10))
        .await
        .expect("the connection beyond the cap is closed at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("limits.max_connections"), "{answer}");

    drop(first);
    let url = hub.url(&format!("/api/v1/cti/{TOKEN}"));
    // The hub frees the slot when it sees the close; until then it still refuses.
    let mut served = None;
    for attempt in 0..100 {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        match client
            .post(&url)
            .form(&new_call(&format!("after-{attempt}")))
            .send()
            .await
        {
            Ok(response) if response.status() == 200 => {
                served = Some(attempt);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let attempt = served.expect("a webhook is served once a connection closed");
    let recorded = hub
        .running
        .hub
        .store
        .journal("admin", Default::default(), None, 10)
        .await
        .unwrap();
    let call_ids: Vec<&str> = recorded
        .entries
        .iter()
        .map(|c| c.call_id.as_str())
        .collect();
    assert_eq!(
        call_ids,
        vec![format!("after-{attempt}")],
        "only the served webhook is recorded"
    );
}

#[tokio::test]
async fn an_agent_gets_no_more_streams_than_allowed() {
    let hub = TestHub::start("[limits]\nstreams_per_agent = 2\n").await;
    let anna = hub.agent("anna", false, &[]).await;
    let first = hub.stream(&anna, None).await;
    let _second = hub.stream(&anna, None).await;

    let connect = || {
        let mut request = format!("ws://{}/api/v1/stream", hub.running.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {anna}").parse().unwrap());
        tokio_tungstenite::connect_async(request)
    };
    let refused = connect().await.expect_err("a third stream is refused");
    let tokio_tungstenite::tungstenite::Error::Http(response) = refused else {
        panic!("an HTTP answer expected, got {refused:?}")
    };
    assert_eq!(response.status(), 429);
    let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["code"], "too_many");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("limits.streams_per_agent"),
        "{body}"
    );

    // Another agent is not held back by anna's streams.
    let _admin = hub.stream(&hub.admin_token, None).await;

    first.close().await;
    let mut again = None;
    for _ in 0..100 {
        if let Ok(socket) = connect().await {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "a stream is allowed again once one closed");
}

#[tokio::test]
async fn a_full_writer_queue_answers_503_with_the_reason_and_loses_nothing_answered() {
    // On a clock that stands still the janitor queues nothing after its first pass: the
    // queue holds exactly the webhooks'.
    let (hub, _clock) =
        TestHub::start_on_manual_clock("store = \"sqlite\"\n[limits]\nwrite_queue = 2\n").await;
    // Another writer holds the database: the hub's writer waits, and its queue fills.
    let database = hub.dir.path().join("data").join("ringside.sqlite");
    let blocker = rusqlite::Connection::open(&database).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let url = hub.url(&format!("/api/v1/cti/{TOKEN}"));
    let mut posts: FuturesUnordered<_> = (0..4)
        .map(|n| {
            let url = url.clone();
            async move {
                let call_id = format!("queued-{n}");
                let answer = post_new_call(&url, &call_id).await;
                (call_id, answer)
            }
        })
        .collect();
    // One change can wait in the writer and two in the queue: the fourth cannot, and nothing
    // else can finish while the database is held.
    let (_, (status, body)) = tokio::time::timeout(Duration::from_secs(10), posts.next())
        .await
        .expect("a refusal while the writer waits")
        .unwrap();
    assert_eq!(status, 503, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("busy"), "{message}");
    assert!(message.contains("retry"), "{message}");

    blocker.execute_batch("COMMIT").unwrap();
    let mut answered = Vec::new();
    while let Some((call_id, (status, body))) = posts.next().await {
        assert!(status == 200 || status == 503, "{status} {body}");
        if status == 200 {
            answered.push(call_id);
        }
    }
    let (status, _) = post_new_call(&url, "afterwards").await;
    assert_eq!(status, 200, "the hub takes changes again");
    answered.push("afterwards".into());

    let mut recorded: Vec<String> = hub
        .journal()
        .await
        .iter()
        .map(|c| c["call_id"].as_str().unwrap().to_owned())
        .collect();
    recorded.sort();
    answered.sort();
    assert_eq!(recorded, answered, "exactly the webhooks answered 200");
}
