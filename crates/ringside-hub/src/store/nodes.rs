//! The nodes of a hub on PostgreSQL and the agents streaming from each: what makes an agent
//! online for every node, and what the event log last said of it. On SQLite the one hub
//! process knows its streams itself ([`crate::online`]): these functions have nothing to
//! keep there, and say so with `None`.

use std::collections::HashSet;

use super::{Db, StoreError};

/// How long a node's heartbeat may be silent before the other nodes count it gone, with its
/// agents' streams: a few of its heartbeats ([`HEARTBEAT_SECS`]).
pub const NODE_TIMEOUT_SECS: f64 = 10.0;

/// How often a node tells the database it is alive.
pub const HEARTBEAT_SECS: u64 = 2;

/// The streams of a node that is not gone: its heartbeat is recent.
const LIVE_STREAMS: &str = "SELECT s.login FROM node_streams s JOIN nodes n ON n.id = s.node \
     WHERE n.heartbeat_at > now() - make_interval(secs => $1)";

/// Whether `$2` has a stream on a node that is not gone (as [`LIVE_STREAMS`]), written out:
/// asked for each presence event.
const IS_STREAMING: &str = "SELECT EXISTS (SELECT 1 FROM node_streams s \
     JOIN nodes n ON n.id = s.node \
     WHERE n.heartbeat_at > now() - make_interval(secs => $1) AND s.login = $2)";

/// Records that `node` is alive; false when the database had forgotten it (it was silent
/// too long and another node counted it gone), so that its streams must be told again.
pub(crate) fn heartbeat(db: &mut Db<'_>, node: &str) -> Result<bool, StoreError> {
    match db {
        Db::Sqlite(_) => Ok(true),
        Db::Postgres(pg) => {
            let known = pg.execute(
                "UPDATE nodes SET heartbeat_at = now() WHERE id = $1",
                &[&node],
            )? == 1;
            if !known {
                pg.execute(
                    "INSERT INTO nodes (id, heartbeat_at) VALUES ($1, now()) \
                     ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()",
                    &[&node],
                )?;
            }
            Ok(known)
        }
    }
}

/// Records whether `login` has a live stream on `node`.
pub(crate) fn set_streaming(
    db: &mut Db<'_>,
    node: &str,
    login: &str,
    live: bool,
) -> Result<(), StoreError> {
    let Db::Postgres(pg) = db else {
        return Ok(());
    };
    if live {
        pg.execute(
            "INSERT INTO nodes (id, heartbeat_at) VALUES ($1, now()) ON CONFLICT (id) DO NOTHING",
            &[&node],
        )?;
        pg.execute(
            "INSERT INTO node_streams (node, login) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&node, &login],
        )?;
    } else {
        pg.execute(
            "DELETE FROM node_streams WHERE node = $1 AND login = $2",
            &[&node, &login],
        )?;
    }
    Ok(())
}

/// The agents with a live stream on a node that is not gone; `None` on SQLite.
pub(crate) fn online_logins(db: &mut Db<'_>) -> Result<Option<HashSet<String>>, StoreError> {
    let Db::Postgres(pg) = db else {
        return Ok(None);
    };
    let rows = pg.query(LIVE_STREAMS, &[&NODE_TIMEOUT_SECS])?;
    Ok(Some(
        rows.iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?,
    ))
}

/// Whether `login` has a live stream on a node that is not gone; `None` on SQLite.
pub(crate) fn is_online(db: &mut Db<'_>, login: &str) -> Result<Option<bool>, StoreError> {
    let Db::Postgres(pg) = db else {
        return Ok(None);
    };
    Ok(Some(
        pg.query_one(IS_STREAMING, &[&NODE_TIMEOUT_SECS, &login])?
            .try_get(0)?,
    ))
}

/// Records that the log now says `login` is `online`; false when it said so already, and
/// the event need not be appended. Always true on SQLite, where the hub process keeps what
/// it said itself.
pub(crate) fn say(db: &mut Db<'_>, login: &str, online: bool) -> Result<bool, StoreError> {
    let Db::Postgres(pg) = db else {
        return Ok(true);
    };
    let changed = pg.execute(
        "INSERT INTO presence_said (login, online) VALUES ($1, $2) \
         ON CONFLICT (login) DO UPDATE SET online = excluded.online \
         WHERE presence_said.online <> excluded.online",
        &[&login, &online],
    )?;
    Ok(changed == 1)
}

/// Forgets the nodes gone silent (with their streams); returns the agents the log says are
/// online and no node streams for any more. Nothing on SQLite.
pub(crate) fn reap(db: &mut Db<'_>) -> Result<Vec<String>, StoreError> {
    let Db::Postgres(pg) = db else {
        return Ok(Vec::new());
    };
    pg.execute(
        "DELETE FROM nodes WHERE heartbeat_at <= now() - make_interval(secs => $1)",
        &[&NODE_TIMEOUT_SECS],
    )?;
    let sql = format!(
        "SELECT login FROM presence_said WHERE online AND login NOT IN ({LIVE_STREAMS}) \
         ORDER BY login"
    );
    let rows = pg.query(&sql, &[&NODE_TIMEOUT_SECS])?;
    Ok(rows
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?)
}
