//! `ringside-hub agent add|set|list|token|remove`.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use ringside_core::agent::{Identities, Role};
use ringside_core::call::Provider;
use ringside_hub::config::Settings;
use ringside_hub::recorder::Recorder;
use ringside_hub::store::{AgentChange, Store};
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
        #[command(flatten)]
        identities: IdentityArgs,
    },
    /// Change an agent's name, role, numbers or provider ids.
    Set {
        /// The agent's login.
        login: String,
        /// A new display name.
        #[arg(long)]
        name: Option<String>,
        /// Make the agent an admin (true) or a plain agent (false).
        #[arg(long)]
        admin: Option<bool>,
        /// The agent's own phone numbers, replacing the old ones (repeatable).
        #[arg(long = "number")]
        numbers: Vec<String>,
        /// Away (true: never rung) or back (false).
        #[arg(long)]
        out_of_office: Option<bool>,
        #[command(flatten)]
        identities: IdentityArgs,
    },
    /// List agents.
    List,
    /// Issue a new token for an agent; the old one stops working.
    Token {
        /// The agent's login.
        login: String,
    },
    /// Remove an agent; its token stops working.
    Remove {
        /// The agent's login.
        login: String,
    },
}

/// The agent's ids at the phone providers.
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// The agent's Placetel SIP user (e.g. 777123abc@fpbx.de).
    #[arg(long)]
    placetel_sip_user: Option<String>,
    /// The agent's sipgate user id (e.g. w0).
    #[arg(long)]
    sipgate_user_id: Option<String>,
    /// The phone Twilio rings for the agent: an E.164 number or client:NAME.
    #[arg(long)]
    twilio: Option<String>,
}

impl IdentityArgs {
    fn into_identities(self) -> Identities {
        [
            (Provider::Placetel, self.placetel_sip_user),
            (Provider::Sipgate, self.sipgate_user_id),
            (Provider::Twilio, self.twilio),
        ]
        .into_iter()
        .filter_map(|(provider, id)| id.map(|id| (provider, id)))
        .collect()
    }
}

pub async fn run(settings: Settings, command: AgentCommand) -> anyhow::Result<()> {
    let (store, writer) =
        Store::open_at(settings.config.store_location()).context("opening the store")?;
    let recorder = Recorder::new(store.clone(), writer);
    let now = time::OffsetDateTime::now_utc();
    match command {
        AgentCommand::Add {
            login,
            name,
            admin,
            numbers,
            identities,
        } => {
            let agent = state::new_agent(
                &login,
                &name,
                admin,
                numbers,
                identities.into_identities(),
                &settings.country,
            )?;
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
        AgentCommand::Set {
            login,
            name,
            admin,
            numbers,
            out_of_office,
            identities,
        } => {
            // The same checks as the admin API's.
            let name = name
                .map(|name| state::agent_name(&name).map(str::to_owned))
                .transpose()?;
            state::check_numbers(&numbers)?;
            let mut given = identities.into_identities();
            state::check_identities(&given)?;
            let identities = if given.is_empty() {
                None
            } else {
                let current = store
                    .agent(&login)?
                    .with_context(|| format!("no agent {login:?}"))?;
                let mut merged = current.identities;
                merged.append(&mut given);
                Some(merged)
            };
            let change = AgentChange {
                name,
                role: admin.map(|a| if a { Role::Admin } else { Role::Agent }),
                numbers: (!numbers.is_empty()).then(|| {
                    let normalized = state::normalized_numbers(&numbers, &settings.country);
                    (numbers, normalized)
                }),
                identities,
                out_of_office,
            };
            if recorder.update_agent(&login, &change, now).await?.is_none() {
                bail!("no agent {login:?}");
            }
            println!("changed {login}");
        }
        AgentCommand::List => {
            for agent in store.agents().await? {
                let identities: Vec<String> = agent
                    .identities
                    .iter()
                    .map(|(provider, id)| format!("{}={id}", provider.as_str()))
                    .collect();
                println!(
                    "{}\t{}\t{}\tdnd={}\tout_of_office={}\t{}\t{}",
                    agent.login,
                    agent.role.as_str(),
                    agent.name,
                    agent.dnd,
                    agent.out_of_office,
                    agent.numbers.join(", "),
                    identities.join(" ")
                );
            }
        }
        AgentCommand::Token { login } => {
            let secret = token::generate();
            if !recorder.set_token(&login, &token::hash(&secret)).await? {
                bail!("no agent {login:?}");
            }
            println!("new API token for {login} (the old one no longer works):");
            println!("{secret}");
        }
        AgentCommand::Remove { login } => {
            if !recorder.remove_agent(&login, now).await? {
                bail!("no agent {login:?}");
            }
            println!("removed {login}");
        }
    }
    Ok(())
}
