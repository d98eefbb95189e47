//! The connection every store function runs on, whichever engine holds the hub's data: the
//! SQLite file of an embedded or single-server hub, or the PostgreSQL server shared by the
//! nodes of a hub that runs on several.
//!
//! Store functions take a [`Db`] and speak each engine's SQL; the writer and the readers own
//! a [`DbConnection`] and lend it out as a [`Db`] for one change or one read.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use rusqlite::Connection;

use super::{PgServer, StoreError};

/// The transaction-scoped advisory lock every write transaction on PostgreSQL takes first
/// ("RngsWrit"): writers of all nodes run one at a time.
const WRITE_LOCK: i64 = 0x526e_6773_5772_6974;

/// Statements a PostgreSQL session keeps prepared: more than the store's distinct
/// statements; past it the cache starts over.
const PREPARED_STATEMENTS: usize = 512;

/// Runs `work` on a thread of its own and waits for it. PostgreSQL's blocking client
/// panics on a thread that drives async tasks, and some store work begins on one (opening
/// the store, the writer's first read, a command's import); the thread costs little next to
/// a round trip to the server. A panic in `work` goes on here.
pub fn on_own_thread<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// A borrowed connection to the hub's database, for one change or one read.
pub enum Db<'a> {
    /// A connection to the SQLite file.
    Sqlite(&'a Connection),
    /// A session on the PostgreSQL server.
    Postgres(&'a mut PgSession),
}

/// An owned connection to the hub's database: the writer's, or a pooled reader's.
pub enum DbConnection {
    /// A connection to the SQLite file.
    Sqlite(Connection),
    /// A session on the PostgreSQL server (boxed: far larger than a SQLite connection).
    Postgres(Box<PgSession>),
}

/// A session on the PostgreSQL server that prepares each statement once: a statement run
/// by its text alone costs a round trip to prepare it every time.
pub struct PgSession {
    /// Taken only when the session is dropped.
    client: Option<Client>,
    /// How to connect again when the server dropped the session.
    server: PgServer,
    prepared: HashMap<String, Statement>,
    /// Set when an answer said the server is ending the session: the client may not have
    /// seen the connection close yet, and the next use must not go to it.
    ending: bool,
}

impl Drop for PgSession {
    /// Closes the session off the async threads: closing it blocks on the client's own
    /// runtime, which panics on a thread that drives async tasks.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop_off_async(client);
        }
    }
}

/// Closes a client, on a thread of its own when this one may drive async tasks.
fn drop_off_async(client: Client) {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::spawn(move || drop(client));
    }
}

impl PgSession {
    /// Connects a session to the server `server`.
    pub fn connect(server: &PgServer) -> Result<Self, StoreError> {
        Ok(PgSession {
            client: Some(server.connect()?),
            server: server.clone(),
            prepared: HashMap::new(),
            ending: false,
        })
    }

    /// Connects again when the server dropped the session (it restarted, a network blip,
    /// an administrator's `pg_terminate_backend`), so that the next transaction works;
    /// called before each one begins.
    fn reconnect_if_closed(&mut self) -> Result<(), StoreError> {
        if !self.is_closed() {
            return Ok(());
        }
        let client = self.server.connect()?;
        tracing::info!("connected to PostgreSQL again");
        if let Some(old) = self.client.replace(client) {
            drop_off_async(old);
        }
        self.prepared.clear();
        self.ending = false;
        Ok(())
    }

    /// Whether the connection to the server is gone, or the server said it is ending it.
    pub fn is_closed(&self) -> bool {
        self.ending || self.client.as_ref().is_none_or(Client::is_closed)
    }

    /// Passes on `result`, noting when its error says the session is over: the server's
    /// FATAL "terminating connection" (a restart, a failover, `pg_terminate_backend`)
    /// arrives as the answer to the next statement, before the client sees the socket
    /// close, and that session must be replaced, not used again.
    fn checked<T>(&mut self, result: Result<T, postgres::Error>) -> Result<T, StoreError> {
        if let Err(error) = &result {
            self.ending |= ends_session(error);
        }
        Ok(result?)
    }

    fn client(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("the client is taken only when the session is dropped")
    }

    fn prepared(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        if self.prepared.len() >= PREPARED_STATEMENTS {
            self.prepared.clear();
        }
        let prepared = self.client().prepare(sql);
        let statement = self.checked(prepared)?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Runs a statement; returns how many rows it changed.
    pub fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let statement = self.prepared(sql)?;
        let result = self.client().execute(&statement, params);
        self.checked(result)
    }

    /// Runs a query; returns its rows.
    pub fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let statement = self.prepared(sql)?;
        let result = self.client().query(&statement, params);
        self.checked(result)
    }

    /// Runs a query that returns exactly one row.
    pub fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StoreError> {
        let statement = self.prepared(sql)?;
        let result = self.client().query_one(&statement, params);
        self.checked(result)
    }

    /// Runs a query that returns at most one row.
    pub fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let statement = self.prepared(sql)?;
        let result = self.client().query_opt(&statement, params);
        self.checked(result)
    }

    /// The notifications of the channels this session listens on.
    pub fn notifications(&mut self) -> postgres::Notifications<'_> {
        self.client().notifications()
    }

    /// Runs statements without parameters (a script, a savepoint), in the simple protocol.
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), StoreError> {
        let result = self.client().batch_execute(sql);
        self.checked(result)
    }
}

impl std::fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DbConnection::Sqlite(_) => "DbConnection::Sqlite",
            DbConnection::Postgres(_) => "DbConnection::Postgres",
        })
    }
}

impl From<Connection> for DbConnection {
    fn from(conn: Connection) -> Self {
        DbConnection::Sqlite(conn)
    }
}

impl DbConnection {
    /// Lends the connection out for one change or read.
    pub fn db(&mut self) -> Db<'_> {
        match self {
            DbConnection::Sqlite(conn) => Db::Sqlite(conn),
            DbConnection::Postgres(session) => Db::Postgres(session),
        }
    }
}

impl<'a> Db<'a> {
    /// The SQLite connection, for code that looks at the SQLite file itself (the store's
    /// tests of its query plans, the benchmarks' probes).
    pub fn sqlite(&self) -> Result<&'a Connection, StoreError> {
        match self {
            Db::Sqlite(conn) => Ok(conn),
            Db::Postgres(_) => Err(StoreError::Unsupported),
        }
    }

    /// Runs one statement without parameters or results (a savepoint, a commit). On SQLite
    /// from the connection's statement cache: a savepoint is set and released for every
    /// change, and parsing it each time showed in the writer's profile.
    pub fn run(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(conn) => {
                conn.prepare_cached(sql)?.execute([])?;
            }
            Db::Postgres(session) => session.batch_execute(sql)?,
        }
        Ok(())
    }

    /// Begins a write transaction. SQLite: `IMMEDIATE`, taking the file's write lock
    /// now, waiting for another writer (the command line) instead of failing on a snapshot
    /// that went stale. PostgreSQL: [`WRITE_LOCK`], which every writer of every node takes
    /// first, so that writers run one at a time across the nodes: events get their seqs in
    /// commit order, and a change that looks before it writes (a call event posted to two
    /// nodes at once) sees what the other node committed: READ COMMITTED (whatever the
    /// database's default), so that each statement sees what was committed before it.
    fn begin_write(&mut self) -> Result<(), StoreError> {
        let begun = match self {
            Db::Sqlite(_) => self.run("BEGIN IMMEDIATE"),
            Db::Postgres(session) => {
                let begin = format!(
                    "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
                );
                session.reconnect_if_closed()?;
                match session.batch_execute(&begin) {
                    // The server dropped the session since it was last used: the client
                    // learns it only now. Once more, on a new session.
                    Err(_) if session.is_closed() => session
                        .reconnect_if_closed()
                        .and_then(|()| session.batch_execute(&begin)),
                    begun => begun,
                }
            }
        };
        if begun.is_err() {
            // A BEGIN whose lock failed leaves an aborted transaction open.
            self.roll_back();
        }
        begun
    }

    /// Ends a transaction that failed, when its statement left it open.
    fn roll_back(&mut self) {
        let _ = self.run("ROLLBACK");
    }

    /// Runs `write` in a write transaction ([`Db::begin_write`]): committed when it
    /// succeeds, rolled back when it or the commit fails.
    pub fn in_write<T, E: From<StoreError>>(
        &mut self,
        write: impl FnOnce(&mut Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.begin_write()?;
        let written = write(self).and_then(|value| {
            self.run("COMMIT")?;
            Ok(value)
        });
        if written.is_err() {
            self.roll_back();
        }
        written
    }

    /// Runs `read` in one read transaction, so that its statements see one state of the
    /// database (a prune between two of them would leave a gap, say).
    pub fn snapshot<T, E: From<StoreError>>(
        &mut self,
        read: impl FnOnce(&mut Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let begin = match self {
            Db::Sqlite(_) => "BEGIN",
            Db::Postgres(session) => {
                session.reconnect_if_closed()?;
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            }
        };
        self.run(begin)?;
        match read(self) {
            Ok(value) => {
                self.run("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                self.roll_back();
                Err(e)
            }
        }
    }
}

/// Whether `error` means the server has ended (or is ending) the session: the connection
/// closed, a connection exception (SQLSTATE class 08), an operator's intervention (class
/// 57P: shutdown, `pg_terminate_backend`, the database dropped, an idle timeout), or the
/// idle-in-transaction timeout (25P03).
fn ends_session(error: &postgres::Error) -> bool {
    error.is_closed()
        || error.code().is_some_and(|state| {
            let code = state.code();
            code.starts_with("08") || code.starts_with("57P") || code == "25P03"
        })
}
