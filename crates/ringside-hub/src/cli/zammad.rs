//! `ringside-hub zammad check`: tests the connection to the configured Zammad and says
//! what is missing and which sync mode follows.

use anyhow::{bail, Context};
use clap::Subcommand;
use ringside_hub::config::Settings;
use ringside_hub::zammad::check;
use ringside_hub::zammad::client::{Retry, ZammadClient};

/// What to do with Zammad.
#[derive(Debug, Subcommand)]
pub enum ZammadCommand {
    /// Test the connection, the token and its permissions, and look for Elasticsearch.
    Check,
}

/// Runs a Zammad command; a check that finds the sync impossible fails.
pub async fn run(settings: Settings, command: ZammadCommand) -> anyhow::Result<()> {
    match command {
        ZammadCommand::Check => {
            let zammad = &settings.config.zammad;
            if !zammad.enabled() {
                bail!("zammad.url is empty: set it and zammad.token in the configuration");
            }
            let client = ZammadClient::new(zammad, Retry::default())?;
            let report = check::run(&client, &settings.country)
                .await
                .context("checking Zammad")?;
            print!("{report}");
            if !report.can_sync() {
                bail!("callers cannot be synced from Zammad: see what is missing above");
            }
            Ok(())
        }
    }
}
