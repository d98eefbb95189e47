//! `ringside-hub migrate`, the real binary: creates a database, brings the first release's
//! schema up to date, has nothing to do the second time, and refuses a database a newer hub
//! wrote without touching it.

mod common;

use std::path::Path;

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
