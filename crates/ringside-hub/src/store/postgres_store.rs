//! Opening the hub's PostgreSQL database: connections, and the schema created on a new
//! database or checked on an existing one.

use postgres::{Client, Config, NoTls};

use super::{Migration, PgSession, StoreError};

/// The schema of a new PostgreSQL database.
const SCHEMA: &str = include_str!("postgres_schema.sql");

/// The newest PostgreSQL schema this hub knows.
const SCHEMA_VERSION: i64 = 1;

/// The advisory lock a node holds while it creates or migrates the schema, so that nodes
/// starting together do it once.
const SCHEMA_LOCK: i64 = 0x5269_6e67_7369_6465; // "Ringside"

/// How long a connection attempt may take before the hub gives up on the server.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads a connection string (`postgresql://user:password@host/db` or `host=… dbname=…`).
pub(super) fn config(url: &str) -> Result<Config, StoreError> {
    let mut config: Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("ringside-hub");
    }
    // A node that dies in the middle of a transaction must not hold the write lock for
    // long, nor a dead host's session its leases (the server's TCP keepalive would wait
    // hours): the server ends such a session after seconds.
    let options = format!(
        "{} -c idle_in_transaction_session_timeout=10s -c tcp_keepalives_idle=10 \
         -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
        config.get_options().unwrap_or_default()
    );
    config.options(options.trim_start());
    Ok(config)
}

/// Brings the schema up to date, then opens the writer's session.
pub(super) fn open_writer(config: &Config) -> Result<(PgSession, Migration), StoreError> {
    let migration = migrate(&mut config.connect(NoTls)?)?;
    Ok((PgSession::connect(config)?, migration))
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
