//! The command line's `agent set` refuses what the admin API refuses, and changes nothing.

mod common;

use common::process::hub_command;

#[test]
fn agent_set_refuses_a_name_or_numbers_past_their_bounds_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::config_text(&dir.path().join("data"), "")).unwrap();
    let added = hub_command(&config)
        .args(["agent", "add", "anna", "--name", "Anna Agent"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");

    let long_name = "A".repeat(201);
    let refused = hub_command(&config)
        .args(["agent", "set", "anna", "--name", &long_name])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("at most 200 characters"), "{stderr}");

    let long_number = "1".repeat(65);
    let refused = hub_command(&config)
        .args(["agent", "set", "anna", "--number", &long_number])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "{refused:?}");

    let listed = hub_command(&config)
        .args(["agent", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("Anna Agent"), "{listed}");
    assert!(!listed.contains(&long_number), "{listed}");
}
