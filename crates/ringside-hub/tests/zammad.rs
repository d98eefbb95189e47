//! The Zammad client and `zammad check` against the fake Zammad in its variants: with and
//! without Elasticsearch, a wrong token, API token access off, missing permissions, a
//! capped page size and a failing server.

mod common;

use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use common::fake_zammad::{FakeZammad, PER_PAGE_CAP, ZAMMAD_TOKEN};
use ringside_core::number::DefaultCountry;
use ringside_hub::config::Config;
use ringside_hub::zammad::check::{self, SyncMode};
use ringside_hub::zammad::client::{PageSeen, Pager, Retry, ZammadClient, ZammadError, USER_READ};
use ringside_providers::zammad::records;
use serde_json::json;

fn de() -> DefaultCountry {
    DefaultCountry::from_iso("DE").unwrap()
}

fn quick() -> Retry {
    Retry {
        attempts: 3,
        first_wait: Duration::from_millis(10),
    }
}

fn client(fake: &FakeZammad) -> ZammadClient {
    let settings = Config::from_toml(&fake.config(), Path::new("t.toml"), std::iter::empty())
        .unwrap()
        .config
        .zammad;
    ZammadClient::new(&settings, quick()).unwrap()
}

async fn fake_with_nicole(elasticsearch: bool) -> FakeZammad {
    let fake = FakeZammad::start(elasticsearch).await;
    fake.put_user(
        2,
        json!({"firstname": "Nicole", "lastname": "Braun", "phone": "+49 (0)30 123-456"}),
    );
    fake
}

#[tokio::test]
async fn with_elasticsearch_the_sync_is_incremental() {
    let fake = fake_with_nicole(true).await;
    let report = check::run(&client(&fake), &de()).await.unwrap();
    assert_eq!(report.mode, Some(SyncMode::Incremental), "{report}");
    assert!(report.missing.is_empty(), "{report}");
    let text = report.to_string();
    assert!(text.contains("Elasticsearch answers"), "{text}");
    let requests = fake.requests();
    assert!(requests
        .iter()
        .all(|r| r.authorization.as_deref() == Some(&format!("Token token={ZAMMAD_TOKEN}"))));
    assert!(
        requests
            .iter()
            .any(|r| r.uri.contains("users/search?query=id%3A2")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn without_elasticsearch_the_sync_takes_full_passes() {
    let fake = fake_with_nicole(false).await;
    let report = check::run(&client(&fake), &de()).await.unwrap();
    assert_eq!(report.mode, Some(SyncMode::FullPasses), "{report}");
    assert_eq!(report.missing.len(), 1, "{report}");
    assert!(report.missing[0].starts_with("Elasticsearch"), "{report}");
    assert!(report.to_string().contains("full passes"), "{report}");
}

#[tokio::test]
async fn a_wrong_token_or_api_token_access_off_is_said_in_words() {
    let fake = fake_with_nicole(true).await;
    let mut settings = Config::from_toml(&fake.config(), Path::new("t.toml"), std::iter::empty())
        .unwrap()
        .config
        .zammad;
    settings.token = "wrong".into();
    let wrong = ZammadClient::new(&settings, quick()).unwrap();
    let err = check::run(&wrong, &de()).await.unwrap_err();
    assert!(matches!(err, ZammadError::TokenRefused { .. }), "{err}");
    assert!(err.to_string().contains("API Token Access is off"), "{err}");
    assert_eq!(fake.requests().len(), 1, "a 401 is not tried again");

    fake.data.lock().unwrap().api_token_access = false;
    let err = check::run(&client(&fake), &de()).await.unwrap_err();
    assert!(err.to_string().contains("Settings → System → API"), "{err}");
    assert!(!err.to_string().contains(ZAMMAD_TOKEN), "{err}");
}

#[tokio::test]
async fn a_missing_permission_is_named() {
    let fake = fake_with_nicole(true).await;
    fake.data.lock().unwrap().permissions = vec!["admin.user"];
    let report = check::run(&client(&fake), &de()).await.unwrap();
    assert_eq!(report.mode, Some(SyncMode::Incremental), "users still sync");
    assert_eq!(report.missing.len(), 1, "{report}");
    assert!(
        report.missing[0].contains("ticket_states") && report.missing[0].contains("ticket.agent"),
        "{report}"
    );

    fake.data.lock().unwrap().permissions = vec![];
    let report = check::run(&client(&fake), &de()).await.unwrap();
    assert_eq!(report.mode, None, "{report}");
    assert!(!report.can_sync());
    assert!(
        report.missing[0].contains("ticket.agent or admin.user"),
        "{report}"
    );
}

#[tokio::test]
async fn paging_reads_every_user_past_the_servers_cap() {
    let fake = FakeZammad::start(false).await;
    for id in 1..=120 {
        fake.put_user(
            id,
            json!({"firstname": format!("U{id}"), "phone": format!("030 5550{id:03}")}),
        );
    }
    let client = client(&fake);
    let mut ids = Vec::new();
    let mut pager = Pager::new(&client, "users", &[], 100, USER_READ);
    while let Some(body) = pager.next().await.unwrap() {
        let users = records::users(&body, &de()).unwrap();
        pager
            .seen(PageSeen {
                records: users.len(),
                first_id: users.first().map(|u| u.id),
            })
            .unwrap();
        ids.extend(users.iter().map(|u| u.id));
    }
    assert_eq!(ids, (1..=120).collect::<Vec<u64>>());
    let pages: Vec<String> = fake.requests().into_iter().map(|r| r.uri).collect();
    assert_eq!(pages.len(), 3, "50, 50, then 20 ends it: {pages:?}");
    assert!(pages[2].ends_with("page=3&per_page=100"), "{pages:?}");
    assert_eq!(PER_PAGE_CAP, 50);
}

#[tokio::test]
async fn a_zammad_that_ignores_paging_is_caught() {
    let fake = FakeZammad::start(false).await;
    for id in 1..=60 {
        fake.put_user(id, json!({"firstname": format!("U{id}")}));
    }
    fake.data.lock().unwrap().ignores_paging = true;
    let client = client(&fake);
    let mut pager = Pager::new(&client, "users", &[], 100, USER_READ);
    let mut result = Ok(());
    while let Some(body) = pager.next().await.unwrap() {
        let users = records::users(&body, &de()).unwrap();
        result = pager.seen(PageSeen {
            records: users.len(),
            first_id: users.first().map(|u| u.id),
        });
        if result.is_err() {
            break;
        }
    }
    let err = result.unwrap_err();
    assert!(
        matches!(err, ZammadError::PagingIgnored { page: 2 }),
        "{err}"
    );
    assert!(err.to_string().contains("ignores paging"), "{err}");
}

#[tokio::test]
async fn failures_on_zammads_side_are_tried_again_then_reported() {
    let fake = fake_with_nicole(true).await;
    fake.data.lock().unwrap().fail_next =
        vec![StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY];
    let body = client(&fake)
        .page("users", &[], 1, 10, USER_READ)
        .await
        .unwrap();
    assert_eq!(
        records::users(&body, &de()).unwrap()[0].name,
        "Nicole Braun"
    );
    assert_eq!(fake.requests().len(), 3);

    fake.data.lock().unwrap().fail_next = vec![StatusCode::SERVICE_UNAVAILABLE; 3];
    let err = client(&fake)
        .page("users", &[], 1, 10, USER_READ)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 503"), "{err}");
}

#[tokio::test]
async fn an_unreachable_zammad_is_said_in_words() {
    let port = common::process::free_port();
    let text = format!("[zammad]\nurl = \"http://127.0.0.1:{port}\"\ntoken = \"t\"\n");
    let settings = Config::from_toml(&text, Path::new("t.toml"), std::iter::empty())
        .unwrap()
        .config
        .zammad;
    let err = check::run(&ZammadClient::new(&settings, quick()).unwrap(), &de())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("could not be reached"), "{err}");
}

/// Runs `ringside-hub zammad check` off the async threads, which serve the fake.
async fn check_command(config: &Path) -> std::process::Output {
    let config = config.to_owned();
    tokio::task::spawn_blocking(move || {
        common::process::hub_command(&config)
            .args(["zammad", "check"])
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_check_command_prints_the_mode_and_fails_when_nothing_can_sync() {
    let fake = fake_with_nicole(false).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    std::fs::write(
        &config,
        common::config_text(&dir.path().join("data"), &fake.config()),
    )
    .unwrap();
    let output = check_command(&config).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("sync mode: full passes"), "{stdout}");

    fake.data.lock().unwrap().permissions = vec![];
    let output = check_command(&config).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be synced"), "{stderr}");
}

#[tokio::test]
async fn the_check_command_probes_the_relays_endpoint_without_logging_a_call() {
    use common::fake_zammad_cti::{FakeZammadCti, Mode};
    let fake = FakeZammadCti::start("cti-token-0123456789").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ringside.toml");
    let write = |cti_token: &str| {
        let section = format!(
            "[zammad]\nurl = \"{}\"\ncti_token = \"{cti_token}\"\nrelay = true\n",
            fake.url()
        );
        std::fs::write(
            &config,
            common::config_text(&dir.path().join("data"), &section),
        )
        .unwrap();
    };

    write("cti-token-0123456789");
    let output = check_command(&config).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("accepts the CTI token"), "{stdout}");
    assert!(
        !stdout.contains("cti-token-0123456789"),
        "the token is never printed: {stdout}"
    );

    write("a-wrong-token");
    let output = check_command(&config).await;
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("refused the CTI token (401"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the relay cannot forward calls"),
        "{stderr}"
    );

    write("cti-token-0123456789");
    fake.set_mode(Mode::Disabled);
    let output = check_command(&config).await;
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("integration is off"), "{stdout}");

    assert!(
        fake.accepted().is_empty() && fake.log_state("ringside-check").is_none(),
        "the probe never reaches Zammad's caller log"
    );
    assert_eq!(fake.received().len(), 3, "one probe per check");
}
