//! Agents: their login, role, own numbers, do-not-disturb flag and hashed API token.

use crate::store::Db;
use ringside_core::agent::{Identities, Role};
use ringside_core::call::Provider;
use rusqlite::{params, OptionalExtension, Row};

use super::{Store, StoreError};

/// An agent as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    /// Database id.
    pub id: i64,
    /// Unique login, lower case.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Agent or admin.
    pub role: Role,
    /// The agent's own numbers as entered.
    pub numbers: Vec<String>,
    /// Do-not-disturb.
    pub dnd: bool,
    /// Away: never rung.
    pub out_of_office: bool,
    /// The agent's ids at the phone providers.
    pub identities: Identities,
}

/// What it takes to create an agent.
#[derive(Debug, Clone)]
pub struct NewAgent {
    /// Unique login.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Agent or admin.
    pub role: Role,
    /// The agent's own numbers as entered.
    pub numbers: Vec<String>,
    /// The same numbers normalized to E.164 where they are numbers.
    pub normalized: Vec<String>,
    /// The agent's ids at the phone providers.
    pub identities: Identities,
}

/// Changes of an agent's details; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentChange {
    /// A new display name.
    pub name: Option<String>,
    /// A new role.
    pub role: Option<Role>,
    /// New own numbers: as entered, and normalized to E.164 where they are numbers.
    pub numbers: Option<(Vec<String>, Vec<String>)>,
    /// New provider ids (replacing all of them).
    pub identities: Option<Identities>,
    /// Away or back.
    pub out_of_office: Option<bool>,
}

const COLUMNS: &str = "id, login, name, role, numbers, dnd, identities, out_of_office";

/// An agent row as the database returns it, before its JSON columns are read.
struct RawAgent {
    id: i64,
    login: String,
    name: String,
    role: String,
    numbers: String,
    dnd: bool,
    identities: String,
    out_of_office: bool,
}

fn raw(row: &Row) -> rusqlite::Result<RawAgent> {
    Ok(RawAgent {
        id: row.get(0)?,
        login: row.get(1)?,
        name: row.get(2)?,
        role: row.get(3)?,
        numbers: row.get(4)?,
        dnd: row.get(5)?,
        identities: row.get(6)?,
        out_of_office: row.get(7)?,
    })
}

/// [`raw`] for a PostgreSQL row.
fn raw_pg(row: &postgres::Row) -> Result<RawAgent, postgres::Error> {
    Ok(RawAgent {
        id: row.try_get(0)?,
        login: row.try_get(1)?,
        name: row.try_get(2)?,
        role: row.try_get(3)?,
        numbers: row.try_get(4)?,
        dnd: row.try_get(5)?,
        identities: row.try_get(6)?,
        out_of_office: row.try_get(7)?,
    })
}

fn to_agent(raw: RawAgent) -> Result<AgentRow, StoreError> {
    Ok(AgentRow {
        id: raw.id,
        login: raw.login,
        name: raw.name,
        role: Role::parse(&raw.role).unwrap_or(Role::Agent),
        numbers: serde_json::from_str(&raw.numbers)?,
        dnd: raw.dnd,
        identities: serde_json::from_str(&raw.identities)?,
        out_of_office: raw.out_of_office,
    })
}

fn one(db: &mut Db<'_>, filter: &str, value: &str) -> Result<Option<AgentRow>, StoreError> {
    let raw = match db {
        Db::Sqlite(conn) => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM agents WHERE {filter} = ?1"))?
            .query_row([value], raw)
            .optional()?,
        Db::Postgres(pg) => pg
            .query_opt(
                &format!("SELECT {COLUMNS} FROM agents WHERE {filter} = $1"),
                &[&value],
            )?
            .as_ref()
            .map(raw_pg)
            .transpose()?,
    };
    raw.map(to_agent).transpose()
}

/// Creates an agent; `None` when the login is taken.
pub(crate) fn add(
    db: &mut Db<'_>,
    agent: &NewAgent,
    token_hash: &str,
) -> Result<Option<AgentRow>, StoreError> {
    let numbers = serde_json::to_string(&agent.numbers)?;
    let id = match db {
        Db::Sqlite(conn) => {
            let inserted = conn.execute(
                "INSERT INTO agents (login, name, role, numbers, token_hash) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (login) DO NOTHING",
                params![
                    agent.login,
                    agent.name,
                    agent.role.as_str(),
                    numbers,
                    token_hash
                ],
            )?;
            (inserted != 0).then(|| conn.last_insert_rowid())
        }
        // A taken login inserts nothing and returns no row, as on SQLite, without failing
        // the statement (which would abort the transaction). A taken token hash fails it on
        // both engines.
        Db::Postgres(pg) => pg
            .query_opt(
                "INSERT INTO agents (login, name, role, numbers, token_hash) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (login) DO NOTHING
                 RETURNING id",
                &[
                    &agent.login,
                    &agent.name,
                    &agent.role.as_str(),
                    &numbers,
                    &token_hash,
                ],
            )?
            .map(|row| row.try_get(0))
            .transpose()?,
    };
    let Some(id) = id else {
        return Ok(None);
    };
    set_numbers(db, id, &agent.numbers, &agent.normalized)?;
    set_identities(db, id, &agent.identities)?;
    by_login(db, &agent.login)
}

/// Applies a change to an agent; `None` when there is no such agent.
pub(crate) fn update(
    db: &mut Db<'_>,
    login: &str,
    change: &AgentChange,
) -> Result<Option<AgentRow>, StoreError> {
    let Some(agent) = by_login(db, login)? else {
        return Ok(None);
    };
    let name = change.name.as_deref().unwrap_or(&agent.name);
    let role = change.role.unwrap_or(agent.role).as_str();
    let out_of_office = change.out_of_office.unwrap_or(agent.out_of_office);
    match db {
        Db::Sqlite(conn) => {
            conn.execute(
                "UPDATE agents SET name = ?1, role = ?2, out_of_office = ?3 WHERE id = ?4",
                params![name, role, out_of_office, agent.id],
            )?;
        }
        Db::Postgres(pg) => {
            pg.execute(
                "UPDATE agents SET name = $1, role = $2, out_of_office = $3 WHERE id = $4",
                &[&name, &role, &out_of_office, &agent.id],
            )?;
        }
    }
    if let Some((raw, normalized)) = &change.numbers {
        let numbers = serde_json::to_string(raw)?;
        match db {
            Db::Sqlite(conn) => {
                conn.execute(
                    "UPDATE agents SET numbers = ?1 WHERE id = ?2",
                    params![numbers, agent.id],
                )?;
            }
            Db::Postgres(pg) => {
                pg.execute(
                    "UPDATE agents SET numbers = $1 WHERE id = $2",
                    &[&numbers, &agent.id],
                )?;
            }
        }
        set_numbers(db, agent.id, raw, normalized)?;
    }
    if let Some(identities) = &change.identities {
        set_identities(db, agent.id, identities)?;
    }
    by_login(db, login)
}

/// Deletes an agent; false when there is no such agent.
pub(crate) fn remove(db: &mut Db<'_>, login: &str) -> Result<bool, StoreError> {
    let removed = match db {
        Db::Sqlite(conn) => conn.execute("DELETE FROM agents WHERE login = ?1", [login])?,
        Db::Postgres(pg) => pg.execute("DELETE FROM agents WHERE login = $1", &[&login])? as usize,
    };
    Ok(removed == 1)
}

/// Replaces the numbers the hub finds an agent by.
fn set_numbers(
    db: &mut Db<'_>,
    agent_id: i64,
    raw: &[String],
    normalized: &[String],
) -> Result<(), StoreError> {
    let mut numbers: Vec<&String> = raw.iter().chain(normalized).collect();
    numbers.sort();
    numbers.dedup();
    match db {
        Db::Sqlite(conn) => {
            conn.execute("DELETE FROM agent_numbers WHERE agent_id = ?1", [agent_id])?;
            let mut insert = conn
                .prepare_cached("INSERT INTO agent_numbers (number, agent_id) VALUES (?1, ?2)")?;
            for number in numbers {
                insert.execute(params![number, agent_id])?;
            }
        }
        // One statement for all the numbers: each is a round trip to the server.
        Db::Postgres(pg) => {
            pg.execute(
                "DELETE FROM agent_numbers WHERE agent_id = $1",
                &[&agent_id],
            )?;
            pg.execute(
                "INSERT INTO agent_numbers (number, agent_id) SELECT unnest($1::text[]), $2",
                &[&numbers, &agent_id],
            )?;
        }
    }
    Ok(())
}

/// Replaces an agent's provider ids; an id another agent has is refused.
fn set_identities(
    db: &mut Db<'_>,
    agent_id: i64,
    identities: &Identities,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(identities)?;
    match db {
        Db::Sqlite(conn) => {
            conn.execute(
                "UPDATE agents SET identities = ?1 WHERE id = ?2",
                params![json, agent_id],
            )?;
            conn.execute(
                "DELETE FROM agent_identities WHERE agent_id = ?1",
                [agent_id],
            )?;
        }
        Db::Postgres(pg) => {
            pg.execute(
                "UPDATE agents SET identities = $1 WHERE id = $2",
                &[&json, &agent_id],
            )?;
            pg.execute(
                "DELETE FROM agent_identities WHERE agent_id = $1",
                &[&agent_id],
            )?;
        }
    }
    for (provider, identity) in identities {
        // Looked up before the insert, on both engines: an id another agent has is refused
        // without a failed statement (which on PostgreSQL would abort the transaction).
        if let Some(holder) = by_identity(db, *provider, identity)? {
            return Err(StoreError::Taken(format!(
                "the {} id {identity:?} belongs to agent {holder:?}",
                provider.as_str()
            )));
        }
        match db {
            Db::Sqlite(conn) => {
                conn.execute(
                    "INSERT INTO agent_identities (provider, identity, agent_id) VALUES (?1, ?2, ?3)",
                    params![provider.as_str(), identity, agent_id],
                )?;
            }
            Db::Postgres(pg) => {
                pg.execute(
                    "INSERT INTO agent_identities (provider, identity, agent_id) VALUES ($1, $2, $3)",
                    &[&provider.as_str(), identity, &agent_id],
                )?;
            }
        }
    }
    Ok(())
}

/// The login of the agent with this provider id.
pub(crate) fn by_identity(
    db: &mut Db<'_>,
    provider: Provider,
    identity: &str,
) -> Result<Option<String>, StoreError> {
    match db {
        Db::Sqlite(conn) => Ok(conn
            .prepare_cached(
                "SELECT a.login FROM agent_identities i JOIN agents a ON a.id = i.agent_id
                 WHERE i.provider = ?1 AND i.identity = ?2",
            )?
            .query_row(params![provider.as_str(), identity], |row| row.get(0))
            .optional()?),
        Db::Postgres(pg) => Ok(pg
            .query_opt(
                "SELECT a.login FROM agent_identities i JOIN agents a ON a.id = i.agent_id
                 WHERE i.provider = $1 AND i.identity = $2",
                &[&provider.as_str(), &identity],
            )?
            .map(|row| row.try_get(0))
            .transpose()?),
    }
}

/// Replaces an agent's token hash; false when there is no such agent.
pub(crate) fn set_token(
    db: &mut Db<'_>,
    login: &str,
    token_hash: &str,
) -> Result<bool, StoreError> {
    let changed = match db {
        Db::Sqlite(conn) => conn.execute(
            "UPDATE agents SET token_hash = ?1 WHERE login = ?2",
            params![token_hash, login],
        )?,
        Db::Postgres(pg) => pg.execute(
            "UPDATE agents SET token_hash = $1 WHERE login = $2",
            &[&token_hash, &login],
        )? as usize,
    };
    Ok(changed == 1)
}

/// Sets an agent's do-not-disturb flag.
pub(crate) fn set_dnd(db: &mut Db<'_>, login: &str, dnd: bool) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => {
            conn.execute(
                "UPDATE agents SET dnd = ?1 WHERE login = ?2",
                params![dnd, login],
            )?;
        }
        Db::Postgres(pg) => {
            pg.execute(
                "UPDATE agents SET dnd = $1 WHERE login = $2",
                &[&dnd, &login],
            )?;
        }
    }
    Ok(())
}

/// The agent with this login.
pub(crate) fn by_login(db: &mut Db<'_>, login: &str) -> Result<Option<AgentRow>, StoreError> {
    one(db, "login", login)
}

/// Every agent, by login.
pub(crate) fn list(db: &mut Db<'_>) -> Result<Vec<AgentRow>, StoreError> {
    match db {
        Db::Sqlite(conn) => {
            let mut statement =
                conn.prepare_cached(&format!("SELECT {COLUMNS} FROM agents ORDER BY login"))?;
            let rows = statement.query_map([], raw)?;
            rows.map(|row| to_agent(row?)).collect()
        }
        // In byte order, as SQLite's, whatever the database's collation.
        Db::Postgres(pg) => pg
            .query(
                &format!("SELECT {COLUMNS} FROM agents ORDER BY login COLLATE \"C\""),
                &[],
            )?
            .iter()
            .map(|row| to_agent(raw_pg(row)?))
            .collect(),
    }
}

/// The logins of the agents who own one of these numbers (raw or E.164).
pub(crate) fn owning(db: &mut Db<'_>, numbers: &[&str]) -> Result<Vec<String>, StoreError> {
    match db {
        Db::Sqlite(conn) => {
            let mut statement = conn.prepare_cached(
                "SELECT DISTINCT a.login FROM agents a JOIN agent_numbers n ON n.agent_id = a.id
                 WHERE n.number IN (SELECT value FROM json_each(?1)) ORDER BY a.login",
            )?;
            let rows = statement.query_map([serde_json::to_string(numbers)?], |row| row.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        }
        // In byte order, as SQLite's; with DISTINCT the collation goes in the select list.
        Db::Postgres(pg) => Ok(pg
            .query(
                r#"SELECT DISTINCT a.login COLLATE "C" AS login
                   FROM agents a JOIN agent_numbers n ON n.agent_id = a.id
                   WHERE n.number = ANY($1) ORDER BY 1"#,
                &[&numbers],
            )?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?),
    }
}

impl Store {
    /// The agent a token hash belongs to.
    pub fn agent_by_token_hash(&self, hash: &str) -> Result<Option<AgentRow>, StoreError> {
        self.read_inline(|db| one(db, "token_hash", hash))
    }

    /// Every agent, by login.
    pub async fn agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        self.read(list).await
    }

    /// The agent with this login.
    pub fn agent(&self, login: &str) -> Result<Option<AgentRow>, StoreError> {
        self.read_inline(|db| by_login(db, login))
    }

    /// The login of the agent with this provider id.
    pub fn agent_by_identity(
        &self,
        provider: Provider,
        identity: &str,
    ) -> Result<Option<String>, StoreError> {
        self.read_inline(|db| by_identity(db, provider, identity))
    }

    /// The logins of the agents who own one of these numbers (raw or E.164).
    pub fn agents_owning(&self, numbers: &[&str]) -> Result<Vec<String>, StoreError> {
        self.read_inline(|db| owning(db, numbers))
    }
}
