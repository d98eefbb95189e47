//! The command line: `init`, `serve`, `migrate`, `agent`, `export`, `import`, `simulate`,
//! `zammad`.

mod agent;
mod hub_file;
mod import;
mod simulate;
mod zammad;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use ringside_hub::config::{self, Config, LogFormat, Settings};
use ringside_hub::store::Store;
use ringside_hub::webhook_url::Webhook;
use ringside_hub::{owner_only, token};

/// Ringside's hub: the call journal, caller identification and live stream for your team.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Args {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "RINGSIDE_CONFIG",
        default_value = "ringside.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a commented configuration file with fresh random tokens.
    Init {
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Run the hub.
    Serve,
    /// Bring the database to this version's schema (creating it if needed) and exit, so
    /// that an upgrade's migrations run before the hub serves; refuses a newer database.
    Migrate,
    /// Manage agents.
    #[command(subcommand)]
    Agent(agent::AgentCommand),
    /// Write the whole hub (journal, event log, agents, directory, outbox) to a new file,
    /// to import it into another store with `import hub`.
    Export {
        /// The file to write.
        file: PathBuf,
    },
    /// Import contacts or tickets into the caller directory, or a whole exported hub.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Play a realistic call against a hub's generic CTI endpoint.
    Simulate(simulate::SimulateArgs),
    /// Check the connection to the Zammad help desk.
    #[command(subcommand)]
    Zammad(zammad::ZammadCommand),
}

impl Args {
    /// The configuration's `log_format`, read before logging starts; text when there is no
    /// readable configuration (the command says why once it runs).
    pub fn log_format(&self) -> LogFormat {
        Config::load(&self.config)
            .map(|settings| settings.config.log_format)
            .unwrap_or_default()
    }
}

/// Runs one command.
pub async fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Init { force } => init(&args.config, force),
        Command::Serve => serve(&args.config, load(&args.config)?).await,
        Command::Migrate => migrate(&load(&args.config)?),
        Command::Agent(command) => agent::run(load(&args.config)?, command).await,
        Command::Export { file } => hub_file::export(&load(&args.config)?, &file),
        Command::Import(command) => import::run(load(&args.config)?, command).await,
        Command::Simulate(sim) => simulate::run(&args.config, sim).await,
        Command::Zammad(command) => zammad::run(load(&args.config)?, command).await,
    }
}

fn load(path: &Path) -> anyhow::Result<Settings> {
    // The file holds the webhook tokens: readable by its owner only. A file someone else
    // owns (a service reading root's configuration) cannot be changed: a warning says so.
    if let Err(e) = owner_only::tighten(path) {
        tracing::warn!("{} could not be made private: {e}", path.display());
    }
    Config::load(path).with_context(|| {
        format!(
            "loading the configuration (write one with: ringside-hub --config {} init)",
            path.display()
        )
    })
}

fn init(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        bail!(
            "{} exists; pass --force to replace it (its tokens stop working)",
            path.display()
        );
    }
    // The file holds the webhook tokens: readable by its owner only.
    owner_only::write(path, config::template(token::generate).as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let dir = settings.config.store_location();
    let done = Store::migrate(dir).with_context(|| format!("migrating {dir}"))?;
    match done.from {
        0 => println!("created {dir} at schema version {}", done.to),
        from if from < done.to => {
            println!("migrated {dir} from schema version {from} to {}", done.to)
        }
        _ => println!(
            "{dir} is at schema version {}, this hub's: nothing to do",
            done.to
        ),
    }
    Ok(())
}

async fn serve(path: &Path, settings: Settings) -> anyhow::Result<()> {
    let public_url = settings.config.public_url.clone();
    let generic = settings.config.generic.clone();
    let running = ringside_hub::start(settings).await?;
    tracing::info!("hub listening on {}", running.addr);
    if generic.enabled {
        let url = Webhook::Generic.url(&public_url, "<generic.token>");
        tracing::info!("generic CTI webhook: {url}");
    }
    let mut hangups = hangups()?;
    loop {
        tokio::select! {
            result = tokio::signal::ctrl_c() => {
                result.context("waiting for Ctrl-C")?;
                break;
            }
            result = wait_for_term() => {
                result?;
                break;
            }
            Some(()) = hangups.recv() => reload(path, &running),
        }
    }
    tracing::info!("stopping");
    Ok(running.stop().await?)
}

/// Reads the configuration again and puts its call rules in force; a file that does not
/// load leaves the rules as they are.
fn reload(path: &Path, running: &ringside_hub::RunningHub) {
    match load(path) {
        Ok(settings) => {
            let rules = running.reload(&settings);
            tracing::info!(
                "reloaded {}: {rules} in force; other changes take effect at a restart",
                path.display()
            );
        }
        Err(e) => tracing::error!(
            "reloading {}: {e:#}; the rules in force stay",
            path.display()
        ),
    }
}

/// The SIGHUPs the hub receives: each asks it to reload.
#[cfg(unix)]
fn hangups() -> anyhow::Result<tokio::sync::mpsc::Receiver<()>> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("listening for SIGHUP")?;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            // One waiting reload covers any number of signals.
            let _ = tx.try_send(());
        }
    });
    Ok(rx)
}

/// No SIGHUP off Unix: a channel that is closed at once, so nothing asks for a reload.
#[cfg(not(unix))]
fn hangups() -> anyhow::Result<tokio::sync::mpsc::Receiver<()>> {
    Ok(tokio::sync::mpsc::channel(1).1)
}

#[cfg(unix)]
async fn wait_for_term() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    term.recv().await;
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_term() -> anyhow::Result<()> {
    std::future::pending().await
}
