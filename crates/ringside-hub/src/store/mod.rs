//! The hub's durable state in one SQLite file (WAL mode, `synchronous = FULL`): the journal,
//! the event log, agents and the caller directory.
//!
//! Reads go through a pool; every write that the stream reports goes through the single
//! writer connection (see [`crate::recorder`]), so event order is commit order.

pub(crate) mod agents;
pub(crate) mod calls;
pub mod directory;
pub(crate) mod events;

pub use agents::{AgentChange, AgentRow, NewAgent};
pub use calls::{JournalFilter, JournalPage};
pub use directory::ImportCounts;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Row};
use thiserror::Error;

/// The database file's name inside `data_dir`.
pub const DATABASE_FILE: &str = "ringside.sqlite";

const SCHEMA_VERSION: i64 = 1;

/// A failure of the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored JSON body could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The data directory could not be created.
    #[error("cannot create {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The database was written by a newer hub.
    #[error("the database has schema version {0}; this hub knows up to {SCHEMA_VERSION}")]
    NewerSchema(i64),
}

/// The open database.
#[derive(Debug, Clone)]
pub struct Store {
    read: SqlitePool,
    epoch: String,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and returns the store with its
    /// writer connection.
    pub async fn open(data_dir: &Path) -> Result<(Store, SqliteConnection), StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(data_dir.join(DATABASE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let mut writer = SqliteConnection::connect_with(&options).await?;
        let epoch = migrate(&mut writer).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok((Store { read, epoch }, writer))
    }

    /// The hub's epoch: it changes only when the event history is lost (a new database).
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The read pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.read
    }
}

/// Creates the schema on a new database and returns the epoch.
async fn migrate(conn: &mut SqliteConnection) -> Result<String, StoreError> {
    let has_meta: bool = sqlx::query(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
    )
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    if !has_meta {
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(include_str!("schema.sql"))
            .execute(&mut *tx)
            .await?;
        let epoch = new_epoch();
        sqlx::query("INSERT INTO meta (key, value) VALUES ('epoch', ?), ('schema_version', ?)")
            .bind(&epoch)
            .bind(SCHEMA_VERSION.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let version: i64 = meta(conn, "schema_version").await?.parse().unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema(version));
    }
    meta(conn, "epoch").await
}

async fn meta(conn: &mut SqliteConnection, key: &str) -> Result<String, StoreError> {
    Ok(sqlx::query("SELECT value FROM meta WHERE key = ?")
        .bind(key)
        .fetch_one(&mut *conn)
        .await?
        .get(0))
}

fn new_epoch() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
