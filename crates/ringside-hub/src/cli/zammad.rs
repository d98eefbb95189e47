//! `ringside-hub zammad check`: tests the connection to the configured Zammad and says
//! what is missing and which sync mode follows. `ringside-hub zammad sync`: a full pass
//! now, by the running hub (through the admin API, showing its progress) or, with no hub
//! running, straight into the store.

use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use ringside_core::api::ZammadSyncState;
use ringside_hub::config::Settings;
use ringside_hub::recorder::Recorder;
use ringside_hub::store::Store;
use ringside_hub::zammad::check;
use ringside_hub::zammad::client::{Retry, ZammadClient};
use ringside_hub::zammad::sync::Syncer;
use ringside_hub::zammad_relay::probe::{self, ProbeFinding};

/// How often the progress of a running hub's pass is asked for.
const POLL: Duration = Duration::from_millis(500);

/// What to do with Zammad.
#[derive(Debug, Subcommand)]
pub enum ZammadCommand {
    /// Test the connection, the API token and its permissions, and look for
    /// Elasticsearch; with a CTI token, test that the relay's endpoint takes it.
    Check,
    /// Sync all users and organizations now: by the running hub, else into the store.
    Sync {
        /// The running hub (default: public_url).
        #[arg(long)]
        url: Option<String>,
        /// An admin's API token, to ask the running hub (it may start with `-`).
        #[arg(
            long,
            env = "RINGSIDE_ADMIN_TOKEN",
            hide_env_values = true,
            allow_hyphen_values = true
        )]
        token: Option<String>,
    },
}

/// Runs a Zammad command; a check that finds the sync or the relay impossible fails.
pub async fn run(settings: Settings, command: ZammadCommand) -> anyhow::Result<()> {
    let zammad = &settings.config.zammad;
    match command {
        ZammadCommand::Check => check(&settings).await,
        ZammadCommand::Sync { .. } if !zammad.enabled() => bail!(
            "zammad.url or zammad.token is empty: set both in the configuration to sync \
             from Zammad"
        ),
        ZammadCommand::Sync { url, token } => {
            let url = url.unwrap_or_else(|| settings.config.public_url.clone());
            let url = url.trim_end_matches('/').to_owned();
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?;
            let running = http
                .get(format!("{url}/api/v1/openapi.json"))
                .send()
                .await
                .is_ok();
            match (running, token) {
                (true, Some(token)) => by_the_hub(&http, &url, &token).await,
                (true, None) => bail!(
                    "a hub runs at {url}: give an admin's token (--token or \
                     RINGSIDE_ADMIN_TOKEN) so that it syncs"
                ),
                (false, _) => into_the_store(&settings).await,
            }
        }
    }
}

/// Checks what is configured: the sync (url and token) and the relay's endpoint (url and
/// cti_token), each in words.
async fn check(settings: &Settings) -> anyhow::Result<()> {
    let zammad = &settings.config.zammad;
    let relay = !zammad.url.is_empty() && !zammad.cti_token.is_empty();
    if !zammad.enabled() && !relay {
        bail!(
            "nothing to check: set zammad.url with zammad.token (the sync) or \
             zammad.cti_token (the relay to Zammad's caller log)"
        );
    }
    let mut impossible = Vec::new();
    if zammad.enabled() {
        let client = ZammadClient::new(zammad, Retry::default())?;
        let mut report = check::run(&client, &settings.country)
            .await
            .context("checking Zammad")?;
        if zammad.maybe_numbers_from_tickets {
            check::maybe_numbers(&client, zammad.maybe_ticket_days, &mut report)
                .await
                .context("checking Zammad's tickets")?;
        }
        print!("{report}");
        if !report.can_sync() {
            impossible.push("callers cannot be synced from Zammad");
        }
    }
    if relay {
        match probe::run(&zammad.cti_endpoint()).await {
            ProbeFinding::Ready(line) => println!("ok: {line}"),
            ProbeFinding::Missing(line) => {
                println!("missing: {line}");
                impossible.push("the relay cannot forward calls to Zammad's caller log");
            }
        }
    }
    if !impossible.is_empty() {
        bail!("{}: see what is missing above", impossible.join("; "));
    }
    Ok(())
}

/// Asks the running hub for a full pass and follows it until it ends.
async fn by_the_hub(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<()> {
    let response = http
        .post(format!("{url}/api/v1/admin/zammad/sync"))
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("asking the hub at {url}"))?;
    let status = response.status();
    if status != reqwest::StatusCode::ACCEPTED {
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        bail!(
            "the hub refused (HTTP {status}): {}",
            body["error"].as_str().unwrap_or("no reason given")
        );
    }
    let before: ZammadSyncState = response.json().await?;
    println!("the hub at {url} is syncing from Zammad");
    loop {
        tokio::time::sleep(POLL).await;
        let state: ZammadSyncState = http
            .get(format!("{url}/api/v1/admin/zammad"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let ended = !state.syncing
            && (state.last_full_sync != before.last_full_sync
                || state.last_error_at != before.last_error_at);
        if !ended {
            println!(
                "… {} users, {} organizations so far",
                state.users, state.organizations
            );
            continue;
        }
        if state.last_error_at != before.last_error_at {
            bail!("the sync failed: {}", state.last_error.unwrap_or_default());
        }
        println!(
            "synced {} users and {} organizations with {} numbers",
            state.users, state.organizations, state.numbers
        );
        return Ok(());
    }
}

/// No hub runs: syncs straight into the store, then matches the recent calls to it.
async fn into_the_store(settings: &Settings) -> anyhow::Result<()> {
    let (store, db) =
        Store::open_at(settings.config.store_location()).context("opening the store")?;
    let client = ZammadClient::new(&settings.config.zammad, Retry::default())?;
    let zammad = &settings.config.zammad;
    let syncer = Syncer::new(client, settings.country.clone(), db).with_maybe_numbers(
        zammad
            .maybe_numbers_from_tickets
            .then_some(zammad.maybe_ticket_days),
    );
    let now = time::OffsetDateTime::now_utc();
    println!("no hub runs: syncing from Zammad into the store");
    match syncer.full(now).await {
        Ok(pass) => {
            println!(
                "synced {} users and {} organizations ({} removed)",
                pass.users, pass.organizations, pass.removed
            );
            let (_, writer) =
                Store::open_at(settings.config.store_location()).context("opening the store")?;
            let rematched = Recorder::new(store, writer)
                .refresh_callers(&settings.country, now)
                .await
                .context("matching the recent calls to the directory")?;
            if rematched > 0 {
                println!("{rematched} recent calls now show their caller's current match");
            }
            Ok(())
        }
        Err(e) => {
            syncer.record_error(&e, now).await;
            Err(e).context("syncing from Zammad")
        }
    }
}
