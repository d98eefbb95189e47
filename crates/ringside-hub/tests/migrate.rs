//! `ringside-hub migrate`, the real binary: creates a database, brings the first release's
//! schema up to date, has nothing to do the second time, and refuses a database a newer hub
//! wrote without touching it; on SQLite, and on PostgreSQL (its own schema versions).

mod common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::process::hub_command;

/// The schema version of this hub: the first schema and one per migration file.
fn this_version() -> usize {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let migrations = std::fs::read_dir(store)
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("migration_") && name.ends_with(".sql")
        })
        .count();
    1 + migrations
}

fn migrate(config: &Path) -> (bool, String, String) {
    let out = hub_command(config).arg("migrate").output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn schema_version(data: &Path) -> String {
    let conn = rusqlite::Connection::open(data.join("ringside.sqlite")).unwrap();
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |row| row.get(0),
    )
    .unwrap()
}

#[test]
fn migrate_creates_updates_and_then_has_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::sqlite_config_text(&data, "")).unwrap();
    let version = this_version();

    let (ok, out, err) = migrate(&config);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("created the database in {}", data.display()))
            && out.contains(&format!("at schema version {version}")),
        "{out}"
    );
    assert_eq!(schema_version(&data), version.to_string());
    let (ok, out, err) = migrate(&config);
    assert!(ok, "{err}");
    assert!(out.contains("nothing to do"), "{out}");

    // A database of the first release: its schema, at version 1.
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::create_dir(&data).unwrap();
    let first = rusqlite::Connection::open(data.join("ringside.sqlite")).unwrap();
    first
        .execute_batch(include_str!("../src/store/schema.sql"))
        .unwrap();
    first
        .execute_batch(
            "INSERT INTO meta (key, value) VALUES ('epoch', '0123456789abcdef'), \
             ('schema_version', '1')",
        )
        .unwrap();
    drop(first);
    let (ok, out, err) = migrate(&config);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("from schema version 1 to {version}")),
        "{out}"
    );
    assert_eq!(schema_version(&data), version.to_string());
    let added = hub_command(&config)
        .args(["agent", "add", "anna", "--name", "Anna"])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "the migrated database serves: {added:?}"
    );
}

#[test]
fn migrate_refuses_a_database_of_a_newer_hub_and_leaves_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::sqlite_config_text(&data, "")).unwrap();
    assert!(migrate(&config).0);
    let newer = this_version() + 1;
    let conn = rusqlite::Connection::open(data.join("ringside.sqlite")).unwrap();
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        [newer.to_string()],
    )
    .unwrap();
    drop(conn);

    let (ok, out, err) = migrate(&config);
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!("schema version {newer}"))
            && err.contains(&format!("knows up to {}", this_version())),
        "{err}"
    );
    assert_eq!(schema_version(&data), newer.to_string(), "left as it was");
}

/// The schema version of this hub on PostgreSQL: its schema has no migrations yet.
const POSTGRES_VERSION: &str = "1";

/// The PostgreSQL schema version recorded in the database at `url`.
fn postgres_schema_version(url: &str) -> String {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .query_one("SELECT value FROM meta WHERE key = 'schema_version'", &[])
        .unwrap()
        .get(0)
}

#[test]
#[ignore = "needs a PostgreSQL server: make test runs it"]
fn migrate_on_postgresql_creates_then_has_nothing_to_do_and_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::required_postgres_for(dir.path());
    let config = dir.path().join("ringside.toml");
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:0\"\nstore = \"postgres\"\ndatabase_url = {url:?}\n"),
    )
    .unwrap();

    let (ok, out, err) = migrate(&config);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("created ") && out.contains("at schema version 1"),
        "{out}"
    );
    assert_eq!(postgres_schema_version(&url), POSTGRES_VERSION);
    let (ok, out, err) = migrate(&config);
    assert!(ok, "{err}");
    assert!(out.contains("nothing to do"), "{out}");

    postgres::Client::connect(&url, postgres::NoTls)
        .unwrap()
        .execute(
            "UPDATE meta SET value = '2' WHERE key = 'schema_version'",
            &[],
        )
        .unwrap();
    let (ok, out, err) = migrate(&config);
    assert!(!ok, "{out}");
    assert!(
        err.contains("schema version 2") && err.contains("knows up to 1"),
        "{err}"
    );
    assert_eq!(postgres_schema_version(&url), "2", "left as it was");
    let mut serve = hub_command(&config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            serve.kill().unwrap();
            panic!("a hub serves a database of a newer schema");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    serve
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        !status.success() && err.contains("schema version 2"),
        "{err}"
    );
}
