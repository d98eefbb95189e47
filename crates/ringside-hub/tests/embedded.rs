//! The hub as the desktop app embeds it: first start writes its configuration, the local
//! user is its admin with a token made anew at every start, the port survives restarts, and
//! the test call goes through the real generic webhook.

use ringside_hub::embedded::{self, LocalAgent, TEST_CALL_FROM};
use serde_json::Value;

fn agent() -> LocalAgent {
    LocalAgent {
        login: "dana".into(),
        name: "Dana Desk".into(),
    }
}

async fn get(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn first_start_makes_the_local_user_admin_and_restarts_keep_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let hub = embedded::start(&data, &agent()).await.unwrap();
    assert!(hub.running.addr.ip().is_loopback(), "{}", hub.running.addr);
    assert!(hub.config_path.starts_with(&data));
    let (status, me) = get(&format!("{}/api/v1/me", hub.running.url()), &hub.token).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["login"], "dana");
    assert_eq!(me["name"], "Dana Desk");
    assert_eq!(me["role"], "admin");

    let webhooks = hub.webhooks();
    assert_eq!(
        webhooks.len(),
        1,
        "only the generic webhook is on by default"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hub.config_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the tokens are the owner's to read");
    }
    let config = std::fs::read_to_string(&hub.config_path).unwrap();
    let generic_token = config
        .lines()
        .find_map(|line| line.strip_prefix("token = \""))
        .unwrap()
        .trim_end_matches('"');
    assert_eq!(
        webhooks[0].url,
        format!("{}/api/v1/cti/{generic_token}", hub.running.url())
    );

    let first_addr = hub.running.addr;
    let first_token = hub.token.clone();
    hub.stop().await.unwrap();

    let again = embedded::start(&data, &agent()).await.unwrap();
    assert_eq!(again.running.addr, first_addr, "the PBX's URLs stay valid");
    assert_ne!(again.token, first_token);
    let me_url = format!("{}/api/v1/me", again.running.url());
    assert_eq!(
        get(&me_url, &first_token).await.0,
        401,
        "last run's token is dead"
    );
    assert_eq!(get(&me_url, &again.token).await.0, 200);
    let (_, agents) = get(
        &format!("{}/api/v1/agents", again.running.url()),
        &again.token,
    )
    .await;
    assert_eq!(agents.as_array().unwrap().len(), 1, "no second local agent");
    again.stop().await.unwrap();
}

#[tokio::test]
async fn a_taken_port_falls_back_to_a_free_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let hub = embedded::start(&data, &agent()).await.unwrap();
    let taken = hub.running.addr;
    hub.stop().await.unwrap();
    let squatter = std::net::TcpListener::bind(taken).unwrap();
    let hub = embedded::start(&data, &agent()).await.unwrap();
    assert_ne!(hub.running.addr, taken);
    let (status, _) = get(&format!("{}/api/v1/me", hub.running.url()), &hub.token).await;
    assert_eq!(status, 200);
    assert!(hub.webhooks()[0].url.starts_with(&hub.running.url()));
    drop(squatter);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_test_call_rings_through_the_generic_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let hub = embedded::start(&dir.path().join("hub"), &agent())
        .await
        .unwrap();
    hub.send_test_call().await.unwrap();
    let (status, page) = get(&format!("{}/api/v1/journal", hub.running.url()), &hub.token).await;
    assert_eq!(status, 200);
    let call = &page["entries"][0];
    assert_eq!(call["from"], TEST_CALL_FROM);
    assert_eq!(call["direction"], "in");
    assert_eq!(
        call["state"], "newCall",
        "it rings until the caller gives up"
    );
    hub.stop().await.unwrap();
}
