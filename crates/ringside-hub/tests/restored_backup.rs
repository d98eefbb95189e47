//! A database restored from a backup: its seqs go back under the same epoch. The real
//! binary, killed, its database file replaced by an older copy, and started again: a client
//! that resumes from a position the hub no longer has gets a snapshot of a new epoch, which
//! replaces its state, and the new epoch lasts.

mod common;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use common::process::{free_port, hub_command, serve};
use common::{call_of, position, Stream};
use ringside_client::state::{ClientState, DEFAULT_POPUP_WINDOW};
use ringside_core::stream::ServerMessage;

fn kill(mut hub: Child) {
    hub.kill().unwrap();
    hub.wait().unwrap();
}

async fn ring(addr: &str, call_id: &str) {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/cti/{}", common::TOKEN))
        .form(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", call_id),
            ("from", "4930609854180"),
            ("to", "4930600000000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The database's files (the file, its write-ahead log and index), those that exist.
fn database_files(data: &Path) -> Vec<PathBuf> {
    [
        "ringside.sqlite",
        "ringside.sqlite-wal",
        "ringside.sqlite-shm",
    ]
    .iter()
    .map(|name| data.join(name))
    .filter(|path| path.exists())
    .collect()
}

fn copy_database(from: &Path, to: &Path) {
    for path in database_files(to) {
        std::fs::remove_file(path).unwrap();
    }
    std::fs::create_dir_all(to).unwrap();
    for path in database_files(from) {
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

fn apply(state: &mut ClientState, message: ServerMessage) {
    state.apply(message, common::time_now());
}

fn call_ids(state: &ClientState) -> Vec<String> {
    let mut ids: Vec<String> = state
        .active_calls()
        .iter()
        .map(|call| call.call_id.clone())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_restored_backup_starts_a_new_epoch_that_replaces_the_clients_state() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("backup");
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("ringside.toml");
    let text = common::sqlite_config_text(&data, common::GENERIC_ON).replace("127.0.0.1:0", &addr);
    std::fs::write(&config, text).unwrap();
    let added = hub_command(&config)
        .args(["agent", "add", "anna", "--name", "Anna", "--admin"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let token = String::from_utf8(added.stdout).unwrap();
    let token = token.lines().last().unwrap().trim().to_owned();

    // The backup holds the first call.
    let hub = serve(&config, &format!("http://{addr}")).await;
    ring(&addr, "kept").await;
    kill(hub);
    copy_database(&data, &backup);

    // After the backup: two more calls, which the client sees.
    let hub = serve(&config, &format!("http://{addr}")).await;
    let mut state = ClientState::new("anna", DEFAULT_POPUP_WINDOW);
    let mut stream = Stream::connect(&addr, &token, None).await;
    apply(&mut state, stream.next().await);
    ring(&addr, "lost-1").await;
    ring(&addr, "lost-2").await;
    while call_ids(&state).len() < 3 {
        apply(&mut state, stream.next().await);
    }
    let (epoch, ahead) = {
        let at = state.position().unwrap();
        (at.epoch.clone(), at.seq)
    };
    drop(stream);
    kill(hub);

    // The database is restored from the backup: its last seq is behind the client's.
    copy_database(&backup, &data);
    let hub = serve(&config, &format!("http://{addr}")).await;
    // A client behind both positions resumes by replay, in the old epoch, and stays.
    let mut behind = Stream::connect(&addr, &token, Some((&epoch, 1))).await;
    while let Some(message) = behind.next_within(Duration::from_millis(500)).await {
        let ServerMessage::Event(_) = message else {
            panic!("replay, not a snapshot")
        };
    }

    let mut stream = Stream::connect(&addr, &token, Some((&epoch, ahead))).await;
    let message = stream.next().await;
    let ServerMessage::Snapshot(snapshot) = &message else {
        panic!("a snapshot, got {message:?}")
    };
    assert_ne!(snapshot.epoch, epoch, "a new epoch");
    assert!(snapshot.seq < ahead, "the restored log is behind");
    let new_epoch = snapshot.epoch.clone();
    apply(&mut state, message);
    assert_eq!(
        call_ids(&state),
        vec!["kept"],
        "the client's state is replaced"
    );
    assert_eq!(state.position().unwrap().epoch, new_epoch);

    // Live events follow in the new epoch; the client still in the old one gets a snapshot.
    ring(&addr, "new").await;
    let event = stream.next().await;
    assert_eq!(call_of(&event).unwrap().call_id, "new");
    assert_eq!(position(&event).0, new_epoch);
    apply(&mut state, event);
    assert_eq!(call_ids(&state), vec!["kept", "new"]);
    let ServerMessage::Snapshot(resync) = behind.next().await else {
        panic!("a snapshot for the client of the old epoch")
    };
    assert_eq!(resync.epoch, new_epoch);
    assert_eq!(resync.active_calls.len(), 2);

    // The new epoch is durable: after a restart the client resumes by replay.
    let (_, seq) = {
        let at = state.position().unwrap();
        (at.epoch.clone(), at.seq)
    };
    drop((stream, behind));
    kill(hub);
    let hub = serve(&config, &format!("http://{addr}")).await;
    let mut stream = Stream::connect(&addr, &token, Some((&new_epoch, seq))).await;
    ring(&addr, "after-restart").await;
    let event = loop {
        // The agent's presence comes first: this hub did not know it online.
        let message = stream.next().await;
        if let ServerMessage::Snapshot(_) = message {
            panic!("replay, not a snapshot");
        }
        if call_of(&message).is_some() {
            break message;
        }
    };
    assert_eq!(call_of(&event).unwrap().call_id, "after-restart");
    assert_eq!(position(&event).0, new_epoch);
    kill(hub);
}
