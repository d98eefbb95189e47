//! A whole hub as a file of JSON lines, to move it between SQLite and PostgreSQL
//! (`ringside-hub export` and `ringside-hub import hub`): a team that starts with the
//! embedded hub moves to a hub on several nodes without losing its journal, its event log
//! (with the log's epoch, so that the apps resume where they were), its agents or its
//! directory.
//!
//! The file: a header line, then per table a line naming its columns and a line per row
//! (the values in the columns' order). Values are JSON: numbers, text, booleans (SQLite's
//! 0 and 1 become `true` and `false` where PostgreSQL keeps a boolean), null. What a node
//! knows only while it runs (its streams, its heartbeat) is not part of it; the directory's
//! search index is rebuilt from the rows on either engine.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::{Db, StoreError};

/// The version of the file's format.
pub const FORMAT: u32 = 1;

/// The tables copied, parents before the tables that point at them.
const TABLES: &[&str] = &[
    "calls",
    "events",
    "agents",
    "agent_numbers",
    "agent_identities",
    "contacts",
    "tickets",
    "caller_numbers",
    "zammad_sync",
    "zammad_outbox",
    "zammad_ticket_scans",
];

/// The tables that must be empty before an import: the hub's own data.
const MUST_BE_EMPTY: &[&str] = &[
    "calls",
    "events",
    "agents",
    "contacts",
    "tickets",
    "zammad_outbox",
];

/// The tables whose `id` PostgreSQL generates: after an import, it goes on past the ids read.
const GENERATED_IDS: &[&str] = &[
    "calls",
    "agents",
    "contacts",
    "tickets",
    "caller_numbers",
    "zammad_outbox",
];

/// The longest line an import reads: far above any row the hub writes (a call body is
/// bounded by the webhook limits).
const MAX_LINE: usize = 16 * 1024 * 1024;

/// One line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    /// The first line.
    Header {
        format: u32,
        /// The event log's epoch.
        epoch: String,
        /// Relay events dropped because the outbox was full, as the admin API counts them.
        outbox_dropped: i64,
    },
    /// The table the next rows belong to, and their columns.
    Table { table: String, columns: Vec<String> },
    /// A row of the last table named.
    Row { values: Vec<Value> },
}

/// A failed export or import; an import that fails changes nothing.
#[derive(Debug, Error)]
pub enum DumpError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A line of the file is not what an export writes.
    #[error("line {line}: {message}")]
    Format {
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The hub imported into already has data of its own.
    #[error("this hub's {0} table is not empty: import a whole hub only into a new database")]
    NotEmpty(&'static str),
}

impl From<rusqlite::Error> for DumpError {
    fn from(e: rusqlite::Error) -> Self {
        DumpError::Store(e.into())
    }
}

impl From<postgres::Error> for DumpError {
    fn from(e: postgres::Error) -> Self {
        DumpError::Store(e.into())
    }
}

/// What an export wrote or an import read: rows per table.
pub type Counts = Vec<(&'static str, u64)>;

/// A column and how PostgreSQL keeps it (SQLite keeps every value as it comes).
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Integer,
    Boolean,
    Text,
}

/// Writes the whole hub to `out`, read in one snapshot.
pub fn export(db: &mut Db<'_>, out: &mut impl Write) -> Result<Counts, DumpError> {
    db.snapshot(|db| {
        let header = Line::Header {
            format: FORMAT,
            epoch: super::events::epoch(db)?,
            outbox_dropped: outbox_dropped(db)?,
        };
        write_line(out, &header)?;
        let mut counts = Vec::new();
        for &table in TABLES {
            let columns = columns(db, table)?;
            write_line(
                out,
                &Line::Table {
                    table: table.to_owned(),
                    columns: columns.iter().map(|c| c.name.clone()).collect(),
                },
            )?;
            let rows = rows(db, table, &columns)?;
            let written = rows.len() as u64;
            for values in rows {
                write_line(out, &Line::Row { values })?;
            }
            counts.push((table, written));
        }
        out.flush()?;
        Ok(counts)
    })
}

/// Reads a whole hub from `input` into this hub's empty store, in one transaction.
pub fn import(db: &mut Db<'_>, input: impl BufRead) -> Result<Counts, DumpError> {
    db.in_write(|db| import_lines(db, input))
}

fn import_lines(db: &mut Db<'_>, mut input: impl BufRead) -> Result<Counts, DumpError> {
    for &table in MUST_BE_EMPTY {
        if count(db, table)? > 0 {
            return Err(DumpError::NotEmpty(table));
        }
    }
    let mut number = 0;
    let mut next = |input: &mut dyn BufRead| -> Result<Option<(usize, Line)>, DumpError> {
        let mut text = Vec::new();
        let read = std::io::Read::take(input, MAX_LINE as u64 + 1).read_until(b'\n', &mut text)?;
        if read == 0 {
            return Ok(None);
        }
        number += 1;
        if text.len() > MAX_LINE {
            return Err(format_error(
                number,
                format!("longer than {MAX_LINE} bytes"),
            ));
        }
        let line = serde_json::from_slice(&text)
            .map_err(|e| format_error(number, format!("not a line of an export: {e}")))?;
        Ok(Some((number, line)))
    };
    let Some((
        _,
        Line::Header {
            format,
            epoch,
            outbox_dropped,
        },
    )) = next(&mut input)?
    else {
        return Err(format_error(
            1,
            "the file does not begin with an export's header".into(),
        ));
    };
    if format != FORMAT {
        return Err(format_error(
            1,
            format!("format {format}; this hub reads format {FORMAT}"),
        ));
    }
    set_epoch(db, &epoch)?;
    set_outbox_dropped(db, outbox_dropped)?;
    let mut counts: Vec<(&'static str, u64)> = Vec::new();
    // The table being read: its name, and for each column of the file the target column.
    let mut current: Option<(&'static str, Vec<Column>)> = None;
    while let Some((line, read)) = next(&mut input)? {
        match read {
            Line::Header { .. } => return Err(format_error(line, "a second header".into())),
            Line::Table { table, columns } => {
                let Some(&known) = TABLES.iter().find(|&&t| t == table) else {
                    return Err(format_error(line, format!("unknown table {table}")));
                };
                let target = self::columns(db, known)?;
                let mut by_name: HashMap<String, Column> =
                    target.into_iter().map(|c| (c.name.clone(), c)).collect();
                let mut ordered = Vec::new();
                for name in &columns {
                    let Some(column) = by_name.remove(name) else {
                        return Err(format_error(
                            line,
                            format!("{table} has no column {name} here"),
                        ));
                    };
                    ordered.push(column);
                }
                if let Some(missing) = by_name.keys().next() {
                    return Err(format_error(line, format!("{table}.{missing} is missing")));
                }
                if known == "zammad_sync" {
                    run(db, "DELETE FROM zammad_sync")?;
                }
                counts.push((known, 0));
                current = Some((known, ordered));
            }
            Line::Row { values } => {
                let Some((table, columns)) = &current else {
                    return Err(format_error(line, "a row before any table".into()));
                };
                if values.len() != columns.len() {
                    return Err(format_error(
                        line,
                        format!("{} values for {} columns", values.len(), columns.len()),
                    ));
                }
                insert(db, table, columns, values).map_err(|e| match e {
                    DumpError::Format { message, .. } => format_error(line, message),
                    other => other,
                })?;
                if let Some(last) = counts.last_mut() {
                    last.1 += 1;
                }
            }
        }
    }
    go_past_ids(db)?;
    Ok(counts)
}

fn format_error(line: usize, message: String) -> DumpError {
    DumpError::Format { line, message }
}

fn write_line(out: &mut impl Write, line: &Line) -> Result<(), DumpError> {
    serde_json::to_writer(&mut *out, line).map_err(StoreError::from)?;
    Ok(out.write_all(b"\n")?)
}

fn run(db: &mut Db<'_>, sql: &str) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => conn.execute_batch(sql)?,
        Db::Postgres(pg) => pg.batch_execute(sql)?,
    }
    Ok(())
}

fn count(db: &mut Db<'_>, table: &str) -> Result<i64, StoreError> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    Ok(match db {
        Db::Sqlite(conn) => conn.query_row(&sql, [], |row| row.get(0))?,
        Db::Postgres(pg) => pg.query_one(&sql, &[])?.try_get(0)?,
    })
}

fn outbox_dropped(db: &mut Db<'_>) -> Result<i64, StoreError> {
    let sql = "SELECT dropped FROM zammad_outbox_size";
    Ok(match db {
        Db::Sqlite(conn) => conn.query_row(sql, [], |row| row.get(0))?,
        Db::Postgres(pg) => pg.query_one(sql, &[])?.try_get(0)?,
    })
}

fn set_outbox_dropped(db: &mut Db<'_>, dropped: i64) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => {
            conn.execute("UPDATE zammad_outbox_size SET dropped = ?1", [dropped])?;
        }
        Db::Postgres(pg) => {
            pg.execute("UPDATE zammad_outbox_size SET dropped = $1", &[&dropped])?;
        }
    }
    Ok(())
}

fn set_epoch(db: &mut Db<'_>, epoch: &str) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(conn) => {
            conn.execute("UPDATE meta SET value = ?1 WHERE key = 'epoch'", [epoch])?;
        }
        Db::Postgres(pg) => {
            pg.execute("UPDATE meta SET value = $1 WHERE key = 'epoch'", &[&epoch])?;
        }
    }
    Ok(())
}

/// The columns of `table` in their order, with how PostgreSQL keeps them (on SQLite, the
/// kind the value comes in).
fn columns(db: &mut Db<'_>, table: &str) -> Result<Vec<Column>, StoreError> {
    match db {
        Db::Sqlite(conn) => {
            let mut statement = conn.prepare(&format!("PRAGMA table_info({table})"))?;
            let names = statement.query_map([], |row| row.get::<_, String>(1))?;
            names
                .map(|name| {
                    Ok(Column {
                        name: name?,
                        kind: Kind::Text,
                    })
                })
                .collect()
        }
        Db::Postgres(pg) => Ok(pg
            .query(
                "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
                &[&table],
            )?
            .iter()
            .map(|row| {
                Ok(Column {
                    name: row.try_get(0)?,
                    kind: match row.try_get::<_, &str>(1)? {
                        "bigint" => Kind::Integer,
                        "boolean" => Kind::Boolean,
                        _ => Kind::Text,
                    },
                })
            })
            .collect::<Result<_, postgres::Error>>()?),
    }
}

/// Every row of `table`, in its key's order.
fn rows(db: &mut Db<'_>, table: &str, columns: &[Column]) -> Result<Vec<Vec<Value>>, StoreError> {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let sql = format!("SELECT {} FROM {table} ORDER BY 1", names.join(", "));
    match db {
        Db::Sqlite(conn) => {
            let mut statement = conn.prepare(&sql)?;
            let rows = statement.query_map([], |row| {
                (0..names.len())
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Value::Null,
                            rusqlite::types::ValueRef::Integer(n) => Value::from(n),
                            rusqlite::types::ValueRef::Real(x) => Value::from(x),
                            rusqlite::types::ValueRef::Text(text) => {
                                Value::from(String::from_utf8_lossy(text).into_owned())
                            }
                            rusqlite::types::ValueRef::Blob(bytes) => {
                                Value::from(String::from_utf8_lossy(bytes).into_owned())
                            }
                        })
                    })
                    .collect::<Result<Vec<_>, rusqlite::Error>>()
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        }
        Db::Postgres(pg) => Ok(pg
            .query(&sql, &[])?
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| {
                        Ok(match column.kind {
                            Kind::Integer => row
                                .try_get::<_, Option<i64>>(i)?
                                .map_or(Value::Null, Value::from),
                            Kind::Boolean => row
                                .try_get::<_, Option<bool>>(i)?
                                .map_or(Value::Null, Value::from),
                            Kind::Text => row
                                .try_get::<_, Option<String>>(i)?
                                .map_or(Value::Null, Value::from),
                        })
                    })
                    .collect::<Result<Vec<_>, postgres::Error>>()
            })
            .collect::<Result<_, _>>()?),
    }
}

/// Inserts one row read from the file.
fn insert(
    db: &mut Db<'_>,
    table: &str,
    columns: &[Column],
    values: Vec<Value>,
) -> Result<(), DumpError> {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    match db {
        Db::Sqlite(conn) => {
            let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                marks.join(", ")
            );
            let params = values
                .into_iter()
                .map(|value| match value {
                    Value::Null => Ok(rusqlite::types::Value::Null),
                    Value::Bool(b) => Ok(rusqlite::types::Value::Integer(i64::from(b))),
                    Value::Number(n) => Ok(match n.as_i64() {
                        Some(i) => rusqlite::types::Value::Integer(i),
                        None => rusqlite::types::Value::Real(n.as_f64().unwrap_or_default()),
                    }),
                    Value::String(s) => Ok(rusqlite::types::Value::Text(s)),
                    other => Err(format_error(0, format!("{other} is not a column's value"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            conn.prepare_cached(&sql)?
                .execute(rusqlite::params_from_iter(params))?;
        }
        Db::Postgres(pg) => {
            let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                marks.join(", ")
            );
            let params = columns
                .iter()
                .zip(values)
                .map(|(column, value)| pg_value(column, value))
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                params.iter().map(|p| p.as_ref()).collect();
            pg.execute(&sql, &refs)?;
        }
    }
    Ok(())
}

/// A value of the file as PostgreSQL keeps `column`.
fn pg_value(
    column: &Column,
    value: Value,
) -> Result<Box<dyn postgres::types::ToSql + Sync>, DumpError> {
    let wrong = |value: &Value| {
        format_error(
            0,
            format!("{}: {value} is not a {:?}", column.name, column.kind),
        )
    };
    Ok(match (column.kind, value) {
        (Kind::Integer, Value::Null) => Box::new(None::<i64>),
        (Kind::Integer, Value::Number(n)) => {
            Box::new(n.as_i64().ok_or_else(|| wrong(&Value::Number(n.clone())))?)
        }
        (Kind::Boolean, Value::Null) => Box::new(None::<bool>),
        (Kind::Boolean, Value::Bool(b)) => Box::new(b),
        (Kind::Boolean, Value::Number(n)) if n.as_i64().is_some() => {
            Box::new(n.as_i64() != Some(0))
        }
        (Kind::Text, Value::Null) => Box::new(None::<String>),
        (Kind::Text, Value::String(s)) => Box::new(s),
        (Kind::Text, Value::Number(n)) => Box::new(n.to_string()),
        (_, other) => return Err(wrong(&other)),
    })
}

/// Makes PostgreSQL's generated ids go on past the ids imported.
fn go_past_ids(db: &mut Db<'_>) -> Result<(), StoreError> {
    let Db::Postgres(pg) = db else {
        return Ok(());
    };
    for table in GENERATED_IDS {
        pg.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))?;
    }
    Ok(())
}
