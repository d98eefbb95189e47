//! What the end-to-end tests share: a real hub on a loopback port with its SQLite file in a
//! directory of the test's, agents with tokens, and a PBX that posts generic CTI events.

use std::net::SocketAddr;
use std::path::Path;

use ringside_hub::config::Config;
use ringside_hub::RunningHub;

/// The generic CTI token the test hubs use.
pub const GENERIC_TOKEN: &str = "test-generic-token-0123456789";

/// Starts a hub on `listen` (port 0 for any) with its data under `dir`.
pub async fn start_hub(dir: &Path, listen: SocketAddr) -> anyhow::Result<RunningHub> {
    start_hub_with(dir, listen, "").await
}

/// [`start_hub`], with `extra` sections of the configuration.
pub async fn start_hub_with(
    dir: &Path,
    listen: SocketAddr,
    extra: &str,
) -> anyhow::Result<RunningHub> {
    let text = format!(
        "listen = \"{listen}\"\ndata_dir = {:?}\nheartbeat_secs = 1\n\n[generic]\nenabled = true\ntoken = \"{GENERIC_TOKEN}\"\n{extra}",
        dir.join("data")
    );
    let settings = Config::from_toml(&text, Path::new("test.toml"), std::iter::empty())?;
    Ok(ringside_hub::start(settings).await?)
}

/// Creates an agent directly in a running hub and returns its token.
pub async fn add_agent(hub: &RunningHub, login: &str, admin: bool) -> anyhow::Result<String> {
    let secret = ringside_hub::token::generate();
    let agent = ringside_hub::state::new_agent(
        login,
        login,
        admin,
        vec![],
        Default::default(),
        &hub.hub.settings.country,
    )?;
    hub.hub
        .recorder
        .add_agent(
            &agent,
            &ringside_hub::token::hash(&secret),
            time::OffsetDateTime::now_utc(),
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("login {login} is taken"))?;
    Ok(secret)
}

/// Posts one generic CTI event for an inbound call from a customer to the support line.
pub async fn pbx(hub: &RunningHub, event: &str, call_id: &str, extra: &[(&str, &str)]) {
    let mut form = vec![
        ("event", event),
        ("direction", "in"),
        ("callId", call_id),
        ("from", "4930609854180"),
        ("to", "4930600000000"),
    ];
    form.extend_from_slice(extra);
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/cti/{GENERIC_TOKEN}", hub.url()))
        .form(&form)
        .send()
        .await
        .expect("the hub answers");
    assert_eq!(response.status(), 200, "{event} {call_id}");
}
