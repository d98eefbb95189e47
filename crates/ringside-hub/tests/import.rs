//! Caller identification end to end: contacts and tickets imported with the real binary's
//! `import` commands, then looked up through the API and attached to calls.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestHub;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_ringside-hub");

const CONTACTS: &str = "BEGIN:VCARD\r
VERSION:3.0\r
FN:Carla Customer\r
ORG:Acme GmbH\r
EMAIL:carla@acme.example\r
TEL;TYPE=work:+49 30 609854180\r
URL:https://desk.example/customers/7\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
FN:Dieter Double\r
TEL;VALUE=uri:tel:+49-30-609854180\r
NOTE:mobile 0171 2223334\r
END:VCARD\r
";

const TICKETS: &str = r#"{"id": 101, "title": "Printer on fire", "state": "open", "customer_email": "carla@acme.example", "url": "https://desk.example/tickets/101", "updated_at": "2026-11-20T09:00:00Z"}
{"id": 102, "title": "Invoice question", "state": "closed", "customer_email": "carla@acme.example", "updated_at": "2026-11-21T09:00:00Z"}
{"id": 103, "title": "Call me back", "customer_email": "erik@elsewhere.example", "text": "Best regards, Erik\nPhone: +49 40 5556667"}
"#;

fn import(config: &Path, what: &str, file: &Path) -> std::process::Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(["import", what])
        .arg(file)
        .output()
        .unwrap()
}

#[tokio::test]
async fn imported_contacts_and_tickets_identify_callers() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::config_text(&dir.path().join("data"), "")).unwrap();
    let contacts = dir.path().join("contacts.vcf");
    std::fs::write(&contacts, CONTACTS).unwrap();
    let tickets = dir.path().join("tickets.jsonl");
    std::fs::write(&tickets, TICKETS).unwrap();

    let out = import(&config, "contacts", &contacts);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "imported 2 contacts with 3 phone numbers"
    );
    let out = import(&config, "tickets", &tickets);
    assert!(out.status.success(), "{out:?}");
    // Importing again updates instead of duplicating.
    assert!(import(&config, "contacts", &contacts).status.success());

    let hub = TestHub::start_in(dir, common::GENERIC_ON).await;
    let (_, found) = hub
        .get("/api/v1/callers/+4930609854180", &hub.admin_token)
        .await;
    let found = &found["match"];
    assert_eq!(found["level"], "known");
    let names: Vec<&str> = found["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["Dieter Double", "Carla Customer"],
        "newest first"
    );
    let carla = &found["contacts"][1];
    assert_eq!(carla["organization"], "Acme GmbH");
    assert_eq!(carla["source"], "import");
    assert_eq!(carla["profile_url"], "https://desk.example/customers/7");
    let titles: Vec<&str> = carla["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Invoice question", "Printer on fire"]);

    let (status, hits) = hub.get("/api/v1/contacts?q=acme", &hub.admin_token).await;
    assert_eq!(status, 200);
    assert_eq!(
        hits,
        json!([{
            "name": "Carla Customer",
            "organization": "Acme GmbH",
            "number": "+4930609854180",
            "number_pretty": "+49 30 609854180"
        }]),
        "found by organization, case-insensitively"
    );
    let (_, hits) = hub.get("/api/v1/contacts?q=diet", &hub.admin_token).await;
    let numbers: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        vec!["+491712223334", "+4930609854180"],
        "one hit per number"
    );
    let (_, none) = hub.get("/api/v1/contacts?q=%25%25", &hub.admin_token).await;
    assert_eq!(none, json!([]), "% is searched for, not a wildcard");
    let (status, error) = hub.get("/api/v1/contacts?q=a", &hub.admin_token).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"], "q must have at least 2 characters");

    let (_, from_note) = hub
        .get("/api/v1/callers/01712223334", &hub.admin_token)
        .await;
    assert_eq!(from_note["match"]["contacts"][0]["name"], "Dieter Double");

    let (_, maybe) = hub
        .get("/api/v1/callers/+49405556667", &hub.admin_token)
        .await;
    assert_eq!(maybe["match"]["level"], "maybe");
    assert_eq!(
        maybe["match"]["contacts"][0]["tickets"][0]["title"],
        "Call me back"
    );

    let (_, answer) = hub
        .cti(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", "known"),
            ("from", "030609854180"),
            ("to", "4930600000000"),
        ])
        .await;
    assert_eq!(answer, json!({}));
    let journal = hub.journal().await;
    assert_eq!(journal[0]["from_comment"], "Dieter Double,Carla Customer");
    assert_eq!(
        journal[0]["caller"]["contacts"][1]["tickets"][0]["id"],
        "102"
    );
}

#[tokio::test]
async fn a_broken_file_imports_nothing_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::config_text(&dir.path().join("data"), "")).unwrap();
    let broken = dir.path().join("broken.vcf");
    std::fs::write(&broken, format!("{CONTACTS}END:VCARD\r\n")).unwrap();
    let out = import(&config, "contacts", &broken);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 15"), "{stderr}");

    let csv = dir.path().join("contacts.csv");
    std::fs::write(&csv, "Colour,Size\nred,XL\n").unwrap();
    let out = import(&config, "contacts", &csv);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Colour"),
        "the error names the headers found: {stderr}"
    );

    let hub = TestHub::start_in(dir, common::GENERIC_ON).await;
    let (_, found): (u16, Value) = hub
        .get("/api/v1/callers/+4930609854180", &hub.admin_token)
        .await;
    assert_eq!(
        found["match"],
        Value::Null,
        "nothing from the broken vCard file"
    );
}

#[tokio::test]
async fn ticket_times_the_store_cannot_hold_are_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::config_text(&dir.path().join("data"), "")).unwrap();
    for time in [
        "0000-06-01T00:00:00Z",
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:30:00-01:00",
    ] {
        let tickets = dir.path().join("tickets.jsonl");
        std::fs::write(
            &tickets,
            format!(
                "{{\"id\": 1, \"title\": \"fine\", \"updated_at\": \"2026-11-20T09:00:00Z\"}}\n\
                 {{\"id\": 2, \"title\": \"odd\", \"customer_phone\": \"+49 40 5556667\", \
                 \"updated_at\": \"{time}\"}}\n"
            ),
        )
        .unwrap();
        let out = import(&config, "tickets", &tickets);
        assert!(!out.status.success(), "{time}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("line 2"), "{time}: {stderr}");
        assert!(stderr.contains("0001 to 9999"), "{time}: {stderr}");
    }
    let hub = TestHub::start_in(dir, common::GENERIC_ON).await;
    let (status, found) = hub
        .get("/api/v1/callers/+49405556667", &hub.admin_token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["match"], Value::Null, "nothing was imported");
}

#[tokio::test]
async fn a_stored_ticket_time_out_of_range_never_breaks_a_lookup_or_a_call() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(
        &config,
        common::sqlite_config_text(&dir.path().join("data"), ""),
    )
    .unwrap();
    let tickets = dir.path().join("tickets.jsonl");
    std::fs::write(
        &tickets,
        "{\"id\": 7, \"title\": \"Old one\", \"customer_phone\": \"+49 40 5556667\", \
         \"text\": \"call +49 40 5556668\", \"updated_at\": \"2026-11-20T09:00:00Z\"}\n",
    )
    .unwrap();
    assert!(import(&config, "tickets", &tickets).status.success());
    // A store written before times were checked at import: 0000-01-01T00:00:00+01:00 was
    // stored as what it is in UTC, in the year -1, which RFC 3339 cannot write.
    let database = dir
        .path()
        .join("data")
        .join(ringside_hub::store::DATABASE_FILE);
    let conn = rusqlite::Connection::open(&database).unwrap();
    let year_minus_one = -62_167_222_800_i64; // -0001-12-31T23:00:00Z
    conn.execute("UPDATE tickets SET updated_at = ?1", [year_minus_one])
        .unwrap();
    drop(conn);

    let hub = TestHub::start_in(dir, &format!("{}{}", common::ON_SQLITE, common::GENERIC_ON)).await;
    let (status, found) = hub
        .get("/api/v1/callers/+49405556668", &hub.admin_token)
        .await;
    assert_eq!(status, 200, "{found}");
    let ticket = &found["match"]["contacts"][0]["tickets"][0];
    assert_eq!(ticket["title"], "Old one");
    assert_eq!(
        ticket["updated_at"],
        Value::Null,
        "an unwritable time is left out"
    );

    let (status, answer) = hub
        .cti(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", "old-ticket"),
            ("from", "+49405556668"),
            ("to", "4930600000000"),
        ])
        .await;
    assert_eq!((status, answer), (200, json!({})));
    let journal = hub.journal().await;
    assert_eq!(journal[0]["caller"]["level"], "maybe");
}

#[tokio::test]
async fn overlong_fields_are_cut_at_import_with_a_warning_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::config_text(&dir.path().join("data"), "")).unwrap();
    let contacts = dir.path().join("contacts.csv");
    let name = "N".repeat(300);
    std::fs::write(
        &contacts,
        format!("Name,Phone\nShort Name,030 609854181\n{name},030 609854180\n"),
    )
    .unwrap();
    let out = import(&config, "contacts", &contacts);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3: the name was cut to 256 characters"),
        "{stderr}"
    );
    assert!(!stderr.contains("line 2"), "{stderr}");

    let tickets = dir.path().join("tickets.jsonl");
    let title = "T".repeat(2000);
    std::fs::write(
        &tickets,
        format!("{{\"id\": 1, \"title\": \"{title}\", \"phone\": \"030 609854180\"}}\n"),
    )
    .unwrap();
    let out = import(&config, "tickets", &tickets);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 1: the title was cut to 1024 characters"),
        "{stderr}"
    );

    let hub = TestHub::start_in(dir, common::GENERIC_ON).await;
    let (_, found) = hub
        .get("/api/v1/callers/+4930609854180", &hub.admin_token)
        .await;
    let contact = &found["match"]["contacts"][0];
    assert_eq!(contact["name"], "N".repeat(256));
    assert_eq!(contact["tickets"][0]["title"], "T".repeat(1024));
}

#[test]
fn a_vcard_file_larger_than_it_reads_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(&config, common::config_text(&dir.path().join("data"), "")).unwrap();
    let contacts = dir.path().join("contacts.vcf");
    // A sparse file: one byte over the 1 GiB bound, without writing a gigabyte.
    let file = std::fs::File::create(&contacts).unwrap();
    file.set_len((1 << 30) + 1).unwrap();

    let out = import(&config, "contacts", &contacts);
    assert!(!out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1073741825 bytes, more than the 1073741824"),
        "{stderr}"
    );
}
