//! A team moves its hub from the embedded SQLite store to another store (PostgreSQL when
//! the tests run against a PostgreSQL server, else a new SQLite file) with the real binary's
//! `export` and `import hub`, and back to SQLite: the journal, the agents (their tokens
//! still work) and the event log come along, and the apps resume where they were.

mod common;

use std::path::Path;
use std::process::Output;

use common::process::{free_port, get_json, hub_command, serve};
use common::Stream;
use ringside_core::stream::ServerMessage;

fn run(config: &Path, args: &[&str]) -> Output {
    hub_command(config).args(args).output().unwrap()
}

fn configure(dir: &Path, text: impl Fn(&Path) -> String) -> (std::path::PathBuf, String) {
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let config = dir.join("ringside.toml");
    let text = text(&dir.join("data")).replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&config, text).unwrap();
    (config, format!("127.0.0.1:{port}"))
}

async fn post(addr: &str, event: &str, call_id: &str) {
    let fields = [
        ("event", event),
        ("direction", "in"),
        ("callId", call_id),
        ("from", "4930609854180"),
        ("to", "4930600000000"),
        ("cause", "cancel"),
    ];
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/cti/{}", common::TOKEN))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn journal(addr: &str, token: &str) -> Vec<(String, String)> {
    let page = get_json(&format!("http://{addr}/api/v1/journal"), token).await;
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| {
            (
                entry["call_id"].as_str().unwrap().to_owned(),
                entry["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_hub_exported_from_sqlite_and_imported_elsewhere_goes_on_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (from, from_addr) = configure(&dir.path().join("from"), |data| {
        common::sqlite_config_text(data, common::GENERIC_ON)
    });
    let added = run(
        &from,
        &["agent", "add", "anna", "--name", "Anna", "--admin"],
    );
    assert!(added.status.success(), "{added:?}");
    let token = String::from_utf8(added.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();

    let mut hub = serve(&from, &format!("http://{from_addr}")).await;
    for call in ["one", "two", "three"] {
        post(&from_addr, "newCall", call).await;
    }
    post(&from_addr, "hangup", "two").await;
    let before = journal(&from_addr, &token).await;
    let mut stream = Stream::connect(&from_addr, &token, None).await;
    let ServerMessage::Snapshot(snapshot) = stream.next().await else {
        panic!("a snapshot first")
    };
    stream.close().await;
    hub.kill().unwrap();
    hub.wait().unwrap();

    let file = dir.path().join("hub.jsonl");
    let exported = run(&from, &["export", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{exported:?}");
    let text = String::from_utf8(exported.stdout).unwrap();
    assert!(text.contains("calls: 3"), "{text}");
    assert!(text.contains("agents: 1"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "the export holds the team's calls: the owner's only"
        );
    }
    let again = run(&from, &["export", file.to_str().unwrap()]);
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );

    // Into the other store (PostgreSQL when the tests run against a server).
    let (to, to_addr) = configure(&dir.path().join("to"), |data| {
        common::config_text(data, common::GENERIC_ON)
    });
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(
        &broken,
        "{\"kind\":\"header\",\"format\":1,\"epoch\":\"x\",\"outbox_dropped\":0}\nnot json\n",
    )
    .unwrap();
    let refused = run(&to, &["import", "hub", broken.to_str().unwrap()]);
    assert!(!refused.status.success());
    let why = String::from_utf8(refused.stderr).unwrap();
    assert!(why.contains("line 2"), "the error names the line: {why}");

    let imported = run(&to, &["import", "hub", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{imported:?}");
    let twice = run(&to, &["import", "hub", file.to_str().unwrap()]);
    assert!(
        !twice.status.success(),
        "a store with data refuses a whole hub"
    );
    let why = String::from_utf8(twice.stderr).unwrap();
    assert!(why.contains("not empty"), "{why}");

    let mut hub = serve(&to, &format!("http://{to_addr}")).await;
    assert_eq!(
        journal(&to_addr, &token).await,
        before,
        "the journal, and anna's token works"
    );
    // The app resumes from its position: no snapshot, the next event follows on.
    let mut resumed =
        Stream::connect(&to_addr, &token, Some((&snapshot.epoch, snapshot.seq))).await;
    post(&to_addr, "newCall", "four").await;
    loop {
        match resumed.next().await {
            ServerMessage::Event(event) => {
                assert!(event.seq > snapshot.seq);
                assert_eq!(event.epoch, snapshot.epoch);
                if common::call_of(&ServerMessage::Event(event.clone()))
                    .is_some_and(|call| call.call_id == "four")
                {
                    break;
                }
            }
            other => panic!("the log goes on, no snapshot: {other:?}"),
        }
    }
    let after = journal(&to_addr, &token).await;
    assert_eq!(after.len(), 4, "new calls get new ids");
    hub.kill().unwrap();
    hub.wait().unwrap();

    // And back to SQLite.
    let file = dir.path().join("back.jsonl");
    let exported = run(&to, &["export", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{exported:?}");
    let (back, back_addr) = configure(&dir.path().join("back"), |data| {
        common::sqlite_config_text(data, common::GENERIC_ON)
    });
    let imported = run(&back, &["import", "hub", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{imported:?}");
    let mut hub = serve(&back, &format!("http://{back_addr}")).await;
    assert_eq!(journal(&back_addr, &token).await, after);
    hub.kill().unwrap();
    hub.wait().unwrap();
}
