//! Agents: their login, role, own numbers, do-not-disturb flag and hashed API token.

use ringside_core::agent::Role;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Row, SqliteExecutor};

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
}

fn decode(row: &SqliteRow) -> Result<AgentRow, StoreError> {
    let role: &str = row.get("role");
    let numbers: &str = row.get("numbers");
    Ok(AgentRow {
        id: row.get("id"),
        login: row.get("login"),
        name: row.get("name"),
        role: Role::parse(role).unwrap_or(Role::Agent),
        numbers: serde_json::from_str(numbers)?,
        dnd: row.get("dnd"),
    })
}

const COLUMNS: &str = "id, login, name, role, numbers, dnd";

/// Creates an agent; `None` when the login is taken.
pub(crate) async fn add(
    conn: &mut SqliteConnection,
    agent: &NewAgent,
    token_hash: &str,
) -> Result<Option<AgentRow>, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO agents (login, name, role, numbers, token_hash) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (login) DO NOTHING",
    )
    .bind(&agent.login)
    .bind(&agent.name)
    .bind(agent.role.as_str())
    .bind(serde_json::to_string(&agent.numbers)?)
    .bind(token_hash)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    let id = inserted.last_insert_rowid();
    set_numbers(conn, id, &agent.numbers, &agent.normalized).await?;
    by_login(conn, &agent.login).await
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
}

/// Applies a change to an agent; `None` when there is no such agent.
pub(crate) async fn update(
    conn: &mut SqliteConnection,
    login: &str,
    change: &AgentChange,
) -> Result<Option<AgentRow>, StoreError> {
    let Some(agent) = by_login(&mut *conn, login).await? else {
        return Ok(None);
    };
    sqlx::query("UPDATE agents SET name = ?, role = ? WHERE id = ?")
        .bind(change.name.as_deref().unwrap_or(&agent.name))
        .bind(change.role.unwrap_or(agent.role).as_str())
        .bind(agent.id)
        .execute(&mut *conn)
        .await?;
    if let Some((raw, normalized)) = &change.numbers {
        sqlx::query("UPDATE agents SET numbers = ? WHERE id = ?")
            .bind(serde_json::to_string(raw)?)
            .bind(agent.id)
            .execute(&mut *conn)
            .await?;
        set_numbers(conn, agent.id, raw, normalized).await?;
    }
    by_login(conn, login).await
}

/// Deletes an agent; false when there is no such agent.
pub(crate) async fn remove(conn: &mut SqliteConnection, login: &str) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM agents WHERE login = ?")
        .bind(login)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}

/// Replaces the numbers the hub finds an agent by.
async fn set_numbers(
    conn: &mut SqliteConnection,
    agent_id: i64,
    raw: &[String],
    normalized: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM agent_numbers WHERE agent_id = ?")
        .bind(agent_id)
        .execute(&mut *conn)
        .await?;
    let mut numbers: Vec<&String> = raw.iter().chain(normalized).collect();
    numbers.sort();
    numbers.dedup();
    for number in numbers {
        sqlx::query("INSERT INTO agent_numbers (number, agent_id) VALUES (?, ?)")
            .bind(number)
            .bind(agent_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Replaces an agent's token hash; false when there is no such agent.
pub(crate) async fn set_token(
    conn: &mut SqliteConnection,
    login: &str,
    token_hash: &str,
) -> Result<bool, StoreError> {
    let changed = sqlx::query("UPDATE agents SET token_hash = ? WHERE login = ?")
        .bind(token_hash)
        .bind(login)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(changed == 1)
}

/// Sets an agent's do-not-disturb flag.
pub(crate) async fn set_dnd(
    conn: &mut SqliteConnection,
    login: &str,
    dnd: bool,
) -> Result<Option<AgentRow>, StoreError> {
    sqlx::query("UPDATE agents SET dnd = ? WHERE login = ?")
        .bind(dnd)
        .bind(login)
        .execute(&mut *conn)
        .await?;
    by_login(conn, login).await
}

/// The agent with this login.
pub(crate) async fn by_login<'c>(
    conn: impl SqliteExecutor<'c>,
    login: &str,
) -> Result<Option<AgentRow>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM agents WHERE login = ?"))
        .bind(login)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// Every agent, by login.
pub(crate) async fn list<'c>(conn: impl SqliteExecutor<'c>) -> Result<Vec<AgentRow>, StoreError> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM agents ORDER BY login"))
        .fetch_all(conn)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// The logins of the agents who own one of these numbers (raw or E.164).
pub(crate) async fn owning<'c>(
    conn: impl SqliteExecutor<'c>,
    numbers: &[&str],
) -> Result<Vec<String>, StoreError> {
    let list = serde_json::to_string(numbers)?;
    Ok(sqlx::query(
        "SELECT DISTINCT a.login FROM agents a JOIN agent_numbers n ON n.agent_id = a.id
         WHERE n.number IN (SELECT value FROM json_each(?)) ORDER BY a.login",
    )
    .bind(list)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| row.get(0))
    .collect())
}

impl Store {
    /// The agent a token hash belongs to.
    pub async fn agent_by_token_hash(&self, hash: &str) -> Result<Option<AgentRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM agents WHERE token_hash = ?"
        ))
        .bind(hash)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(decode)
        .transpose()
    }

    /// Every agent, by login.
    pub async fn agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        list(self.pool()).await
    }

    /// The agent with this login.
    pub async fn agent(&self, login: &str) -> Result<Option<AgentRow>, StoreError> {
        by_login(self.pool(), login).await
    }

    /// The logins of the agents who own one of these numbers (raw or E.164).
    pub async fn agents_owning(&self, numbers: &[&str]) -> Result<Vec<String>, StoreError> {
        owning(self.pool(), numbers).await
    }
}
