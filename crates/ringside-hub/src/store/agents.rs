//! Agents: their login, role, own numbers, do-not-disturb flag and hashed API token.

use ringside_core::agent::{Identities, Role};
use ringside_core::call::Provider;
use rusqlite::{params, Connection, OptionalExtension, Row};

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

/// An agent row as SQLite returns it, before its JSON columns are read.
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

fn one(conn: &Connection, filter: &str, value: &str) -> Result<Option<AgentRow>, StoreError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM agents WHERE {filter} = ?1"))?
        .query_row([value], raw)
        .optional()?
        .map(to_agent)
        .transpose()
}

/// Creates an agent; `None` when the login is taken.
pub(crate) fn add(
    conn: &Connection,
    agent: &NewAgent,
    token_hash: &str,
) -> Result<Option<AgentRow>, StoreError> {
    let inserted = conn.execute(
        "INSERT INTO agents (login, name, role, numbers, token_hash) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (login) DO NOTHING",
        params![
            agent.login,
            agent.name,
            agent.role.as_str(),
            serde_json::to_string(&agent.numbers)?,
            token_hash
        ],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    let id = conn.last_insert_rowid();
    set_numbers(conn, id, &agent.numbers, &agent.normalized)?;
    set_identities(conn, id, &agent.identities)?;
    by_login(conn, &agent.login)
}

/// Applies a change to an agent; `None` when there is no such agent.
pub(crate) fn update(
    conn: &Connection,
    login: &str,
    change: &AgentChange,
) -> Result<Option<AgentRow>, StoreError> {
    let Some(agent) = by_login(conn, login)? else {
        return Ok(None);
    };
    conn.execute(
        "UPDATE agents SET name = ?1, role = ?2, out_of_office = ?3 WHERE id = ?4",
        params![
            change.name.as_deref().unwrap_or(&agent.name),
            change.role.unwrap_or(agent.role).as_str(),
            change.out_of_office.unwrap_or(agent.out_of_office),
            agent.id
        ],
    )?;
    if let Some((raw, normalized)) = &change.numbers {
        conn.execute(
            "UPDATE agents SET numbers = ?1 WHERE id = ?2",
            params![serde_json::to_string(raw)?, agent.id],
        )?;
        set_numbers(conn, agent.id, raw, normalized)?;
    }
    if let Some(identities) = &change.identities {
        set_identities(conn, agent.id, identities)?;
    }
    by_login(conn, login)
}

/// Deletes an agent; false when there is no such agent.
pub(crate) fn remove(conn: &Connection, login: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM agents WHERE login = ?1", [login])? == 1)
}

/// Replaces the numbers the hub finds an agent by.
fn set_numbers(
    conn: &Connection,
    agent_id: i64,
    raw: &[String],
    normalized: &[String],
) -> Result<(), StoreError> {
    conn.execute("DELETE FROM agent_numbers WHERE agent_id = ?1", [agent_id])?;
    let mut numbers: Vec<&String> = raw.iter().chain(normalized).collect();
    numbers.sort();
    numbers.dedup();
    let mut insert =
        conn.prepare_cached("INSERT INTO agent_numbers (number, agent_id) VALUES (?1, ?2)")?;
    for number in numbers {
        insert.execute(params![number, agent_id])?;
    }
    Ok(())
}

/// Replaces an agent's provider ids; an id another agent has is refused.
fn set_identities(
    conn: &Connection,
    agent_id: i64,
    identities: &Identities,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE agents SET identities = ?1 WHERE id = ?2",
        params![serde_json::to_string(identities)?, agent_id],
    )?;
    conn.execute(
        "DELETE FROM agent_identities WHERE agent_id = ?1",
        [agent_id],
    )?;
    for (provider, identity) in identities {
        let holder: Option<String> = conn
            .prepare_cached(
                "SELECT a.login FROM agent_identities i JOIN agents a ON a.id = i.agent_id
                 WHERE i.provider = ?1 AND i.identity = ?2",
            )?
            .query_row(params![provider.as_str(), identity], |row| row.get(0))
            .optional()?;
        if let Some(holder) = holder {
            return Err(StoreError::Taken(format!(
                "the {} id {identity:?} belongs to agent {holder:?}",
                provider.as_str()
            )));
        }
        conn.execute(
            "INSERT INTO agent_identities (provider, identity, agent_id) VALUES (?1, ?2, ?3)",
            params![provider.as_str(), identity, agent_id],
        )?;
    }
    Ok(())
}

/// The login of the agent with this provider id.
pub(crate) fn by_identity(
    conn: &Connection,
    provider: Provider,
    identity: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT a.login FROM agent_identities i JOIN agents a ON a.id = i.agent_id
             WHERE i.provider = ?1 AND i.identity = ?2",
        )?
        .query_row(params![provider.as_str(), identity], |row| row.get(0))
        .optional()?)
}

/// Replaces an agent's token hash; false when there is no such agent.
pub(crate) fn set_token(
    conn: &Connection,
    login: &str,
    token_hash: &str,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE agents SET token_hash = ?1 WHERE login = ?2",
        params![token_hash, login],
    )? == 1)
}

/// Sets an agent's do-not-disturb flag.
pub(crate) fn set_dnd(conn: &Connection, login: &str, dnd: bool) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE agents SET dnd = ?1 WHERE login = ?2",
        params![dnd, login],
    )?;
    Ok(())
}

/// The agent with this login.
pub(crate) fn by_login(conn: &Connection, login: &str) -> Result<Option<AgentRow>, StoreError> {
    one(conn, "login", login)
}

/// Every agent, by login.
pub(crate) fn list(conn: &Connection) -> Result<Vec<AgentRow>, StoreError> {
    let mut statement =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM agents ORDER BY login"))?;
    let rows = statement.query_map([], raw)?;
    rows.map(|row| to_agent(row?)).collect()
}

/// The logins of the agents who own one of these numbers (raw or E.164).
pub(crate) fn owning(conn: &Connection, numbers: &[&str]) -> Result<Vec<String>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT DISTINCT a.login FROM agents a JOIN agent_numbers n ON n.agent_id = a.id
         WHERE n.number IN (SELECT value FROM json_each(?1)) ORDER BY a.login",
    )?;
    let rows = statement.query_map([serde_json::to_string(numbers)?], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store {
    /// The agent a token hash belongs to.
    pub fn agent_by_token_hash(&self, hash: &str) -> Result<Option<AgentRow>, StoreError> {
        self.read_inline(|conn| one(conn, "token_hash", hash))
    }

    /// Every agent, by login.
    pub async fn agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        self.read(list).await
    }

    /// The agent with this login.
    pub fn agent(&self, login: &str) -> Result<Option<AgentRow>, StoreError> {
        self.read_inline(|conn| by_login(conn, login))
    }

    /// The login of the agent with this provider id.
    pub fn agent_by_identity(
        &self,
        provider: Provider,
        identity: &str,
    ) -> Result<Option<String>, StoreError> {
        self.read_inline(|conn| by_identity(conn, provider, identity))
    }

    /// The logins of the agents who own one of these numbers (raw or E.164).
    pub fn agents_owning(&self, numbers: &[&str]) -> Result<Vec<String>, StoreError> {
        self.read_inline(|conn| owning(conn, numbers))
    }
}
