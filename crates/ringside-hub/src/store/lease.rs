//! Work that one node of a hub does for all of them: the janitor, the Zammad relay and the
//! Zammad sync. On PostgreSQL, a node does such work while it holds the work's advisory
//! lock on a session of its own; the server releases the lock when that session ends (the
//! node died, or lost the server), and another node takes it at its next try. On SQLite
//! the one hub process always holds it.

use std::sync::{Arc, Mutex, PoisonError};

use super::{PgServer, PgSession, StoreError};

/// How long a node that does not hold a lease waits before it tries again.
pub const RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// Work done by one node at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Closing forgotten calls, pruning the event log.
    Janitor,
    /// Delivering the outbox to Zammad.
    ZammadRelay,
    /// Reading Zammad's users and organizations into the directory.
    ZammadSync,
}

impl Work {
    /// The advisory lock's key: "Rngs" and a number per work.
    fn key(self) -> i64 {
        let base = 0x526e_6773_0000_0000_i64;
        base + match self {
            Work::Janitor => 1,
            Work::ZammadRelay => 2,
            Work::ZammadSync => 3,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Work::Janitor => "the janitor",
            Work::ZammadRelay => "the Zammad relay",
            Work::ZammadSync => "the Zammad sync",
        }
    }
}

/// The right to do one [`Work`] on this node.
#[derive(Debug, Clone)]
pub struct Lease {
    session: Option<Arc<Mutex<Session>>>,
}

impl Lease {
    /// A lease always held: the SQLite store's one process.
    pub fn sole() -> Self {
        Lease { session: None }
    }

    /// A lease of `work` among the nodes on the PostgreSQL server `server`.
    pub(super) fn shared(work: Work, server: PgServer) -> Self {
        Lease {
            session: Some(Arc::new(Mutex::new(Session {
                work,
                server,
                client: None,
                held: false,
                failing: false,
            }))),
        }
    }

    /// Whether this node does the work now: it held the lease and its session still
    /// answers, or it took the lease now. Asked before each pass of the work.
    pub async fn held(&self) -> bool {
        let Some(session) = &self.session else {
            return true;
        };
        let session = session.clone();
        tokio::task::spawn_blocking(move || {
            session
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .check()
        })
        .await
        .unwrap_or(false)
    }
}

/// The session a lease is held on.
struct Session {
    work: Work,
    server: PgServer,
    client: Option<PgSession>,
    held: bool,
    /// Whether the last try to reach the server failed (logged once, not at every try).
    failing: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("work", &self.work)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn check(&mut self) -> bool {
        if self.held {
            if let Some(client) = &mut self.client {
                if client.batch_execute("SELECT 1").is_ok() {
                    return true;
                }
            }
            tracing::warn!(
                "this node lost the lease of {}: another node takes it over",
                self.work.name()
            );
            self.client = None;
            self.held = false;
        }
        match self.try_take() {
            Ok(held) => {
                self.failing = false;
                if held {
                    tracing::info!("this node runs {} for the hub", self.work.name());
                }
                self.held = held;
                held
            }
            Err(e) => {
                if !self.failing {
                    tracing::error!(
                        "cannot take the lease of {} from PostgreSQL: {e}",
                        self.work.name()
                    );
                    self.failing = true;
                }
                self.client = None;
                false
            }
        }
    }

    fn try_take(&mut self) -> Result<bool, StoreError> {
        let client = match &mut self.client {
            Some(client) => client,
            None => self.client.insert(PgSession::connect(&self.server)?),
        };
        Ok(client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&self.work.key()])?
            .try_get(0)?)
    }
}
