//! The hub's configuration: one TOML file (`ringside.toml`), every key overridable by an
//! environment variable (`RINGSIDE_` + the key in upper case, sections joined with `_`, e.g.
//! `RINGSIDE_GENERIC_TOKEN`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ringside_core::number::{self, DefaultCountry};
use ringside_core::routing::{BlockRule, NotifyRule, Route};
use serde::Deserialize;
use thiserror::Error;

/// Why the configuration cannot be used. Messages name the file and the key.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a key of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// An environment override has a value of the wrong type.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A value is of the right type but unusable.
    #[error("{key}: {message}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port the hub listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Directory of the database.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The URL under which the PBX reaches the hub (used in webhook URLs shown to the admin).
    #[serde(default = "default_public_url")]
    pub public_url: String,
    /// ISO 3166 country for numbers written in national form.
    #[serde(default = "default_country")]
    pub default_country: String,
    /// Seconds after which a call still ringing is closed as missed.
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_secs: u64,
    /// Seconds between stream heartbeats (WebSocket pings).
    #[serde(default = "default_heartbeat")]
    pub heartbeat_secs: u64,
    /// The generic CTI endpoint.
    #[serde(default)]
    pub generic: Endpoint,
    /// Rules for inbound calls.
    #[serde(default)]
    pub inbound: Inbound,
    /// Rules for outbound calls.
    #[serde(default)]
    pub outbound: Outbound,
    /// Who is notified of which inbound calls.
    #[serde(default)]
    pub notify: Notify,
}

/// A PBX webhook endpoint: switched on or off, and the secret token in its path.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Whether the endpoint accepts events.
    #[serde(default)]
    pub enabled: bool,
    /// The token in the webhook path.
    #[serde(default)]
    pub token: String,
}

/// `[inbound]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbound {
    /// Callers rejected as busy.
    #[serde(default)]
    pub block: Vec<BlockRule>,
}

/// `[outbound]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outbound {
    /// The caller ID presented when no route matches (none when empty).
    #[serde(default)]
    pub default_caller_id: String,
    /// The routing table, tried in order.
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// `[notify]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// Queue-to-agents map; empty means every agent is notified of every call.
    #[serde(default)]
    pub map: Vec<NotifyRule>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8642))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_public_url() -> String {
    "http://127.0.0.1:8642".into()
}
fn default_country() -> String {
    "DE".into()
}
fn default_ring_timeout() -> u64 {
    120
}
fn default_heartbeat() -> u64 {
    15
}

/// The configuration after checks: what the running hub reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration as written.
    pub config: Config,
    /// `default_country`, resolved.
    pub country: DefaultCountry,
}

impl Config {
    /// Reads a file, applies the environment overrides and checks the result.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path, std::env::vars())
    }

    /// Parses TOML text, applies overrides from `env` and checks the result.
    pub fn from_toml(
        text: &str,
        path: &Path,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?;
        apply_env(&mut table, env)?;
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?;
        config.check()
    }

    fn check(mut self) -> Result<Settings, ConfigError> {
        let country =
            DefaultCountry::from_iso(&self.default_country).map_err(|e| ConfigError::Invalid {
                key: "default_country",
                message: e.to_string(),
            })?;
        if self.ring_timeout_secs == 0 {
            return Err(ConfigError::Invalid {
                key: "ring_timeout_secs",
                message: "must be at least 1".into(),
            });
        }
        if self.heartbeat_secs == 0 {
            return Err(ConfigError::Invalid {
                key: "heartbeat_secs",
                message: "must be at least 1".into(),
            });
        }
        if self.generic.enabled && self.generic.token.len() < 16 {
            return Err(ConfigError::Invalid {
                key: "generic.token",
                message: "must be at least 16 characters (ringside-hub init writes a random one)"
                    .into(),
            });
        }
        for rule in &mut self.inbound.block {
            rule.e164 = number::normalize(&rule.caller_id, &country).map(|n| n.as_str().to_owned());
        }
        Ok(Settings {
            config: self,
            country,
        })
    }
}

/// The keys an environment variable may override, with their TOML path.
const ENV_KEYS: &[(&str, &[&str])] = &[
    ("RINGSIDE_LISTEN", &["listen"]),
    ("RINGSIDE_DATA_DIR", &["data_dir"]),
    ("RINGSIDE_PUBLIC_URL", &["public_url"]),
    ("RINGSIDE_DEFAULT_COUNTRY", &["default_country"]),
    ("RINGSIDE_RING_TIMEOUT_SECS", &["ring_timeout_secs"]),
    ("RINGSIDE_HEARTBEAT_SECS", &["heartbeat_secs"]),
    ("RINGSIDE_GENERIC_ENABLED", &["generic", "enabled"]),
    ("RINGSIDE_GENERIC_TOKEN", &["generic", "token"]),
    (
        "RINGSIDE_OUTBOUND_DEFAULT_CALLER_ID",
        &["outbound", "default_caller_id"],
    ),
];

fn apply_env(
    table: &mut toml::Table,
    env: impl Iterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (name, value) in env {
        let Some((_, key_path)) = ENV_KEYS.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let typed = match key_path.last() {
            Some(&"ring_timeout_secs" | &"heartbeat_secs") => {
                toml::Value::Integer(value.parse().map_err(|_| ConfigError::Env {
                    name: name.clone(),
                    message: format!("{value:?} is not a whole number"),
                })?)
            }
            Some(&"enabled") => {
                toml::Value::Boolean(value.parse().map_err(|_| ConfigError::Env {
                    name: name.clone(),
                    message: format!("{value:?} is neither true nor false"),
                })?)
            }
            _ => toml::Value::String(value),
        };
        let (last, sections) = key_path.split_last().expect("key paths are not empty");
        let mut target = &mut *table;
        for section in sections {
            let entry = target
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            target = entry.as_table_mut().ok_or_else(|| ConfigError::Env {
                name: name.clone(),
                message: format!("[{section}] is not a section in the file"),
            })?;
        }
        target.insert(last.to_string(), typed);
    }
    Ok(())
}

/// The commented `ringside.toml` that `ringside-hub init` writes, with a fresh token.
pub fn template(generic_token: &str) -> String {
    format!(
        r#"# Ringside hub configuration. Every key can be overridden by an environment variable:
# RINGSIDE_ plus the key in upper case, sections joined with "_" (RINGSIDE_GENERIC_TOKEN).

# Address and port the hub listens on. Use 0.0.0.0 to accept the PBX from the network.
listen = "127.0.0.1:8642"
# Where the database (SQLite, WAL mode) lives.
data_dir = "data"
# The URL under which the PBX and the desktop apps reach this hub.
public_url = "http://127.0.0.1:8642"
# Country for numbers written in national form (030 1234567 in DE is +49301234567).
default_country = "DE"
# A call still ringing after this many seconds is closed as missed.
ring_timeout_secs = 120
# Seconds between heartbeats on the live stream.
heartbeat_secs = 15

# Zammad-compatible generic CTI webhook: POST {{public_url}}/api/v1/cti/{{token}}
[generic]
enabled = true
token = "{generic_token}"

[inbound]
# Callers rejected as busy, as the PBX sends their number.
# block = [{{ caller_id = "491715000000", note = "spam" }}]
block = []

[outbound]
# Caller ID presented on outbound calls when no route matches ("" for none).
default_caller_id = ""
# Routes tried in order; "*" in dest stands for one or more characters.
# routes = [{{ dest = "41*", caller_id = "41715880339000", note = "Switzerland" }}]
routes = []

[notify]
# Which agents are notified of calls to which number; empty: everyone.
# map = [{{ queue = "4930600000000", agents = ["anna"] }}]
map = []
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Config::from_toml(
            text,
            Path::new("ringside.toml"),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn template_loads_with_defaults() {
        let settings = load(&template("0123456789abcdef0123"), &[]).unwrap();
        let config = settings.config;
        assert_eq!(config.listen, default_listen());
        assert_eq!(config.ring_timeout_secs, 120);
        assert!(config.generic.enabled);
        assert_eq!(config.generic.token, "0123456789abcdef0123");
        assert_eq!(settings.country.iso(), "DE");
    }

    #[test]
    fn the_issue_example_loads() {
        let text = r#"
listen = "127.0.0.1:8642"
data_dir = "data"
public_url = "http://127.0.0.1:8642"
default_country = "DE"
ring_timeout_secs = 120
[generic]
enabled = true
token = "abcdefghijklmnopqrstuvwxyz"
[inbound]
block = [{ caller_id = "491715000000", note = "spam" }]
[outbound]
default_caller_id = "4930777000000"
routes = [{ dest = "41*", caller_id = "41715880339000", note = "CH" }]
[notify]
map = [{ queue = "4930600000000", agents = ["anna"] }]
"#;
        let config = load(text, &[]).unwrap().config;
        assert_eq!(
            config.inbound.block[0].e164.as_deref(),
            Some("+491715000000")
        );
        assert_eq!(config.outbound.routes[0].dest, "41*");
        assert_eq!(config.notify.map[0].agents, vec!["anna"]);
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load(
            &template("0123456789abcdef0123"),
            &[
                ("RINGSIDE_LISTEN", "127.0.0.1:0"),
                ("RINGSIDE_GENERIC_TOKEN", "fedcba9876543210fedcba"),
                ("RINGSIDE_RING_TIMEOUT_SECS", "30"),
                ("UNRELATED", "x"),
            ],
        )
        .unwrap()
        .config;
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.generic.token, "fedcba9876543210fedcba");
        assert_eq!(config.ring_timeout_secs, 30);
    }

    #[test]
    fn bad_values_are_named() {
        let err = load("default_country = \"XX\"", &[]).unwrap_err();
        assert!(err.to_string().starts_with("default_country:"), "{err}");
        let err = load("listen = 5", &[]).unwrap_err();
        assert!(err.to_string().starts_with("ringside.toml:"), "{err}");
        let err = load("lisen = \"x\"", &[]).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        let err = load("", &[("RINGSIDE_RING_TIMEOUT_SECS", "soon")]).unwrap_err();
        assert!(
            err.to_string().contains("RINGSIDE_RING_TIMEOUT_SECS"),
            "{err}"
        );
        let err = load("[generic]\nenabled = true\ntoken = \"short\"", &[]).unwrap_err();
        assert!(err.to_string().starts_with("generic.token"), "{err}");
    }
}
