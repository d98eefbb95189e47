//! Opening the hub's PostgreSQL database: connections, and the schema created on a new
//! database or checked on an existing one.

use postgres::Client;

use super::{Migration, PgServer, PgSession, StoreError};

/// The schema of a new PostgreSQL database.
const SCHEMA: &str = include_str!("postgres_schema.sql");

/// The newest PostgreSQL schema this hub knows.
const SCHEMA_VERSION: i64 = 1;

/// The advisory lock a node holds while it creates or migrates the schema, so that nodes
/// starting together do it once.
const SCHEMA_LOCK: i64 = 0x5269_6e67_7369_6465; // "Ringside"

/// Brings the schema up to date, then opens the writer's session.
pub(super) fn open_writer(server: &PgServer) -> Result<(PgSession, Migration), StoreError> {
    let migration = migrate(&mut server.connect()?)?;
    Ok((PgSession::connect(server)?, migration))
}

/// Creates the schema on a new database, or refuses one written by a newer hub.
fn migrate(client: &mut Client) -> Result<Migration, StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    let has_meta: bool = tx
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])?
        .try_get(0)?;
    let found = if has_meta {
        tx.query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
            .and_then(|row| row.try_get::<_, String>(0).ok()?.parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    if !has_meta {
        tx.batch_execute(SCHEMA)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('epoch', $1), ('schema_version', $2)",
            &[&super::new_epoch(), &SCHEMA_VERSION.to_string()],
        )?;
    }
    tx.commit()?;
    Ok(Migration {
        from: found,
        to: SCHEMA_VERSION,
    })
}
