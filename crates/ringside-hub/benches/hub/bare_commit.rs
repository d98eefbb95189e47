//! The webhook cost's baseline: an axum handler that commits what a webhook makes durable,
//! with the hub's durability and none of its work. Each POST's form becomes a call row
//! (inserted, or updated by the call's next event) and an event row, both carrying the
//! fields as JSON, in a database with the hub's `calls` and `events` tables (WAL,
//! `synchronous = FULL`). One writer thread commits every webhook waiting for it in one
//! transaction (one `fsync` per batch, as the hub's writer does) before their POSTs are
//! answered. No token check, no parsing of a provider's format, no journal rules, no
//! presence, no stream: what the hub adds to this is the distance the ratio shows.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use rusqlite::Connection;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::bare_server::BareServer;

/// A running bare commit server, on its own runtime, with its writer thread.
pub struct BareCommit {
    /// The server.
    pub server: BareServer,
    writer: std::thread::JoinHandle<anyhow::Result<()>>,
}

/// One webhook for the writer: the call's key, state and JSON, and whom to answer.
struct Write {
    call_id: String,
    state: String,
    body: String,
    done: oneshot::Sender<bool>,
}

/// The most webhooks one transaction commits.
const BATCH: usize = 256;

impl BareCommit {
    /// Creates the database in `dir` and serves `POST /api/v1/cti/{token}` on `runtime`,
    /// writing rows of about `body_len` bytes (the hub's events' size).
    pub fn start(runtime: Runtime, dir: &Path, body_len: usize) -> anyhow::Result<BareCommit> {
        let conn = Connection::open(dir.join("bare.sqlite"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE calls (
                 id INTEGER PRIMARY KEY, provider TEXT NOT NULL, call_id TEXT NOT NULL,
                 direction TEXT NOT NULL, state TEXT NOT NULL, done INTEGER NOT NULL,
                 answered_by TEXT, initialized_at INTEGER, body TEXT NOT NULL,
                 UNIQUE (provider, call_id));
             CREATE INDEX calls_open ON calls (state, done);
             CREATE TABLE events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,
                 body TEXT NOT NULL);",
        )?;
        let (writes, queue) = mpsc::channel::<Write>();
        let writer = std::thread::Builder::new()
            .name("hub-bare-writer".into())
            .spawn(move || commit(conn, queue))?;
        let app = Router::new()
            .route("/api/v1/cti/{token}", post(webhook))
            .with_state(Shared { writes, body_len });
        Ok(BareCommit {
            server: BareServer::start(runtime, app)?,
            writer,
        })
    }

    /// Stops serving and ends the writer.
    pub fn stop(self) -> anyhow::Result<()> {
        // The router, and with it the last sender, goes with the runtime.
        self.server.stop();
        self.writer
            .join()
            .map_err(|_| anyhow::anyhow!("the bare writer panicked"))?
    }
}

#[derive(Clone)]
struct Shared {
    writes: mpsc::Sender<Write>,
    body_len: usize,
}

async fn webhook(
    State(shared): State<Shared>,
    Form(mut form): Form<HashMap<String, String>>,
) -> StatusCode {
    let (done, committed) = oneshot::channel();
    let call_id = form.get("callId").cloned().unwrap_or_default();
    let state = form.get("event").cloned().unwrap_or_default();
    let bare = serde_json::to_string(&form).unwrap_or_default();
    let pad = shared.body_len.saturating_sub(bare.len() + 10);
    form.insert("pad".into(), "x".repeat(pad));
    let write = Write {
        call_id,
        state,
        body: serde_json::to_string(&form).unwrap_or_default(),
        done,
    };
    if shared.writes.send(write).is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match committed.await {
        Ok(true) => StatusCode::OK,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Commits the webhooks waiting, up to [`BATCH`] a transaction, until every sender is gone.
fn commit(mut conn: Connection, queue: mpsc::Receiver<Write>) -> anyhow::Result<()> {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for write in &batch {
            tx.prepare_cached(
                "INSERT INTO calls (provider, call_id, direction, state, done, body)
                 VALUES ('generic', ?1, 'in', ?2, 0, ?3)
                 ON CONFLICT (provider, call_id) DO UPDATE SET state = ?2, body = ?3",
            )?
            .execute(rusqlite::params![write.call_id, write.state, write.body])?;
            tx.prepare_cached("INSERT INTO events (at, body) VALUES (?1, ?2)")?
                .execute(rusqlite::params![0, write.body])?;
        }
        tx.commit()?;
        for write in batch {
            let _ = write.done.send(true);
        }
    }
    Ok(())
}
