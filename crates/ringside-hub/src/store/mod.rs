//! The hub's durable state: the journal, the event log, agents, the caller directory and the
//! outbox of events (and call ticket jobs) for Zammad. In one SQLite file (WAL mode,
//! `synchronous = FULL`) for a hub of one process, or in a PostgreSQL database shared by the
//! nodes of a hub (`store = "postgres"`); every function speaks both ([`db`]).
//!
//! The store speaks to either synchronously (`rusqlite`, and `postgres`, the blocking client
//! of `tokio-postgres`): one operation is a handful of statements. Async code reads through
//! [`Store::read`], which runs the operation on a pooled connection on Tokio's blocking
//! threads (one thread hop per operation, not per statement), or, for the short index
//! lookups on the webhook path, through [`Store::read_inline`]; every write that the stream
//! reports goes through the single writer connection owned by [`crate::recorder`].

pub(crate) mod agents;
pub mod call_tickets;
pub(crate) mod calls;
pub mod db;
pub mod directory;
pub mod dump;
pub(crate) mod events;
pub(crate) mod lease;
pub(crate) mod nodes;
pub(crate) mod outbox;
mod pg_server;
mod postgres_store;
pub mod signal;
pub mod zammad;
pub mod zammad_maybe;

pub use agents::{AgentChange, AgentRow, NewAgent};
pub use db::{on_own_thread, Db, DbConnection, PgSession};
pub use directory::ImportCounts;
pub use outbox::OutboxItem;
pub use pg_server::{CaFileError, PgServer};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::histogram::Histogram;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use thiserror::Error;

/// The database file's name inside `data_dir`.
pub const DATABASE_FILE: &str = "ringside.sqlite";

/// Prepared statements each connection keeps: more than the store's distinct statements, so
/// that none is parsed again (rusqlite keeps 16 by default, fewer than a webhook's path
/// through the writer uses, which made it parse statements over and over).
const STATEMENT_CACHE: usize = 256;

/// Changes to the schema after version 1, in order; the index is the version minus 2.
const MIGRATIONS: &[&str] = &[
    include_str!("migration_2.sql"),
    include_str!("migration_3.sql"),
    include_str!("migration_4.sql"),
    include_str!("migration_5.sql"),
    include_str!("migration_6.sql"),
    include_str!("migration_7.sql"),
    include_str!("migration_8.sql"),
    include_str!("migration_9.sql"),
    include_str!("migration_10.sql"),
    include_str!("migration_11.sql"),
    include_str!("migration_12.sql"),
];

const SCHEMA_VERSION: i64 = 1 + MIGRATIONS.len() as i64;

/// How long a pooled PostgreSQL session may have been idle before it is checked before use.
const CHECK_IDLE_SESSIONS: Duration = Duration::from_millis(500);

/// Read connections kept open for reuse.
const IDLE_READERS: usize = 8;

/// PostgreSQL sessions one hub's reads may have open at once, idle or in use. PostgreSQL
/// allows 100 connections by default, for every client together: a busy node waits for
/// one of its own sessions rather than taking the other nodes'.
pub const MAX_POSTGRES_READERS: usize = 16;

/// How long a read waits for a PostgreSQL session when all are in use, before it fails.
const READER_WAIT: Duration = Duration::from_secs(5);

/// A failure of the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    /// The PostgreSQL server failed or refused a statement. Its cause is in the message,
    /// not a source of its own, so that a chain of errors says it once.
    #[error("PostgreSQL: {}", postgres_reason(.0))]
    Postgres(postgres::Error),
    /// The operation looks at the SQLite file itself and has no PostgreSQL side.
    #[error("this works on the SQLite store only")]
    Unsupported,
    /// A stored JSON body could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The data directory or a database file could not be created or made private.
    #[error("cannot create or protect {path}: {source}")]
    DataDir {
        /// The directory or file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The database was written by a newer hub.
    #[error("the database has schema version {found}; this hub knows up to {known}")]
    NewerSchema {
        /// The database's version.
        found: i64,
        /// The newest version this hub knows.
        known: i64,
    },
    /// The hub is shutting down.
    #[error("the store is closed")]
    Closed,
    /// A value that must be unique is taken, e.g. a provider id of another agent.
    #[error("{0}")]
    Taken(String),
    /// The transaction a change was committed in failed, so the change was not stored.
    #[error("the change was not committed: {0}")]
    Batch(String),
    /// The writer's queue is full: the change was not taken; the client may retry shortly.
    #[error("the hub is busy: its write queue is full ({0} changes waiting); retry in a moment")]
    Busy(usize),
    /// Every PostgreSQL session the reads may open was in use for as long as a read waits.
    #[error(
        "the hub is busy: all {MAX_POSTGRES_READERS} of its database sessions for reads are \
         in use; retry in a moment"
    )]
    ReadersBusy,
    /// The change failed unexpectedly inside the writer (a bug) and was rolled back; the
    /// other changes of its batch were committed.
    #[error("the change failed inside the writer and was not stored")]
    Abandoned,
    /// `database_ca_file` cannot be read as certificates.
    #[error(transparent)]
    CaFile(#[from] CaFileError),
    /// An event could not be made into a stream frame, so the change was not stored.
    #[error("an event cannot be sent on the stream: {0}")]
    Frame(#[from] ringside_core::stream::FrameJsonError),
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Postgres(e)
    }
}

/// What went wrong with PostgreSQL, in the server's words where it spoke: the client's own
/// message is only "db error" or "error connecting to server". Never the connection string.
fn postgres_reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut reason = db.message().to_owned();
        if let Some(detail) = db.detail() {
            reason.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            reason.push_str(&format!("; {hint}"));
        }
        return reason;
    }
    let reason = match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    };
    if reason.contains("not valid for name") {
        format!("{reason} (the hub checks the server's name: use one its certificate holds)")
    } else if reason.contains("invalid peer certificate") {
        format!(
            "{reason} (the hub verifies the server's certificate: name the authority that \
             signed it with database_ca_file)"
        )
    } else {
        reason
    }
}

/// The open database, for reads.
#[derive(Debug, Clone)]
pub struct Store {
    readers: Arc<Readers>,
}

/// Where the hub's data is: the engine and its address.
#[derive(Debug, Clone, Copy)]
pub enum Location<'a> {
    /// The SQLite file in this data directory.
    Sqlite(&'a Path),
    /// The PostgreSQL database at this connection string (`postgresql://…` or key-value),
    /// with the authority of its server's certificate when one is named
    /// (`database_ca_file`).
    Postgres {
        /// `database_url`.
        url: &'a str,
        /// `database_ca_file`.
        ca_file: Option<&'a Path>,
    },
}

impl std::fmt::Display for Location<'_> {
    /// The database in words, for messages: the SQLite file's directory, or the PostgreSQL
    /// database's host and name (never the whole connection string, which may hold a
    /// password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(dir) => write!(f, "the database in {}", dir.display()),
            Location::Postgres { url, .. } => match url.parse::<postgres::Config>() {
                Ok(config) => {
                    let host = match config.get_hosts().first() {
                        Some(postgres::config::Host::Tcp(host)) => host.clone(),
                        Some(postgres::config::Host::Unix(dir)) => dir.display().to_string(),
                        None => "localhost".to_owned(),
                    };
                    let name = config.get_dbname().or(config.get_user()).unwrap_or("");
                    write!(f, "the PostgreSQL database {name} on {host}")
                }
                Err(_) => f.write_str("the PostgreSQL database of database_url"),
            },
        }
    }
}

/// Where read connections come from.
enum Source {
    Sqlite(PathBuf),
    Postgres(Box<PgServer>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            // The connection string may hold a password.
            Source::Postgres(_) => f.write_str("Postgres"),
        }
    }
}

/// The read connections: those kept for reuse, and how many are open.
#[derive(Debug)]
struct Readers {
    source: Source,
    pool: Mutex<Pool>,
    /// Signalled when a connection is given back or closed.
    freed: Condvar,
    /// Connections open at most, idle or in use.
    max_open: usize,
    /// How long each read through [`Store::read`] took, for `/metrics`.
    times: Histogram,
}

/// The idle connections, with the time each was given back, and how many are open.
#[derive(Debug, Default)]
struct Pool {
    idle: Vec<(DbConnection, Instant)>,
    open: usize,
}

impl Readers {
    fn new(source: Source) -> Arc<Self> {
        let max_open = match source {
            Source::Sqlite(_) => usize::MAX,
            Source::Postgres(_) => MAX_POSTGRES_READERS,
        };
        Arc::new(Readers {
            source,
            pool: Mutex::default(),
            freed: Condvar::new(),
            max_open,
            times: crate::metrics::latency_buckets(),
        })
    }

    /// An idle connection that is still alive, else a new one once fewer than `max_open`
    /// are open (waiting up to [`READER_WAIT`] for one to be freed).
    fn take(&self) -> Result<DbConnection, StoreError> {
        let deadline = Instant::now() + READER_WAIT;
        let mut pool = self.pool.lock().expect("reader pool lock");
        loop {
            if let Some((mut conn, since)) = pool.idle.pop() {
                drop(pool);
                // A session idle a while may have been ended by the server (a restart, a
                // failover), which the client learns only when it uses it: asked first.
                let alive = match &mut conn {
                    DbConnection::Postgres(session) if since.elapsed() >= CHECK_IDLE_SESSIONS => {
                        session.batch_execute("").is_ok()
                    }
                    _ => true,
                };
                if alive {
                    return Ok(conn);
                }
                drop(conn);
                pool = self.pool.lock().expect("reader pool lock");
                pool.open -= 1;
                continue;
            }
            if pool.open < self.max_open {
                pool.open += 1;
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::ReadersBusy);
            }
            pool = self
                .freed
                .wait_timeout(pool, left)
                .expect("reader pool lock")
                .0;
        }
        drop(pool);
        self.connect().inspect_err(|_| self.closed())
    }

    /// A new connection to the store.
    fn connect(&self) -> Result<DbConnection, StoreError> {
        match &self.source {
            Source::Sqlite(path) => {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(Duration::from_secs(10))?;
                conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                keep_plans(&conn)?;
                // No memory map: a read connection that begins a read after the writer
                // committed drops its cache and unmaps the whole file (SQLite's WAL rule),
                // and under load every webhook's read follows a commit. Unmapping cost more
                // (each unmap is a TLB shoot-down on every core) than the reads a map saves
                // on a quiet hub.
                Ok(DbConnection::Sqlite(conn))
            }
            Source::Postgres(server) => Ok(DbConnection::Postgres(Box::new(PgSession::connect(
                server,
            )?))),
        }
    }

    /// Counts a connection taken with [`Readers::take`] as closed (dropped by the caller).
    fn closed(&self) {
        self.pool.lock().expect("reader pool lock").open -= 1;
        self.freed.notify_one();
    }

    /// Keeps `conn` for the next read, or closes it when enough are kept.
    fn give_back(&self, conn: DbConnection) {
        let mut pool = self.pool.lock().expect("reader pool lock");
        if pool.idle.len() < IDLE_READERS {
            pool.idle.push((conn, Instant::now()));
        } else {
            pool.open -= 1;
        }
        drop(pool);
        self.freed.notify_one();
    }

    /// Runs `read` on a pooled connection; on PostgreSQL, once more on a new session when
    /// the server had ended the pooled one, and a session that failed is closed rather than
    /// pooled (the server may have gone away).
    fn with_reader<T>(
        &self,
        read: impl Fn(&mut Db<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.take()?;
        let mut result = read(&mut conn.db());
        if matches!(
            (&conn, &result),
            (DbConnection::Postgres(session), Err(_)) if session.is_closed()
        ) {
            // The server had ended the session (a restart, a failover), and likely the
            // pooled ones with it: once more on a new one.
            drop(conn);
            let mut pool = self.pool.lock().expect("reader pool lock");
            pool.open -= pool.idle.len() + 1;
            pool.idle.clear();
            drop(pool);
            self.freed.notify_all();
            conn = self.take()?;
            result = read(&mut conn.db());
        }
        let broken = matches!(
            (&conn, &result),
            (DbConnection::Postgres(session), Err(_)) if session.is_closed()
        );
        if broken {
            drop(conn);
            self.closed();
        } else {
            self.give_back(conn);
        }
        result
    }
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and returns the store with its
    /// writer connection. The database and its `-wal` and `-shm` files are readable by
    /// their owner only ([`crate::owner_only`]): a new database file is created 0600, which
    /// SQLite gives the files it creates next to it, and wider modes are tightened.
    pub fn open(data_dir: &Path) -> Result<(Store, Connection), StoreError> {
        let (path, writer, _) = open_writer(data_dir)?;
        Ok((
            Store {
                readers: Readers::new(Source::Sqlite(path)),
            },
            writer,
        ))
    }

    /// Opens the database at `location` (creating its schema if needed, migrating an older
    /// one) and returns the store with its writer connection.
    pub fn open_at(location: Location<'_>) -> Result<(Store, DbConnection), StoreError> {
        match location {
            Location::Sqlite(data_dir) => {
                let (store, writer) = Store::open(data_dir)?;
                Ok((store, writer.into()))
            }
            Location::Postgres { url, ca_file } => {
                let server = PgServer::new(url, ca_file)?;
                let (writer, _) = on_own_thread(|| postgres_store::open_writer(&server))?;
                Ok((
                    Store {
                        readers: Readers::new(Source::Postgres(Box::new(server))),
                    },
                    DbConnection::Postgres(Box::new(writer)),
                ))
            }
        }
    }

    /// Brings the database at `location` to this hub's schema (creating it if needed), as
    /// [`Store::open_at`] does, and says from which version: for `ringside-hub migrate`, so
    /// that an upgrade's migrations can run before the hub serves.
    pub fn migrate(location: Location<'_>) -> Result<Migration, StoreError> {
        match location {
            Location::Sqlite(data_dir) => Ok(open_writer(data_dir)?.2),
            Location::Postgres { url, ca_file } => {
                let server = PgServer::new(url, ca_file)?;
                // The session closes on that thread too.
                on_own_thread(|| postgres_store::open_writer(&server).map(|(_, done)| done))
            }
        }
    }

    /// Runs a short read (a few index lookups: tens of microseconds) on a pooled connection
    /// right here, on the async thread: a hop to another thread would cost more than the
    /// read itself on SQLite. On PostgreSQL, whose blocking client must not run on an async
    /// thread, the read runs on a thread of its own while this one waits: a round trip to
    /// the server costs more than the thread.
    pub fn read_inline<T: Send>(
        &self,
        read: impl Fn(&mut Db<'_>) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        match self.readers.source {
            Source::Sqlite(_) => self.readers.with_reader(read),
            // A thread of the runtime's own pool, which moves this thread's other tasks
            // elsewhere meanwhile; a thread of its own on a single-threaded runtime.
            Source::Postgres(_) => match tokio::runtime::Handle::try_current() {
                Ok(runtime)
                    if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread =>
                {
                    tokio::task::block_in_place(|| on_own_thread(|| self.readers.with_reader(read)))
                }
                _ => on_own_thread(|| self.readers.with_reader(read)),
            },
        }
    }

    /// Runs a read on a pooled connection, off the async threads.
    pub async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut Db<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let result = readers.with_reader(read);
            readers.times.observe(started.elapsed().as_secs_f64());
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Whether other hub processes share this store (PostgreSQL): work for one node may be
    /// queued by another, which cannot wake it.
    pub fn is_shared(&self) -> bool {
        matches!(self.readers.source, Source::Postgres(_))
    }

    /// The right to do `work` for the hub on this node (see [`lease`]).
    pub fn lease(&self, work: lease::Work) -> lease::Lease {
        match &self.readers.source {
            Source::Sqlite(_) => lease::Lease::sole(),
            Source::Postgres(server) => lease::Lease::shared(work, (**server).clone()),
        }
    }

    /// The PostgreSQL server, for a session of its own (a listener);
    /// `None` on SQLite.
    pub fn postgres_server(&self) -> Option<PgServer> {
        match &self.readers.source {
            Source::Sqlite(_) => None,
            Source::Postgres(server) => Some((**server).clone()),
        }
    }

    /// How long each read through [`Store::read`] took (on the reading thread, without the
    /// hop to it), for `/metrics`. The short reads of [`Store::read_inline`] are not timed:
    /// the webhook path makes several, and each observation takes the histogram's lock.
    pub fn read_times(&self) -> Histogram {
        self.readers.times.clone()
    }
}

/// Opens the writer connection on the database in `data_dir` (created 0600 if new, its
/// companions tightened) and brings its schema up to date.
fn open_writer(data_dir: &Path) -> Result<(PathBuf, Connection, Migration), StoreError> {
    crate::owner_only::create_dir(data_dir).map_err(|source| StoreError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let path = data_dir.join(DATABASE_FILE);
    crate::owner_only::create_file(&path).map_err(|source| StoreError::DataDir {
        path: path.display().to_string(),
        source,
    })?;
    for suffix in ["-wal", "-shm"] {
        let mut companion = path.clone().into_os_string();
        companion.push(suffix);
        let companion = PathBuf::from(companion);
        crate::owner_only::tighten(&companion).map_err(|source| StoreError::DataDir {
            path: companion.display().to_string(),
            source,
        })?;
    }
    let mut writer = Connection::open(&path)?;
    writer.busy_timeout(Duration::from_secs(10))?;
    writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    keep_plans(&writer)?;
    writer.pragma_update(None, "journal_mode", "WAL")?;
    writer.pragma_update(None, "synchronous", "FULL")?;
    writer.pragma_update(None, "foreign_keys", true)?;
    let migration = migrate(&mut writer)?;
    Ok((path, writer, migration))
}

/// What bringing the schema up to date did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The schema version found: 0 for a new database.
    pub from: i64,
    /// The version now, this hub's.
    pub to: i64,
}

/// Makes SQLite plan a statement once, whatever values are bound to it (its query planner
/// stability guarantee). Without it, a statement on a table with a partial index (such as
/// `caller_numbers`) is planned again at every execution, because a bound value might
/// decide whether that index applies: the caller lookup spent more time in SQLite's parser
/// than in its reads. The partial indexes here are used by statements whose text alone
/// implies the index's condition, so no plan gets worse.
pub fn keep_plans(conn: &Connection) -> Result<(), StoreError> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Creates the schema on a new database and brings an older one up to date.
fn migrate(conn: &mut Connection) -> Result<Migration, StoreError> {
    let has_meta: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
        [],
        |row| row.get(0),
    )?;
    let found = if has_meta {
        meta(conn, "schema_version")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    if !has_meta {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(include_str!("schema.sql"))?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('epoch', ?1), ('schema_version', '1')",
            [new_epoch()],
        )?;
        tx.commit()?;
    }
    let version: i64 = meta(conn, "schema_version")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate() {
        let target = index as i64 + 2;
        if version < target {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute_batch(migration)?;
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [target.to_string()],
            )?;
            tx.commit()?;
        }
    }
    Ok(Migration {
        from: found,
        to: SCHEMA_VERSION,
    })
}

fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?)
}

/// A fresh random epoch (see [`events::epoch`]).
fn new_epoch() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
