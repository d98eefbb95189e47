//! The integration tests' harness: a real hub on `127.0.0.1:0` with a real SQLite file in a
//! temporary directory, driven over HTTP and WebSocket like a PBX and an agent would.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod authority;
pub mod fake_zammad;
pub mod fake_zammad_cti;
pub mod pebble;
pub mod process;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ringside_clock::{Clock, ManualClock, SystemClock};
use ringside_core::stream::{ServerMessage, SnapshotAssembly, StreamFrame};
use ringside_hub::config::Config;
use ringside_hub::RunningHub;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The generic CTI token of the test hubs.
pub const TOKEN: &str = "generic-test-token-0123456789";

/// The `[metrics]` token of the tests that scrape `/metrics`.
pub const METRICS_TOKEN: &str = "metrics-test-token-0123456789";

/// A running hub with its temporary directory and an admin agent.
pub struct TestHub {
    pub running: RunningHub,
    pub dir: tempfile::TempDir,
    pub admin_token: String,
    pub http: reqwest::Client,
}

/// The configuration text of a test hub; `extra` is appended.
/// Listens on `127.0.0.1:0` unless `extra` says where. With [`DATABASE_URL_VAR`] set, the
/// hub keeps its data in a PostgreSQL database of its own ([`postgres_for`]).
pub fn config_text(data_dir: &Path, extra: &str) -> String {
    let store = match std::env::var(DATABASE_URL_VAR) {
        Ok(server) if !extra.contains("store =") => {
            format!(
                "store = \"postgres\"\ndatabase_url = {:?}\n",
                postgres_for(&server, data_dir)
            )
        }
        _ => String::new(),
    };
    // Top-level keys come before the first [section] of `extra`.
    format!("{store}{}", sqlite_config_text(data_dir, extra))
}

/// [`config_text`] on SQLite whatever the environment says: for the tests of the SQLite
/// file itself.
pub fn sqlite_config_text(data_dir: &Path, extra: &str) -> String {
    let listen = if extra.contains("listen =") {
        ""
    } else {
        "listen = \"127.0.0.1:0\"\n"
    };
    format!("{listen}data_dir = {data_dir:?}\nheartbeat_secs = 1\n{extra}\n")
}

/// The first line of the `extra` configuration of a test about the SQLite file itself (it
/// opens, locks or replaces the file): its hub stays on SQLite when the others run on
/// PostgreSQL.
pub const ON_SQLITE: &str = "store = \"sqlite\"\n";

/// The environment variable that runs the hubs of these tests on a PostgreSQL server: a
/// connection string to its `postgres` database, as a superuser (`make test` starts a
/// throw-away server and sets it).
pub const DATABASE_URL_VAR: &str = "RINGSIDE_TEST_DATABASE_URL";

/// The connection string of the database of the hub whose data directory is `data_dir` on
/// the server at `server`, created if missing: one database per directory, so that a hub
/// started again on its directory finds its data, and parallel tests never share one.
pub fn postgres_for(server: &str, data_dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    let name = format!("ringside_test_{:016x}", hasher.finish());
    let (base, _) = server
        .rsplit_once('/')
        .expect("RINGSIDE_TEST_DATABASE_URL is a postgresql:// URL");
    let url = format!("{base}/{name}");
    let server = server.to_owned();
    // The blocking client must not run on the test's async thread.
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&server, postgres::NoTls)
            .expect("the test PostgreSQL server answers");
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .expect("pg_database readable")
            .is_some();
        if !exists {
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("a test database is created");
        }
    })
    .join()
    .expect("creating the test database");
    url
}

/// [`postgres_for`] on the server the environment names, or a failure saying why a test
/// that needs PostgreSQL cannot run.
pub fn required_postgres_for(data_dir: &Path) -> String {
    let server = std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{DATABASE_URL_VAR} is not set: this test needs a PostgreSQL server (make test \
             starts one)"
        )
    });
    postgres_for(&server, data_dir)
}

/// `[generic]` switched on with [`TOKEN`].
pub const GENERIC_ON: &str =
    "[generic]\nenabled = true\ntoken = \"generic-test-token-0123456789\"\n";

impl TestHub {
    /// A hub with the generic endpoint on and `extra` configuration.
    pub async fn start(extra: &str) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, &format!("{extra}\n{GENERIC_ON}")).await
    }

    /// A hub on an existing directory with exactly this extra configuration.
    pub async fn start_in(dir: tempfile::TempDir, extra: &str) -> TestHub {
        Self::start_on(dir, extra, Arc::new(SystemClock)).await
    }

    /// [`TestHub::start`] on a clock that moves only when the test moves it, once the
    /// janitor's first pass is done: the janitor's next pass comes when the test advances
    /// the clock by its period (`ring_timeout_secs / 4`, 1 to 5 s).
    pub async fn start_on_manual_clock(extra: &str) -> (TestHub, ManualClock) {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::starting_at(time::OffsetDateTime::now_utc());
        let hub = Self::start_on(
            dir,
            &format!("{extra}\n{GENERIC_ON}"),
            Arc::new(clock.clone()),
        )
        .await;
        clock.begun(1).await;
        (hub, clock)
    }

    /// A hub on an existing directory with exactly this extra configuration, on `clock`.
    pub async fn start_on(dir: tempfile::TempDir, extra: &str, clock: Arc<dyn Clock>) -> TestHub {
        let text = config_text(&dir.path().join("data"), extra);
        let settings = Config::from_toml(&text, Path::new("test.toml"), std::iter::empty())
            .expect("test configuration loads");
        let running = ringside_hub::start_with_clock(settings, clock)
            .await
            .expect("hub starts");
        let mut hub = TestHub {
            running,
            dir,
            admin_token: String::new(),
            http: reqwest::Client::new(),
        };
        hub.admin_token = hub.agent("admin", true, &[]).await;
        hub
    }

    /// Creates an agent through the admin API (the first one directly) and returns its token.
    pub async fn agent(&self, login: &str, admin: bool, numbers: &[&str]) -> String {
        if self.admin_token.is_empty() {
            let secret = ringside_hub::token::generate();
            let agent = ringside_hub::state::new_agent(
                login,
                "Admin",
                admin,
                vec![],
                Default::default(),
                &self.running.hub.settings.country,
            )
            .unwrap();
            self.running
                .hub
                .recorder
                .add_agent(
                    &agent,
                    &ringside_hub::token::hash(&secret),
                    self.running.hub.clock.now(),
                )
                .await
                .unwrap()
                .expect("new login");
            return secret;
        }
        let body =
            serde_json::json!({"login": login, "name": login, "admin": admin, "numbers": numbers});
        let response = self
            .http
            .post(self.url("/api/v1/admin/agents"))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        created["token"].as_str().unwrap().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// POSTs form fields to the generic CTI endpoint; returns status and JSON body.
    pub async fn cti(&self, fields: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/cti/{TOKEN}")))
            .form(fields)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GET with a bearer token; returns status and JSON body.
    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Sends JSON with a bearer token; returns status and JSON body.
    pub async fn send(&self, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The whole journal, newest first.
    pub async fn journal(&self) -> Vec<Value> {
        let (status, page) = self
            .get("/api/v1/journal?limit=500", &self.admin_token)
            .await;
        assert_eq!(status, 200, "{page}");
        page["entries"].as_array().unwrap().clone()
    }

    /// Rings an inbound call `call_id` from `from` through the generic CTI webhook.
    pub async fn ring_from(&self, call_id: &str, from: &str) {
        let (status, body) = self
            .cti(&[
                ("event", "newCall"),
                ("direction", "in"),
                ("callId", call_id),
                ("from", from),
                ("to", "4930600000000"),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// An inbound call `call_id` from `from` that rang and was hung up unanswered.
    pub async fn missed_call(&self, call_id: &str, from: &str) {
        self.ring_from(call_id, from).await;
        let (status, body) = self
            .cti(&[
                ("event", "hangup"),
                ("direction", "in"),
                ("callId", call_id),
                ("cause", "cancel"),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// The journal entry of call `call_id`.
    pub async fn journal_entry(&self, call_id: &str) -> Value {
        self.journal()
            .await
            .into_iter()
            .find(|entry| entry["call_id"] == call_id)
            .expect("the call is in the journal")
    }

    /// Connects to the stream as the agent with `token`, resuming from `resume`.
    pub async fn stream(&self, token: &str, resume: Option<(&str, u64)>) -> Stream {
        Stream::connect(&self.running.addr.to_string(), token, resume).await
    }
}

/// A stream connection as a test reads it: snapshots put together from their parts, as the
/// client does.
pub struct Stream {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    assembly: SnapshotAssembly,
}

impl Stream {
    /// Connects to the stream of the hub at `addr` as the agent with `token`, resuming from
    /// `resume`.
    pub async fn connect(addr: &str, token: &str, resume: Option<(&str, u64)>) -> Stream {
        let query = resume
            .map(|(epoch, seq)| format!("?epoch={epoch}&seq={seq}"))
            .unwrap_or_default();
        let url = format!("ws://{addr}/api/v1/stream{query}");
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("stream connects");
        Stream {
            socket,
            assembly: SnapshotAssembly::new(),
        }
    }

    /// The next hub message (pings are answered and skipped); panics after 5 s.
    pub async fn next(&mut self) -> ServerMessage {
        self.next_within(Duration::from_secs(5))
            .await
            .expect("a stream message within 5 s")
    }

    /// The next hub message, or `None` when none comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<ServerMessage> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match frame.expect("stream open").expect("stream frame") {
                Message::Text(text) => {
                    if let Some(message) = assemble(&mut self.assembly, &text) {
                        return Some(message);
                    }
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Waits for a WebSocket ping from the hub.
    pub async fn ping_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return false,
                Ok(Some(Ok(Message::Ping(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
                Ok(_) => return false,
            }
        }
    }

    /// Whether the hub closes the connection within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.socket.send(Message::Close(None)).await;
        let _ = self.socket.close(None).await;
    }
}

/// Feeds one text frame to `assembly`: the message it completes, if any. Panics on a frame
/// out of place or beyond the client's bounds.
pub fn assemble(assembly: &mut SnapshotAssembly, text: &str) -> Option<ServerMessage> {
    assert!(
        text.len() <= ringside_core::stream::MAX_FRAME_BYTES,
        "a frame of {} bytes",
        text.len()
    );
    let frame: StreamFrame = serde_json::from_str(text).expect("a stream frame");
    assembly.feed(frame, text.len()).expect("frames in order")
}

/// `X-Twilio-Signature` as Twilio computes it, written here independently of the hub's
/// checker: base64 HMAC-SHA1 of the URL followed by every parameter's name and value, sorted.
pub fn twilio_signature(key: &str, url: &str, params: &[(&str, &str)]) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

pub fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// The `(epoch, seq)` of a stream message.
pub fn position(message: &ServerMessage) -> (String, u64) {
    match message {
        ServerMessage::Event(e) => (e.epoch.clone(), e.seq),
        ServerMessage::Snapshot(s) => (s.epoch.clone(), s.seq),
    }
}

/// The names of the contacts a journal entry's caller match names, in order.
pub fn contact_names(entry: &Value) -> Vec<String> {
    entry["caller"]["contacts"]
        .as_array()
        .map(|contacts| {
            contacts
                .iter()
                .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The call carried by a stream event, if it carries one.
pub fn call_of(message: &ServerMessage) -> Option<&ringside_core::call::Call> {
    match message {
        ServerMessage::Event(e) => match &e.body {
            ringside_core::stream::EventBody::Call { call } => Some(call),
            _ => None,
        },
        ServerMessage::Snapshot(_) => None,
    }
}

/// The event a stream message is; panics on a snapshot.
pub fn event_of(message: ServerMessage) -> ringside_core::stream::StreamEvent {
    match message {
        ServerMessage::Event(event) => event,
        ServerMessage::Snapshot(_) => panic!("an event, not a snapshot"),
    }
}

/// The hub's log as a test reads it: a subscriber for the test's thread, where a
/// `#[tokio::test]` (a current-thread runtime) runs the hub's tasks, writing into memory.
#[derive(Debug, Clone, Default)]
pub struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    /// Starts capturing; the capture ends when the guard is dropped.
    pub fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
