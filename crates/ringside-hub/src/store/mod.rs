//! The hub's durable state in one SQLite file (WAL mode, `synchronous = FULL`): the journal,
//! the event log, agents, the caller directory and the outbox of events (and call ticket
//! jobs) for Zammad.
//!
//! The store speaks to SQLite synchronously, through `rusqlite`: one operation is a handful of
//! statements of a few microseconds each. Async code reads through [`Store::read`], which runs
//! the operation on a pooled connection on Tokio's blocking threads (one thread hop per
//! operation, not per statement), or, for the short index lookups on the webhook path,
//! through [`Store::read_inline`]; every write that the stream reports goes through the single
//! writer connection owned by [`crate::recorder`].

pub(crate) mod agents;
pub mod call_tickets;
pub(crate) mod calls;
pub mod directory;
pub(crate) mod events;
pub(crate) mod outbox;
pub mod zammad;
pub mod zammad_maybe;

pub use agents::{AgentChange, AgentRow, NewAgent};
pub use directory::ImportCounts;
pub use outbox::OutboxItem;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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

/// Read connections kept open for reuse.
const IDLE_READERS: usize = 8;

/// A failure of the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
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
    #[error("the database has schema version {0}; this hub knows up to {SCHEMA_VERSION}")]
    NewerSchema(i64),
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
    /// The change failed unexpectedly inside the writer (a bug) and was rolled back; the
    /// other changes of its batch were committed.
    #[error("the change failed inside the writer and was not stored")]
    Abandoned,
    /// An event could not be made into a stream frame, so the change was not stored.
    #[error("an event cannot be sent on the stream: {0}")]
    Frame(#[from] ringside_core::stream::FrameJsonError),
}

/// The open database, for reads.
#[derive(Debug, Clone)]
pub struct Store {
    readers: Arc<Readers>,
}

/// Idle read-only connections.
#[derive(Debug)]
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// How long each read through [`Store::read`] took, for `/metrics`.
    times: Histogram,
}

impl Readers {
    fn take(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = self.idle.lock().expect("reader pool lock").pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        keep_plans(&conn)?;
        // No memory map: a read connection that begins a read after the writer committed
        // drops its cache and unmaps the whole file (SQLite's WAL rule), and under load
        // every webhook's read follows a commit. Unmapping cost more (each unmap is a TLB
        // shoot-down on every core) than the reads a map saves on a quiet hub.
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().expect("reader pool lock");
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and returns the store with its
    /// writer connection. The database and its `-wal` and `-shm` files are readable by
    /// their owner only ([`crate::owner_only`]): a new database file is created 0600, which
    /// SQLite gives the files it creates next to it, and wider modes are tightened.
    pub fn open(data_dir: &Path) -> Result<(Store, Connection), StoreError> {
        let (path, writer, _) = open_writer(data_dir)?;
        let readers = Arc::new(Readers {
            path,
            idle: Mutex::new(Vec::new()),
            times: crate::metrics::latency_buckets(),
        });
        Ok((Store { readers }, writer))
    }

    /// Brings the database in `data_dir` to this hub's schema (creating it if needed), as
    /// [`Store::open`] does, and says from which version: for `ringside-hub migrate`, so
    /// that an upgrade's migrations can run before the hub serves.
    pub fn migrate(data_dir: &Path) -> Result<Migration, StoreError> {
        let (_, _, migration) = open_writer(data_dir)?;
        Ok(migration)
    }

    /// Runs a short read (a few index lookups: tens of microseconds) on a pooled read-only
    /// connection right here, on the async thread: a hop to another thread would cost more
    /// than the read itself. Anything longer goes through [`Store::read`].
    pub fn read_inline<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.readers.take()?;
        let result = read(&conn);
        self.readers.give_back(conn);
        result
    }

    /// Runs a read on a pooled read-only connection, off the async threads.
    pub async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let conn = readers.take()?;
            let result = read(&conn);
            readers.give_back(conn);
            readers.times.observe(started.elapsed().as_secs_f64());
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
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
        return Err(StoreError::NewerSchema(version));
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
