//! The hub as the desktop app runs it in-process: on loopback, with its configuration and
//! database in the app's data directory, and the local user as its admin agent.
//!
//! The local agent's token is made anew at every start and never written anywhere: the
//! app that started the hub is the only one that needs it, and it holds it in memory.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ringside_core::api::WebhookUrl;
use ringside_core::call::Provider;

use crate::config::{self, Config, ConfigError, Settings};
use crate::recorder::{RecordError, Recorder};
use crate::state::AgentInputError;
use crate::store::{Store, StoreError};
use crate::webhook_url::Webhook;
use crate::{state, token, HubError, RunningHub};

/// How long the test call rings before the caller gives up.
pub const TEST_CALL_RINGS_FOR: Duration = Duration::from_secs(15);

/// The number the test call comes from: in Berlin's range kept for film and fiction
/// (030 23125 xxx), so nobody is called back by mistake.
pub const TEST_CALL_FROM: &str = "+493023125000";

/// Why the embedded hub did not start or its test call was not sent. Each message names
/// what failed and why, cause included.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// A file or directory of the hub could not be created, written or resolved.
    #[error("{what} {}: {cause}", path.display())]
    File {
        /// What was being done: "creating", "writing", "resolving".
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The configuration file could not be made private.
    #[error("making {} private: {cause}", path.display())]
    Private {
        /// The configuration file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// No port was free on loopback for a new hub.
    #[error("finding a free port on loopback: {0}")]
    FreePort(std::io::Error),
    /// The configuration file could not be loaded.
    #[error("loading {}: {cause}", path.display())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// Why.
        cause: ConfigError,
    },
    /// The store could not be opened to prepare the local agent.
    #[error("opening the store: {0}")]
    OpenStore(StoreError),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The local agent is not a valid agent.
    #[error("{0}")]
    Agent(#[from] AgentInputError),
    /// A write failed.
    #[error("{0}")]
    Record(#[from] RecordError),
    /// The hub did not start or stop cleanly.
    #[error("{0}")]
    Hub(#[from] HubError),
    /// The local agent was removed while the hub started.
    #[error("the local agent {0:?} vanished")]
    AgentVanished(String),
    /// The test call needs the generic webhook, which the configuration switches off.
    #[error("the generic CTI webhook is disabled in {}", .0.display())]
    GenericDisabled(PathBuf),
    /// The test call's webhook request failed.
    #[error("posting to the generic webhook: {0}")]
    Post(reqwest::Error),
    /// The generic webhook refused the test call's event.
    #[error("the webhook answered {0}")]
    Refused(reqwest::StatusCode),
}

impl EmbeddedError {
    fn file(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_owned();
        move |cause| EmbeddedError::File { what, path, cause }
    }
}

/// Who the embedded hub's own agent is.
#[derive(Debug, Clone)]
pub struct LocalAgent {
    /// Login, e.g. the operating-system user name.
    pub login: String,
    /// Display name.
    pub name: String,
}

impl LocalAgent {
    /// The agent for the user running the app: their login name when it makes a valid
    /// login, else `agent`.
    pub fn from_environment() -> LocalAgent {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_default();
        let login: String = user
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect::<String>()
            .to_ascii_lowercase();
        let login = if login.is_empty() {
            "agent".to_owned()
        } else {
            login
        };
        LocalAgent {
            name: login.clone(),
            login,
        }
    }
}

/// A running embedded hub and what the app needs to talk to it.
#[derive(Debug)]
pub struct EmbeddedHub {
    /// The server.
    pub running: RunningHub,
    /// The local agent's login.
    pub login: String,
    /// The local agent's token for this run.
    pub token: String,
    /// Where the configuration file is, for the admin who wants to edit it.
    pub config_path: PathBuf,
}

impl EmbeddedHub {
    /// The URLs of the enabled webhooks, tokens included, for the PBX's settings.
    pub fn webhooks(&self) -> Vec<WebhookUrl> {
        let config = &self.running.hub.settings.config;
        let base = self.running.url();
        let mut urls = vec![];
        if config.generic.enabled {
            urls.push(WebhookUrl {
                provider: Provider::Generic,
                label: "Generic CTI (Zammad-compatible) webhook".into(),
                url: Webhook::Generic.url(&base, &config.generic.token),
            });
        }
        if config.placetel.enabled {
            urls.push(WebhookUrl {
                provider: Provider::Placetel,
                label: "Placetel notify URL".into(),
                url: Webhook::Placetel.url(&base, &config.placetel.token),
            });
        }
        if config.sipgate.enabled {
            for route in ["in", "out"] {
                urls.push(WebhookUrl {
                    provider: Provider::Sipgate,
                    label: format!("sipgate.io {route}going URL"),
                    url: Webhook::Sipgate(route).url(&base, &config.sipgate.token),
                });
            }
        }
        if config.twilio.enabled {
            urls.push(WebhookUrl {
                provider: Provider::Twilio,
                label: "Twilio voice URL".into(),
                url: Webhook::Twilio("voice").url(&base, &config.twilio.token),
            });
        }
        urls
    }

    /// Plays a short inbound call from [`TEST_CALL_FROM`] through the generic webhook, as a
    /// PBX would: it rings, and after [`TEST_CALL_RINGS_FOR`] the caller gives up.
    pub async fn send_test_call(&self) -> Result<(), EmbeddedError> {
        let config = &self.running.hub.settings.config;
        if !config.generic.enabled {
            return Err(EmbeddedError::GenericDisabled(self.config_path.clone()));
        }
        let url = Webhook::Generic.url(&self.running.url(), &config.generic.token);
        let call_id = format!("ringside-test-{}", token::generate());
        let client = reqwest::Client::new();
        post_event(&client, &url, &call_id, "newCall", None).await?;
        tokio::spawn(async move {
            tokio::time::sleep(TEST_CALL_RINGS_FOR).await;
            if let Err(e) = post_event(&client, &url, &call_id, "hangup", Some("cancel")).await {
                tracing::warn!("ending the test call: {e:#}");
            }
        });
        Ok(())
    }

    /// Stops the server.
    pub async fn stop(self) -> Result<(), HubError> {
        self.running.stop().await
    }
}

/// One generic CTI event of the test call.
async fn post_event(
    client: &reqwest::Client,
    url: &str,
    call_id: &str,
    event: &str,
    cause: Option<&str>,
) -> Result<(), EmbeddedError> {
    let mut form = vec![
        ("event", event),
        ("direction", "in"),
        ("from", TEST_CALL_FROM),
        ("to", "Ringside test line"),
        ("callId", call_id),
    ];
    if let Some(cause) = cause {
        form.push(("cause", cause));
    }
    let response = client
        .post(url)
        .form(&form)
        .send()
        .await
        // A reqwest error names the URL, which carries the webhook's token.
        .map_err(|e| EmbeddedError::Post(e.without_url()))?;
    if !response.status().is_success() {
        return Err(EmbeddedError::Refused(response.status()));
    }
    Ok(())
}

/// Starts the hub whose files live in `data_dir`, writing a configuration on first start,
/// and makes sure `agent` exists as an admin with a fresh token.
pub async fn start(data_dir: &Path, agent: &LocalAgent) -> Result<EmbeddedHub, EmbeddedError> {
    crate::owner_only::create_dir(data_dir).map_err(EmbeddedError::file("creating", data_dir))?;
    let config_path = data_dir.join("ringside.toml");
    if config_path.exists() {
        crate::owner_only::tighten(&config_path).map_err(|cause| EmbeddedError::Private {
            path: config_path.clone(),
            cause,
        })?;
    } else {
        let text = first_config(data_dir)?;
        crate::owner_only::write(&config_path, text.as_bytes())
            .map_err(EmbeddedError::file("writing", &config_path))?;
    }
    let mut settings = Config::load(&config_path).map_err(|cause| EmbeddedError::Config {
        path: config_path.clone(),
        cause,
    })?;
    prepare_agent(&settings, agent).await?;
    let running = match crate::start(settings.clone()).await {
        Ok(running) => running,
        Err(e) if e.is_addr_in_use() => {
            // Another program took the port since the first start: any free one will do
            // for now, and Settings shows the URL it is on.
            tracing::warn!(
                "{} is taken, using another port: {e:#}",
                settings.config.listen
            );
            settings.config.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            crate::start(settings).await?
        }
        Err(e) => return Err(e.into()),
    };
    let token = token::generate();
    if !running
        .hub
        .recorder
        .set_token(&agent.login, &token::hash(&token))
        .await?
    {
        return Err(EmbeddedError::AgentVanished(agent.login.clone()));
    }
    Ok(EmbeddedHub {
        running,
        login: agent.login.clone(),
        token,
        config_path,
    })
}

/// Adds the local agent as an admin unless it exists.
async fn prepare_agent(settings: &Settings, agent: &LocalAgent) -> Result<(), EmbeddedError> {
    let (store, writer) =
        Store::open_at(settings.config.store_location()).map_err(EmbeddedError::OpenStore)?;
    if store.agent(&agent.login)?.is_some() {
        return Ok(());
    }
    let recorder = Recorder::new(store, writer);
    let new = state::new_agent(
        &agent.login,
        &agent.name,
        true,
        vec![],
        Default::default(),
        &settings.country,
    )?;
    // The token is replaced as soon as the hub runs.
    recorder
        .add_agent(
            &new,
            &token::hash(&token::generate()),
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    Ok(())
}

/// The configuration of a new embedded hub: loopback on a port free now (kept from then on,
/// so that the URLs given to the PBX stay valid), the database next to the file.
fn first_config(data_dir: &Path) -> Result<String, EmbeddedError> {
    let probe =
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(EmbeddedError::FreePort)?;
    let addr = probe.local_addr().map_err(EmbeddedError::FreePort)?;
    drop(probe);
    let data_dir = data_dir
        .canonicalize()
        .map_err(EmbeddedError::file("resolving", data_dir))?;
    let quoted_dir = toml::Value::String(data_dir.display().to_string()).to_string();
    let text = config::template(token::generate)
        .replacen(
            "listen = \"127.0.0.1:8642\"",
            &format!("listen = \"{addr}\""),
            1,
        )
        .replacen(
            "data_dir = \"data\"",
            &format!("data_dir = {quoted_dir}"),
            1,
        )
        .replacen(
            "public_url = \"http://127.0.0.1:8642\"",
            &format!("public_url = \"http://{addr}\""),
            1,
        );
    Ok(text)
}
