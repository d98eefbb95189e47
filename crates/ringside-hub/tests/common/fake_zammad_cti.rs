//! A fake of Zammad's generic CTI endpoint (`POST /api/v1/cti/:token`) for the relay's
//! tests: a real HTTP server on a port of loopback, as strict as Zammad
//! (reference: helpdesks.md §2, zammad-cti.md §1 and §4): the feature switch and
//! configuration first (422), then the token in the path (401), the direction (422), and
//! its caller log by call id: a second `newCall` is 500 "call_id … already exists!", an
//! `answer` or `hangup` for an unknown call is 500 "No such call_id …", an `answer` after
//! the `hangup` changes nothing; like Zammad in production it can mask the text of a 500
//! ("Error ID …"). It records every request it is sent, can answer 503 or
//! refuse connections (its listener and every open connection closed), and come back on
//! the same port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

/// How the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Like a healthy Zammad.
    Up,
    /// 503 to every request (a proxy in front of a Zammad that is restarting).
    Unavailable,
    /// The generic CTI integration is switched off (422).
    Disabled,
}

/// One request the fake was sent.
#[derive(Debug, Clone)]
pub struct Received {
    /// The JSON body.
    pub body: Value,
    /// The status the fake answered.
    pub status: u16,
}

#[derive(Debug)]
struct Inner {
    token: String,
    mode: Mode,
    /// How long each answer takes.
    delay: Duration,
    /// Whether a 500's text is masked, as production Zammad does for callers without admin
    /// rights.
    masked: bool,
    /// Cti::Log: the state of each call id.
    log: HashMap<String, String>,
    received: Vec<Received>,
}

/// The running fake; see the module documentation.
pub struct FakeZammadCti {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    /// How many requests were answered 200.
    accepted: watch::Sender<usize>,
    server: Option<JoinHandle<()>>,
}

impl FakeZammadCti {
    /// Starts the fake with the CTI token `token`.
    pub async fn start(token: &str) -> FakeZammadCti {
        let mut fake = FakeZammadCti {
            addr: "127.0.0.1:0".parse().unwrap(),
            inner: Arc::new(Mutex::new(Inner {
                token: token.into(),
                mode: Mode::Up,
                delay: Duration::ZERO,
                masked: false,
                log: HashMap::new(),
                received: Vec::new(),
            })),
            accepted: watch::Sender::new(0),
            server: None,
        };
        fake.come_back().await;
        fake
    }

    /// Zammad's base URL, for `[zammad] url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers as `mode` from now on.
    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = mode;
    }

    /// Takes `token` as the CTI token from now on (the admin changed it in Zammad).
    pub fn set_token(&self, token: &str) {
        self.inner.lock().unwrap().token = token.into();
    }

    /// Masks the text of every 500 from now on, as production Zammad does.
    pub fn mask_errors(&self) {
        self.inner.lock().unwrap().masked = true;
    }

    /// Takes `delay` to answer each request from now on.
    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    /// Stops listening and closes every connection: connecting is refused.
    pub fn go_down(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }

    /// Listens again, on the same port once it has had one.
    pub async fn come_back(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(64).unwrap();
        self.addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/api/v1/cti/{token}", post(cti))
            .with_state(Fake {
                inner: self.inner.clone(),
                accepted: self.accepted.clone(),
            });
        self.server = Some(tokio::spawn(async move {
            // Dropped with the task: aborting it closes every connection too.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let app = app.clone();
                connections.spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                            app.clone().oneshot(request.map(axum::body::Body::new))
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }));
    }

    /// Every request so far, in the order they arrived.
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// The bodies answered 200, in order.
    pub fn accepted(&self) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 200)
            .map(|r| r.body)
            .collect()
    }

    /// The state of Zammad's caller log entry `call_id`.
    pub fn log_state(&self, call_id: &str) -> Option<String> {
        self.inner.lock().unwrap().log.get(call_id).cloned()
    }

    /// Waits (at most `within`) until `count` requests were answered 200; whether they were.
    pub async fn wait_accepted(&self, count: usize, within: Duration) -> bool {
        let mut accepted = self.accepted.subscribe();
        let waited = tokio::time::timeout(within, accepted.wait_for(|n| *n >= count)).await;
        waited.is_ok()
    }
}

impl Drop for FakeZammadCti {
    fn drop(&mut self) {
        self.go_down();
    }
}

#[derive(Clone)]
struct Fake {
    inner: Arc<Mutex<Inner>>,
    accepted: watch::Sender<usize>,
}

fn error(status: StatusCode, text: &str) -> (StatusCode, Value) {
    (status, json!({ "error": text }))
}

async fn cti(State(fake): State<Fake>, Path(token): Path<String>, body: String) -> Response {
    let delay = fake.inner.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (status, answer) = {
        let mut inner = fake.inner.lock().unwrap();
        let (status, mut answer) = process(&mut inner, &token, &body);
        if inner.masked && status == StatusCode::INTERNAL_SERVER_ERROR {
            answer = json!({"error": "Error ID 0a1b2c3d: Please contact your administrator."});
        }
        inner.received.push(Received {
            body,
            status: status.as_u16(),
        });
        (status, answer)
    };
    if status == StatusCode::OK {
        fake.accepted.send_modify(|n| *n += 1);
    }
    (status, Json(answer)).into_response()
}

/// Zammad's controller filters, then `Cti::Log.process`.
fn process(inner: &mut Inner, token: &str, body: &Value) -> (StatusCode, Value) {
    match inner.mode {
        Mode::Unavailable => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "Service Unavailable"}),
            )
        }
        Mode::Disabled => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Feature is disabled, please contact your administrator!",
            )
        }
        Mode::Up => {}
    }
    if token != inner.token {
        return error(
            StatusCode::UNAUTHORIZED,
            "Invalid token, please contact your admin!",
        );
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
    if !matches!(text("direction"), "in" | "out") {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid 'direction'!");
    }
    let call_id = match text("callId") {
        "" => text("call_id"),
        id => id,
    }
    .to_owned();
    let known = inner.log.get(&call_id).cloned();
    match (text("event"), known.as_deref()) {
        ("newCall", Some(_)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("call_id {call_id} already exists!"),
        ),
        ("newCall", None) if text("from").is_empty() || text("to").is_empty() => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Mysql2::Error: Column 'from' cannot be null",
        ),
        ("newCall", None) => {
            inner.log.insert(call_id, "newCall".into());
            (StatusCode::OK, json!({}))
        }
        ("answer" | "hangup", None) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("No such call_id {call_id}"),
        ),
        ("answer", Some("hangup")) => (StatusCode::OK, json!({})),
        (event @ ("answer" | "hangup"), Some(_)) => {
            inner.log.insert(call_id, event.into());
            (StatusCode::OK, json!({}))
        }
        (other, _) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Unknown event {other:?}"),
        ),
    }
}
