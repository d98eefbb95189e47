//! `ringside-hub agent add|list|token`.

use anyhow::{bail, Context};
use clap::Subcommand;
use ringside_hub::config::Settings;
use ringside_hub::recorder::Recorder;
use ringside_hub::store::Store;
use ringside_hub::{state, token};

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Create an agent; prints its API token as the last line.
    Add {
        /// Unique login (lower case).
        login: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Make the agent an admin.
        #[arg(long)]
        admin: bool,
        /// One of the agent's own phone numbers (repeatable).
        #[arg(long = "number")]
        numbers: Vec<String>,
    },
    /// List agents.
    List,
    /// Remove an agent; its token stops working.
    Remove {
        /// The agent's login.
        login: String,
    },
    /// Issue a new token for an agent; the old one stops working.
    Token {
        /// The agent's login.
        login: String,
    },
}

pub async fn run(settings: Settings, command: AgentCommand) -> anyhow::Result<()> {
    let (store, writer) = Store::open(&settings.config.data_dir).context("opening the store")?;
    let recorder = Recorder::new(store.clone(), writer);
    let now = time::OffsetDateTime::now_utc();
    match command {
        AgentCommand::Add {
            login,
            name,
            admin,
            numbers,
        } => {
            let agent = state::new_agent(&login, &name, admin, numbers, &settings.country)?;
            let secret = token::generate();
            if recorder
                .add_agent(&agent, &token::hash(&secret), now)
                .await?
                .is_none()
            {
                bail!("login {login:?} is taken");
            }
            println!(
                "created {} {login} ({name}); its API token, shown this once:",
                agent.role.as_str()
            );
            println!("{secret}");
        }
        AgentCommand::List => {
            for agent in store.agents().await? {
                println!(
                    "{}\t{}\t{}\tdnd={}\t{}",
                    agent.login,
                    agent.role.as_str(),
                    agent.name,
                    agent.dnd,
                    agent.numbers.join(", ")
                );
            }
        }
        AgentCommand::Remove { login } => {
            if !recorder.remove_agent(&login, now).await? {
                bail!("no agent {login:?}");
            }
            println!("removed {login}");
        }
        AgentCommand::Token { login } => {
            let secret = token::generate();
            if !recorder.set_token(&login, &token::hash(&secret)).await? {
                bail!("no agent {login:?}");
            }
            println!("new API token for {login} (the old one no longer works):");
            println!("{secret}");
        }
    }
    Ok(())
}
