//! Files with secrets are readable by their owner only (Unix): the database with its `-wal`
//! and `-shm` files, `ringside.toml` as `init` writes it, and the data directory the hub
//! creates; wider modes found at start are tightened.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::TestHub;
use ringside_hub::config::Config;

const BIN: &str = env!("CARGO_BIN_EXE_ringside-hub");

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn database_files(data: &Path) -> [std::path::PathBuf; 3] {
    [
        data.join("ringside.sqlite"),
        data.join("ringside.sqlite-wal"),
        data.join("ringside.sqlite-shm"),
    ]
}

#[tokio::test]
async fn the_database_is_the_owners_and_wider_modes_are_tightened() {
    let hub = TestHub::start(common::ON_SQLITE).await;
    let (status, _) = hub
        .cti(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("from", "4930609854180"),
            ("to", "4930600000000"),
            ("callId", "modes-1"),
        ])
        .await;
    assert_eq!(status, 200);
    let data = hub.dir.path().join("data");
    assert_eq!(mode(&data), 0o700, "the data directory the hub made");
    for file in database_files(&data) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    let TestHub { running, dir, .. } = hub;
    running.stop().await.unwrap();
    for file in database_files(&data) {
        if file.exists() {
            set_mode(&file, 0o644);
        }
    }
    let text = common::sqlite_config_text(&data, common::GENERIC_ON);
    let settings = Config::from_toml(&text, Path::new("test.toml"), std::iter::empty()).unwrap();
    let again = ringside_hub::start(settings).await.unwrap();
    for file in database_files(&data) {
        if file.exists() {
            assert_eq!(mode(&file), 0o600, "tightened: {}", file.display());
        }
    }
    assert_eq!(mode(&data.join("ringside.sqlite")), 0o600);
    again.stop().await.unwrap();
    drop(dir);
}

#[test]
fn init_writes_a_configuration_only_its_owner_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    let init = |force: bool| {
        let mut command = Command::new(BIN);
        command.arg("--config").arg(&config).arg("init");
        if force {
            command.arg("--force");
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    init(false);
    assert_eq!(mode(&config), 0o600);

    set_mode(&config, 0o644);
    init(true);
    assert_eq!(mode(&config), 0o600, "a replaced file is tightened too");
}
