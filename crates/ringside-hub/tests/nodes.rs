//! Two real `ringside-hub` processes on one PostgreSQL database, as a team runs them behind
//! a load balancer: every event reaches the streams of both in one order, the same webhook
//! posted to both records once, a node killed with `kill -9` loses nothing it answered and
//! its clients resume on the other, and the janitor and the Zammad relay with its outbox move
//! to the node that survives.
//!
//! These tests need a PostgreSQL server: `make test` starts a throw-away one and runs them
//! with `--include-ignored` and `RINGSIDE_TEST_DATABASE_URL` set.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use common::fake_zammad_cti::FakeZammadCti;
use common::process::{free_port, get_json, hub_command, serve, serve_logging_to};
use common::{call_of, Stream};
use ringside_core::call::CallState;
use ringside_core::stream::{EventBody, ServerMessage};
use serde_json::Value;

const CTI_TOKEN: &str = "zammad-cti-token";

/// A hub node: its process and its address.
struct Node {
    child: Child,
    addr: String,
    config: std::path::PathBuf,
}

impl Node {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Posts a generic CTI event; the status the node answered, or `None` when it did not
    /// answer (killed).
    async fn post(&self, event: &str, call_id: &str) -> Option<u16> {
        let fields = [
            ("event", event),
            ("direction", "in"),
            ("callId", call_id),
            ("from", "4930609854180"),
            ("to", "4930600000000"),
        ];
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/cti/{}", self.base(), common::TOKEN))
            .form(&fields)
            .send()
            .await
            .ok()?;
        Some(response.status().as_u16())
    }

    async fn journal(&self, token: &str) -> Vec<Value> {
        let journal = get_json(&format!("{}/api/v1/journal?limit=500", self.base()), token).await;
        journal["entries"].as_array().unwrap().clone()
    }

    fn kill(&mut self) {
        self.child.kill().unwrap(); // SIGKILL: no graceful shutdown
        self.child.wait().unwrap();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes the configuration of a node on `database` in `dir/name`.
fn configure(dir: &Path, name: &str, database: &str, extra: &str) -> (std::path::PathBuf, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let node_dir = dir.join(name);
    std::fs::create_dir_all(&node_dir).unwrap();
    let config = node_dir.join("ringside.toml");
    let text = format!(
        "listen = \"{addr}\"\ndata_dir = {:?}\nheartbeat_secs = 1\nstore = \"postgres\"\n\
         database_url = {database:?}\n{extra}\n{}",
        node_dir.join("data"),
        common::GENERIC_ON
    );
    std::fs::write(&config, text).unwrap();
    (config, addr)
}

async fn start(dir: &Path, name: &str, database: &str, extra: &str) -> Node {
    let (config, addr) = configure(dir, name, database, extra);
    let child = serve(&config, &format!("http://{addr}")).await;
    Node {
        child,
        addr,
        config,
    }
}

/// Starts node "a" alone on `database` and waits (at most 10 s) until its log says it took
/// the lease of `work` ("the janitor", "the Zammad relay").
async fn start_holding(dir: &Path, database: &str, extra: &str, work: &str) -> Node {
    let (config, addr) = configure(dir, "a", database, extra);
    let log_path = dir.join("a.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = serve_logging_to(&config, &format!("http://{addr}"), log).await;
    let node = Node {
        child,
        addr,
        config,
    };
    let taken = format!("this node runs {work}");
    let mut waited = Duration::ZERO;
    while !std::fs::read_to_string(&log_path).unwrap().contains(&taken) {
        assert!(
            waited < Duration::from_secs(10),
            "node A never took the lease of {work}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    node
}

/// Adds an admin agent through `node`'s command line; returns the token.
fn agent(node: &Node, login: &str) -> String {
    add_agent(node, login, &["--admin"])
}

/// Adds an agent with `flags` through `node`'s command line; returns the token.
fn add_agent(node: &Node, login: &str, flags: &[&str]) -> String {
    let added = hub_command(&node.config)
        .args(["agent", "add", login, "--name", login])
        .args(flags)
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let stdout = String::from_utf8(added.stdout).unwrap();
    stdout.lines().last().unwrap().trim().to_owned()
}

/// Reads events from `stream` until every call in `calls` has appeared, checking that the
/// seqs follow each other from `after` without a gap or a repeat; returns the last
/// position.
async fn read_until(stream: &mut Stream, after: u64, calls: &BTreeSet<String>) -> (String, u64) {
    let mut seen = BTreeSet::new();
    let mut position = (String::new(), after);
    while !calls.is_subset(&seen) {
        let message = stream.next().await;
        let ServerMessage::Event(event) = &message else {
            panic!("an event expected, got {message:?}")
        };
        assert_eq!(
            event.seq,
            position.1 + 1,
            "events in seq order, none missing or twice"
        );
        position = (event.epoch.clone(), event.seq);
        if let Some(call) = call_of(&message) {
            seen.insert(call.call_id.clone());
        }
    }
    position
}

/// Two nodes on a new database, and the token of the admin `anna`.
async fn two_nodes() -> (tempfile::TempDir, Node, Node, String) {
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    let a = start(dir.path(), "a", &database, "").await;
    let b = start(dir.path(), "b", &database, "").await;
    let token = agent(&a, "anna");
    (dir, a, b, token)
}

async fn snapshot_seq(stream: &mut Stream) -> (String, u64) {
    match stream.next().await {
        ServerMessage::Snapshot(snapshot) => (snapshot.epoch, snapshot.seq),
        other => panic!("a snapshot first, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn webhooks_to_either_node_reach_the_clients_of_both_in_one_order() {
    let (_dir, a, b, token) = two_nodes().await;
    let mut on_a = Stream::connect(&a.addr, &token, None).await;
    let mut on_b = Stream::connect(&b.addr, &token, None).await;
    let from_a = snapshot_seq(&mut on_a).await;
    let from_b = snapshot_seq(&mut on_b).await;

    // Posted at once, alternating between the nodes.
    let calls: BTreeSet<String> = (0..40).map(|n| format!("call-{n}")).collect();
    let posts = calls.iter().enumerate().map(|(n, call)| {
        let node = if n % 2 == 0 { &a } else { &b };
        node.post("newCall", call)
    });
    for status in futures_util::future::join_all(posts).await {
        assert_eq!(status, Some(200));
    }
    let end_a = read_until(&mut on_a, from_a.1, &calls).await;
    let end_b = read_until(&mut on_b, from_b.1, &calls).await;
    assert_eq!(from_a.0, end_a.0, "one epoch");
    assert_eq!(end_a.0, end_b.0, "one epoch on both nodes");
    assert_eq!(a.journal(&token).await.len(), calls.len());
    assert_eq!(b.journal(&token).await.len(), calls.len());
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn the_same_webhook_posted_to_both_nodes_at_once_records_once() {
    let (_dir, a, b, token) = two_nodes().await;
    for n in 0..10 {
        let call = format!("retried-{n}");
        let (on_a, on_b) = tokio::join!(a.post("newCall", &call), b.post("newCall", &call));
        assert_eq!((on_a, on_b), (Some(200), Some(200)));
    }
    let journal = a.journal(&token).await;
    let ids: Vec<&str> = journal
        .iter()
        .map(|entry| entry["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 10, "one entry per call: {ids:?}");
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), 10);
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn a_node_killed_mid_burst_loses_nothing_and_its_clients_resume_on_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    let mut a = start(dir.path(), "a", &database, "").await;
    let b = start(dir.path(), "b", &database, "").await;
    let token = agent(&a, "anna");
    let mut on_a = Stream::connect(&a.addr, &token, None).await;
    let (epoch, mut seq) = snapshot_seq(&mut on_a).await;

    // A burst to node A; A is killed while it runs.
    let burst: Vec<String> = (0..200).map(|n| format!("burst-{n}")).collect();
    let posting = {
        let base = a.base();
        let burst = burst.clone();
        tokio::spawn(async move {
            let mut answered = Vec::new();
            let client = reqwest::Client::new();
            for call in burst {
                let fields = [
                    ("event", "newCall"),
                    ("direction", "in"),
                    ("callId", call.as_str()),
                    ("from", "4930609854180"),
                    ("to", "4930600000000"),
                ];
                let Ok(response) = client
                    .post(format!("{base}/api/v1/cti/{}", common::TOKEN))
                    .form(&fields)
                    .send()
                    .await
                else {
                    break;
                };
                assert_eq!(response.status(), 200);
                answered.push(call);
            }
            answered
        })
    };
    // The client follows until a tenth of the burst has streamed, then the node dies.
    let mut seen_on_a = BTreeSet::new();
    while seen_on_a.len() < 20 {
        let message = on_a.next().await;
        let ServerMessage::Event(event) = &message else {
            panic!("an event expected, got {message:?}")
        };
        assert_eq!(event.seq, seq + 1);
        seq = event.seq;
        if let Some(call) = call_of(&message) {
            seen_on_a.insert(call.call_id.clone());
        }
    }
    a.kill();
    let answered: BTreeSet<String> = posting.await.unwrap().into_iter().collect();
    assert!(!answered.is_empty());

    // Every answered webhook is in the journal, read through the surviving node.
    let journal: BTreeSet<String> = b
        .journal(&token)
        .await
        .iter()
        .map(|entry| entry["call_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        answered.is_subset(&journal),
        "answered but lost: {:?}",
        answered.difference(&journal).collect::<Vec<_>>()
    );
    // The client resumes on B from what it had: the rest, in order, nothing twice.
    let mut on_b = Stream::connect(&b.addr, &token, Some((&epoch, seq))).await;
    let rest = answered.difference(&seen_on_a).cloned().collect();
    read_until(&mut on_b, seq, &rest).await;
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn the_janitor_moves_to_the_node_that_survives() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    let extra = "ring_timeout_secs = 2";
    // Node A starts first and takes the janitor's lease.
    let mut a = start_holding(dir.path(), &database, extra, "the janitor").await;
    let b = start(dir.path(), "b", &database, extra).await;
    let token = agent(&b, "anna");
    a.kill();

    let mut on_b = Stream::connect(&b.addr, &token, None).await;
    snapshot_seq(&mut on_b).await;
    assert_eq!(b.post("newCall", "forgotten").await, Some(200));
    // B's janitor closes it once the lease the dead node held is free: within a few of its
    // passes (every half second here) after the ring timeout.
    let closed = loop {
        let message = on_b
            .next_within(Duration::from_secs(20))
            .await
            .expect("the surviving node's janitor closes the call");
        if let Some(call) = call_of(&message) {
            if call.state == CallState::Ended {
                break call.clone();
            }
        }
    };
    assert_eq!(closed.call_id, "forgotten");
    assert_eq!(closed.comment.as_deref(), Some("ringTimeout"));
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn the_zammad_relay_and_its_outbox_move_to_the_node_that_survives() {
    let mut zammad = FakeZammadCti::start(CTI_TOKEN).await;
    let relay = format!(
        "[zammad]\nurl = \"{}\"\ncti_token = \"{CTI_TOKEN}\"\nrelay = true\n",
        zammad.url()
    );
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    let mut a = start_holding(dir.path(), &database, &relay, "the Zammad relay").await;
    let b = start(dir.path(), "b", &database, &relay).await;

    // Node A's relay delivers the first event.
    assert_eq!(a.post("newCall", "early").await, Some(200));
    assert!(zammad.wait_accepted(1, Duration::from_secs(10)).await);
    // Zammad goes away; two more events wait in the outbox, which A keeps trying.
    zammad.go_down();
    assert_eq!(a.post("hangup", "early").await, Some(200));
    assert_eq!(a.post("newCall", "late").await, Some(200));
    a.kill();
    zammad.come_back().await;

    // Node B takes the relay over and delivers what A left, each event once.
    assert!(
        zammad.wait_accepted(3, Duration::from_secs(30)).await,
        "the surviving node did not deliver the outbox: {:?}",
        zammad.received()
    );
    // Per call, in order (the relay names calls by provider: "generic-").
    let mut accepted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for body in zammad.accepted() {
        accepted
            .entry(body["callId"].as_str().unwrap().to_owned())
            .or_default()
            .push(body["event"].as_str().unwrap().to_owned());
    }
    let expected = BTreeMap::from([
        (
            "generic-early".to_owned(),
            vec!["newCall".to_owned(), "hangup".to_owned()],
        ),
        ("generic-late".to_owned(), vec!["newCall".to_owned()]),
    ]);
    assert_eq!(accepted, expected);
    // Nothing more arrives afterwards (no second delivery by either node).
    assert_eq!(b.post("hangup", "late").await, Some(200));
    assert!(zammad.wait_accepted(4, Duration::from_secs(10)).await);
    assert_eq!(zammad.accepted().len(), 4);
}

/// The next presence event of `login` on `stream`.
async fn presence_of(stream: &mut Stream, login: &str, wait: Duration) -> bool {
    loop {
        let message = stream
            .next_within(wait)
            .await
            .unwrap_or_else(|| panic!("a presence event of {login} within {wait:?}"));
        if let ServerMessage::Event(event) = message {
            if let EventBody::Presence { presence } = event.body {
                if presence.login == login {
                    return presence.online;
                }
            }
        }
    }
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn an_agent_streaming_from_one_node_is_online_on_all_and_offline_when_it_dies() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    let mut a = start(dir.path(), "a", &database, "").await;
    let b = start(dir.path(), "b", &database, "").await;
    let anna = agent(&a, "anna");
    let bert = agent(&a, "bert");
    let mut watcher = Stream::connect(&b.addr, &bert, None).await;
    snapshot_seq(&mut watcher).await;

    // Anna streams from node A: node B's watcher and API see her online.
    let mut on_a = Stream::connect(&a.addr, &anna, None).await;
    snapshot_seq(&mut on_a).await;
    assert!(
        presence_of(&mut watcher, "anna", Duration::from_secs(5)).await,
        "online as soon as node A records her stream"
    );
    let agents: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/agents", b.base()))
        .bearer_auth(&bert)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let anna_on_b = agents
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["login"] == "anna")
        .expect("anna listed")
        .clone();
    assert_eq!(
        anna_on_b["online"], true,
        "node B's API counts node A's streams"
    );

    // Node A dies: node B's janitor tells the team she is offline once A's heartbeat is
    // silent past the timeout.
    a.kill();
    assert!(
        !presence_of(&mut watcher, "anna", Duration::from_secs(30)).await,
        "offline once her only node is gone"
    );
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn a_node_whose_sessions_the_server_dropped_connects_again_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    let a = start(dir.path(), "a", &database, "").await;
    let token = agent(&a, "anna");
    assert_eq!(a.post("newCall", "before").await, Some(200));

    // The server ends every session of the hub's database (a restart, a failover, an
    // administrator), as `pg_terminate_backend` does.
    let name = database.rsplit('/').next().unwrap().to_owned();
    let server = std::env::var(common::DATABASE_URL_VAR).unwrap();
    let ended = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&server, postgres::NoTls).unwrap();
        client
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&name],
            )
            .unwrap()
            .len()
    })
    .join()
    .unwrap();
    assert!(ended > 0, "the hub's sessions were ended");

    assert_eq!(
        a.post("newCall", "after").await,
        Some(200),
        "the writer connects again"
    );
    let calls: BTreeSet<String> = a
        .journal(&token)
        .await
        .iter()
        .map(|entry| entry["call_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        calls,
        BTreeSet::from(["after".to_owned(), "before".to_owned()])
    );
}

/// Twilio on every node, ringing all available agents.
const TWILIO_RING_ALL: &str = "public_url = \"https://hub.example\"\n[twilio]\nenabled = true\n\
     token = \"twilio-test-token-0123456789\"\nauth_token = \"twilio-auth-token-for-tests\"\n\
     number = \"+4930600000000\"\nflow = \"ring-all\"\n";

/// Twilio's voice request for a new inbound call to `node`, signed as Twilio signs it; the
/// TwiML answered.
async fn twilio_voice(node: &Node, call_sid: &str) -> String {
    let path = "/api/v1/twilio/twilio-test-token-0123456789/voice";
    let fields = [
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+4930609854180"),
        ("To", "+4930600000000"),
    ];
    let signature = common::twilio_signature(
        "twilio-auth-token-for-tests",
        &format!("https://hub.example{path}"),
        &fields,
    );
    let response = reqwest::Client::new()
        .post(format!("{}{path}", node.base()))
        .header("X-Twilio-Signature", signature)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn twilio_rings_agents_streaming_from_any_node_and_none_whose_node_died() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    let mut a = start(dir.path(), "a", &database, TWILIO_RING_ALL).await;
    let b = start(dir.path(), "b", &database, TWILIO_RING_ALL).await;
    let anna = add_agent(&a, "anna", &["--twilio", "+491701111111"]);
    let ben = add_agent(&a, "ben", &["--twilio", "+491702222222"]);
    let mut on_b = Stream::connect(&b.addr, &ben, None).await;
    snapshot_seq(&mut on_b).await;
    let mut on_a = Stream::connect(&a.addr, &anna, None).await;
    snapshot_seq(&mut on_a).await;
    assert!(
        presence_of(&mut on_b, "anna", Duration::from_secs(5)).await,
        "node B knows Anna streams from node A"
    );

    let twiml = twilio_voice(&b, "CA_both").await;
    assert!(
        twiml.contains(">+491701111111</Number>"),
        "Anna's node is alive: {twiml}"
    );
    assert!(twiml.contains(">+491702222222</Number>"), "{twiml}");

    a.kill();
    assert!(
        !presence_of(&mut on_b, "anna", Duration::from_secs(30)).await,
        "offline once her only node is gone"
    );
    let twiml = twilio_voice(&b, "CA_ben").await;
    assert!(
        !twiml.contains("+491701111111"),
        "nobody rings a phone whose agent's node is dead: {twiml}"
    );
    assert!(twiml.contains(">+491702222222</Number>"), "{twiml}");
}

/// Waits (at most 10 s) until `fake` has received more than `count` requests to `uri`.
async fn requested_more(fake: &common::fake_zammad::FakeZammad, uri: &str, count: usize) {
    for _ in 0..500 {
        if fake.requests().iter().filter(|r| r.uri == uri).count() > count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no further request to {uri} within 10 s");
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
async fn zammad_work_asked_of_a_node_is_done_by_the_node_that_holds_it() {
    // Zammad without Elasticsearch: full passes only, every 15 minutes unless asked.
    let fake = common::fake_zammad::FakeZammad::start(false).await;
    fake.put_user(
        2,
        serde_json::json!({"firstname": "Nicole", "lastname": "Braun",
                           "phone": "+49 30 609854180"}),
    );
    fake.data.lock().unwrap().permissions = vec!["ticket.agent", "admin.user"];
    let zammad = format!("{}ticket_group = \"Users\"\n", fake.config());
    let full_pass = "/api/v1/users?page=1&per_page=100";
    let dir = tempfile::tempdir().unwrap();
    let database = common::required_postgres_for(dir.path());
    // Node A starts alone and takes the Zammad sync and relay: its first pass shows it.
    let a = start(dir.path(), "a", &database, &zammad).await;
    requested_more(&fake, full_pass, 0).await;
    let b = start(dir.path(), "b", &database, &zammad).await;
    let token = agent(&a, "anna");
    let client = reqwest::Client::new();

    // "Sync now" asked of node B: node A runs the pass.
    let passes = fake
        .requests()
        .iter()
        .filter(|r| r.uri == full_pass)
        .count();
    let asked = client
        .post(format!("{}/api/v1/admin/zammad/sync", b.base()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 202);
    requested_more(&fake, full_pass, passes).await;

    // A ticket asked of node B: node A's relay makes it, and node B answers with it.
    assert_eq!(b.post("newCall", "t1").await, Some(200));
    assert_eq!(b.post("hangup", "t1").await, Some(200));
    let id = b.journal(&token).await[0]["id"].as_i64().unwrap();
    let answer = client
        .post(format!("{}/api/v1/calls/{id}/ticket", b.base()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let ticket: Value = answer.json().await.unwrap();
    assert_eq!(status, 200, "{ticket}");
    let made = fake.tickets();
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(ticket["id"], made[0]["id"]);
    assert_eq!(ticket["number"], made[0]["number"]);
}
