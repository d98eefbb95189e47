//! The hub's configuration: one TOML file (`ringside.toml`), every key but the three lists
//! (`inbound.block`, `outbound.routes`, `notify.map`) overridable by an environment variable
//! (`RINGSIDE_` + the key in upper case, sections joined with `_`, e.g.
//! `RINGSIDE_GENERIC_TOKEN`); unknown keys are errors, inside the lists' entries too.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ringside_core::number::{self, DefaultCountry};
use ringside_core::routing::{BlockRule, NotifyRule, Route};
use ringside_providers::zammad::call_log::LogCalls;
use serde::Deserialize;

use crate::store::Location;
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
    /// Directory of the database (with `store = "sqlite"`) and of the hub's other files.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Which engine holds the journal, the event log and the directory.
    #[serde(default)]
    pub store: StoreEngine,
    /// The PostgreSQL database of `store = "postgres"`, shared by every node of the hub.
    #[serde(default)]
    pub database_url: DatabaseUrl,
    /// The authority (PEM certificates) that signed the PostgreSQL server's certificate,
    /// when it is not a public one; setting it makes the hub require TLS.
    #[serde(default)]
    pub database_ca_file: Option<PathBuf>,
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
    /// How the hub's log is written: lines of text, or one JSON object per line.
    #[serde(default)]
    pub log_format: LogFormat,
    /// The generic CTI endpoint.
    #[serde(default)]
    pub generic: Endpoint,
    /// Placetel's notify API.
    #[serde(default)]
    pub placetel: Placetel,
    /// sipgate.io's push API.
    #[serde(default)]
    pub sipgate: Sipgate,
    /// Twilio Programmable Voice.
    #[serde(default)]
    pub twilio: Twilio,
    /// Rules for inbound calls.
    #[serde(default)]
    pub inbound: Inbound,
    /// Rules for outbound calls.
    #[serde(default)]
    pub outbound: Outbound,
    /// Who is notified of which inbound calls.
    #[serde(default)]
    pub notify: Notify,
    /// What clients may hold of the hub: time, connections, queued writes.
    #[serde(default)]
    pub limits: Limits,
    /// The Zammad help desk: its customers in the directory, its caller log kept current.
    #[serde(default)]
    pub zammad: ZammadSettings,
    /// Who may read `GET /metrics`.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// The certificate and key the hub serves HTTPS with; without it, plain HTTP (behind a
    /// proxy that terminates TLS, or on a trusted network).
    #[serde(default)]
    pub tls: Option<TlsSettings>,
}

/// `[tls]`: where the certificate the hub serves HTTPS with comes from (relative paths, as
/// `data_dir`'s, from the directory the hub starts in).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "TlsTable")]
pub enum TlsSettings {
    /// `cert_file` and `key_file`: files another program renews (certbot).
    Files(TlsFiles),
    /// `acme`: a certificate the hub obtains and renews itself.
    Acme(AcmeSettings),
}

/// `[tls] cert_file`, `key_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain in PEM, the hub's own certificate first (certbot's
    /// `fullchain.pem`).
    pub cert_file: PathBuf,
    /// Its private key in PEM (certbot's `privkey.pem`).
    pub key_file: PathBuf,
}

/// `[tls] acme = { ... }`: the names to obtain a certificate for, and from which ACME
/// authority (Let's Encrypt unless told otherwise). The authority checks each name with
/// TLS-ALPN-01: it connects to the name on port 443, which must reach this hub.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeSettings {
    /// The names the certificate is for (`hub.example.com`); no wildcards, no addresses.
    pub domains: Vec<String>,
    /// Where the authority sends its notices about the account; optional.
    #[serde(default)]
    pub email: Option<String>,
    /// The authority's ACME directory URL.
    #[serde(default = "default_acme_directory")]
    pub directory: String,
    /// The authority (PEM) that signed the ACME server's own HTTPS certificate, instead of
    /// the public ones: for a private or test ACME server.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

fn default_acme_directory() -> String {
    LETS_ENCRYPT.to_owned()
}

/// The most names one certificate holds (Let's Encrypt's limit).
const MAX_ACME_DOMAINS: usize = 100;

impl AcmeSettings {
    /// Refuses what no authority would issue, or the hub could not prove, before the hub
    /// asks.
    fn check(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| Err(ConfigError::Invalid { key, message });
        if self.domains.is_empty() || self.domains.len() > MAX_ACME_DOMAINS {
            return invalid(
                "tls.acme.domains",
                format!(
                    "lists {} names; give 1 to {MAX_ACME_DOMAINS}, e.g. [\"hub.example.com\"]",
                    self.domains.len()
                ),
            );
        }
        for domain in &self.domains {
            if let Err(why) = check_domain(domain) {
                return invalid("tls.acme.domains", format!("{domain:?}: {why}"));
            }
        }
        if let Some(email) = &self.email {
            let parts = email.split_once('@');
            let plain = !email
                .chars()
                .any(|c| c.is_whitespace() || c == ',' || c == ':');
            if !plain || !parts.is_some_and(|(user, host)| !user.is_empty() && host.contains('.')) {
                return invalid(
                    "tls.acme.email",
                    format!("{email:?} is not an email address"),
                );
            }
        }
        match url::Url::parse(&self.directory) {
            Ok(url) if url.scheme() == "https" && url.has_host() => Ok(()),
            _ => invalid(
                "tls.acme.directory",
                format!(
                    "{:?} is not an https URL; Let's Encrypt's is {LETS_ENCRYPT}",
                    self.directory
                ),
            ),
        }
    }
}

/// Why `domain` cannot be in an ACME certificate the hub obtains.
fn check_domain(domain: &str) -> Result<(), &'static str> {
    if domain.starts_with("*.") {
        return Err(
            "a wildcard needs the DNS-01 check, which the hub does not answer; \
                    list each name",
        );
    }
    if domain.parse::<std::net::IpAddr>().is_ok() {
        return Err("an address, not a name; give the name that points to this hub");
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if domain.len() > 253 || !domain.contains('.') || !domain.split('.').all(label_ok) {
        return Err(
            "not a domain name in lower case (letters, digits, hyphens; \
                    punycode for others), e.g. hub.example.com",
        );
    }
    Ok(())
}

/// `[tls]` as written, before it is told apart.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsTable {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    acme: Option<AcmeSettings>,
}

impl TryFrom<TlsTable> for TlsSettings {
    type Error = &'static str;

    fn try_from(table: TlsTable) -> Result<Self, Self::Error> {
        match table {
            TlsTable {
                cert_file: Some(cert_file),
                key_file: Some(key_file),
                acme: None,
            } => Ok(TlsSettings::Files(TlsFiles {
                cert_file,
                key_file,
            })),
            TlsTable {
                cert_file: None,
                key_file: None,
                acme: Some(acme),
            } => Ok(TlsSettings::Acme(acme)),
            TlsTable { acme: Some(_), .. } => Err(
                "[tls] has acme and certificate files: give either cert_file and key_file \
                 (a certificate another program renews) or acme (the hub obtains one)",
            ),
            TlsTable {
                cert_file: None,
                key_file: None,
                ..
            } => Err("[tls] is empty: give cert_file and key_file, or acme = { domains = [...] }"),
            TlsTable {
                cert_file: None, ..
            } => Err("[tls] has key_file without cert_file: give both"),
            TlsTable { key_file: None, .. } => {
                Err("[tls] has cert_file without key_file: give both")
            }
        }
    }
}

/// `[metrics]`: the bearer token Prometheus scrapes `GET /metrics` with, beside admin
/// tokens, which are always accepted. Its `Debug` hides the token.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// The scrape token (16 characters at least); `""`: admin tokens only.
    #[serde(default)]
    pub token: String,
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("token", &redacted(&self.token))
            .finish()
    }
}

/// A secret as a `Debug` shows it: whether it is set, never what it is.
fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() {
        ""
    } else {
        "<redacted>"
    }
}

/// `[zammad]`: the help desk whose customers and organizations the hub copies into its
/// directory (with an API token), and whose caller log it keeps current by forwarding every
/// call event it accepts to Zammad's generic CTI endpoint (the relay, with the CTI token).
/// Off while `url` is empty. Its `Debug` hides both tokens, so that logging the
/// configuration never leaks them.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZammadSettings {
    /// Zammad's base URL (`https://zammad.example.com`); http only on loopback; empty: off.
    #[serde(default)]
    pub url: String,
    /// An API access token (Profile → Token Access) with `ticket.agent` or `admin.user`;
    /// empty: no sync.
    #[serde(default)]
    pub token: String,
    /// The group call tickets go to.
    #[serde(default)]
    pub ticket_group: String,
    /// Seconds between full paging passes over users and organizations when Zammad has no
    /// Elasticsearch (its user list takes no filter); with it, how often deletions and
    /// merges are looked for.
    #[serde(default = "default_full_sync")]
    pub full_sync_secs: u64,
    /// Seconds between incremental passes (`users/search` by `updated_at`), with
    /// Elasticsearch.
    #[serde(default = "default_incremental_sync")]
    pub incremental_sync_secs: u64,
    /// Whether numbers in the first customer-written article of recent tickets become
    /// `maybe` numbers, as in Zammad's own caller ID.
    #[serde(default)]
    pub maybe_numbers_from_tickets: bool,
    /// How many days back a ticket counts as recent for those `maybe` numbers.
    #[serde(default = "default_maybe_ticket_days")]
    pub maybe_ticket_days: u64,
    /// The token of Zammad's generic CTI endpoint (Integrations → CTI (generic)); a secret,
    /// never logged.
    #[serde(default)]
    pub cti_token: String,
    /// Whether call events are forwarded to Zammad's caller log.
    #[serde(default)]
    pub relay: bool,
    /// The most relay items kept waiting or failed; beyond, new ones are dropped and logged.
    #[serde(default = "default_relay_outbox_max")]
    pub relay_outbox_max: u64,
    /// How long fetching one customer's tickets at ring time may take, retries included,
    /// in milliseconds; beyond, Zammad counts as slow and the popup keeps the tickets the
    /// hub kept from earlier calls. The webhook never waits for it.
    #[serde(default = "default_ticket_timeout_ms")]
    pub ticket_timeout_ms: u64,
    /// Which ended calls of known Zammad customers become tickets: `off`, `missed` or
    /// `all` (missed and answered).
    #[serde(default)]
    pub log_calls: LogCalls,
    /// Hours within which another call of the customer from the same number goes on their
    /// open call ticket as an article instead of a new ticket; 0: always a new ticket.
    #[serde(default = "default_ticket_window_hours")]
    pub ticket_window_hours: u64,
}

impl ZammadSettings {
    /// Whether the hub syncs callers from Zammad: a URL and an API token.
    pub fn enabled(&self) -> bool {
        !self.url.trim().is_empty() && !self.token.trim().is_empty()
    }

    /// Whether calls can be logged as tickets (automatically or at an agent's click): a
    /// URL, an API token and a ticket group.
    pub fn tickets_possible(&self) -> bool {
        self.enabled() && !self.ticket_group.trim().is_empty()
    }

    /// The URL call events are posted to, with the token in its path (never log it).
    pub fn cti_endpoint(&self) -> String {
        format!(
            "{}/api/v1/cti/{}",
            self.url.trim_end_matches('/'),
            self.cti_token
        )
    }

    /// Checks the section: the URL https (http on loopback); with a URL, an API token or
    /// the relay (else it would do nothing); the relay needs a URL and the CTI token.
    fn check(&self) -> Result<(), ConfigError> {
        if !(1..=10_000_000).contains(&self.relay_outbox_max) {
            return Err(ConfigError::Invalid {
                key: "zammad.relay_outbox_max",
                message: format!(
                    "must be between 1 and 10000000, not {}",
                    self.relay_outbox_max
                ),
            });
        }
        let has_url = !self.url.trim().is_empty();
        if has_url {
            check_zammad_url(&self.url).map_err(|message| ConfigError::Invalid {
                key: "zammad.url",
                message,
            })?;
            if self.token.trim().is_empty() && !self.relay {
                return Err(ConfigError::Invalid {
                    key: "zammad.token",
                    message: "is needed with zammad.url: an API access token (Profile → Token \
                              Access in Zammad) with ticket.agent or admin.user"
                        .into(),
                });
            }
        }
        if self.ticket_window_hours > 720 {
            return Err(ConfigError::Invalid {
                key: "zammad.ticket_window_hours",
                message: format!(
                    "must be between 0 and 720 (30 days), not {}",
                    self.ticket_window_hours
                ),
            });
        }
        if self.log_calls != LogCalls::Off {
            for (key, value, what) in [
                ("zammad.url", &self.url, "Zammad's address"),
                (
                    "zammad.token",
                    &self.token,
                    "an API access token with ticket.agent",
                ),
                (
                    "zammad.ticket_group",
                    &self.ticket_group,
                    "the group call tickets go to",
                ),
            ] {
                if value.trim().is_empty() {
                    return Err(ConfigError::Invalid {
                        key,
                        message: format!("is needed by zammad.log_calls: {what}"),
                    });
                }
            }
        }
        if self.relay {
            if !has_url {
                return Err(ConfigError::Invalid {
                    key: "zammad.url",
                    message: "is needed by zammad.relay".into(),
                });
            }
            if self.cti_token.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    key: "zammad.cti_token",
                    message: "is needed by zammad.relay: copy it from Zammad's admin page \
                              Integrations → CTI (generic)"
                        .into(),
                });
            }
        }
        Ok(())
    }
}

impl Default for ZammadSettings {
    fn default() -> Self {
        ZammadSettings {
            url: String::new(),
            token: String::new(),
            ticket_group: String::new(),
            full_sync_secs: default_full_sync(),
            incremental_sync_secs: default_incremental_sync(),
            maybe_numbers_from_tickets: false,
            maybe_ticket_days: default_maybe_ticket_days(),
            cti_token: String::new(),
            relay: false,
            relay_outbox_max: default_relay_outbox_max(),
            ticket_timeout_ms: default_ticket_timeout_ms(),
            log_calls: LogCalls::Off,
            ticket_window_hours: default_ticket_window_hours(),
        }
    }
}

impl std::fmt::Debug for ZammadSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZammadSettings")
            .field("url", &self.url)
            .field("token", &redacted(&self.token))
            .field("ticket_group", &self.ticket_group)
            .field("full_sync_secs", &self.full_sync_secs)
            .field("incremental_sync_secs", &self.incremental_sync_secs)
            .field(
                "maybe_numbers_from_tickets",
                &self.maybe_numbers_from_tickets,
            )
            .field("maybe_ticket_days", &self.maybe_ticket_days)
            .field("cti_token", &redacted(&self.cti_token))
            .field("relay", &self.relay)
            .field("relay_outbox_max", &self.relay_outbox_max)
            .field("ticket_timeout_ms", &self.ticket_timeout_ms)
            .field("log_calls", &self.log_calls)
            .field("ticket_window_hours", &self.ticket_window_hours)
            .finish()
    }
}

fn default_full_sync() -> u64 {
    15 * 60
}
fn default_incremental_sync() -> u64 {
    60
}
fn default_maybe_ticket_days() -> u64 {
    30
}
fn default_relay_outbox_max() -> u64 {
    100_000
}
fn default_ticket_timeout_ms() -> u64 {
    2_000
}
fn default_ticket_window_hours() -> u64 {
    24
}

/// Whether the URL's host is this computer (`localhost` or a loopback address); `None`
/// without a host.
fn is_loopback(url: &url::Url) -> Option<bool> {
    match url.host()? {
        url::Host::Domain(name) => Some(name.eq_ignore_ascii_case("localhost")),
        url::Host::Ipv4(ip) => Some(ip.is_loopback()),
        url::Host::Ipv6(ip) => Some(ip.is_loopback()),
    }
}

/// Whether `url` may carry the Zammad tokens (the API token in a header, the CTI token in
/// the path): https anywhere, http only to this computer.
fn check_zammad_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let loopback = match is_loopback(&parsed) {
        Some(loopback) => loopback,
        None => return Err(format!("{url:?} has no host")),
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "{url:?} is plain http to another computer, which would send the API token \
             in the clear: use https (http is accepted on loopback only)"
        )),
        other => Err(format!("{url:?}: scheme {other:?} is not https")),
    }
}

/// `[limits]`: how long a client may take and how much of the hub it may hold, so that a slow
/// or hostile client cannot exhaust descriptors or block the PBX's webhooks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Seconds a client has to send a request's headers; also how long a kept-alive
    /// connection may wait idle for its next request.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body once its headers are in.
    #[serde(default = "default_body_timeout")]
    pub body_timeout_secs: u64,
    /// Seconds a connection may go without a byte moving either way while no request of it
    /// is being handled (a client that stops reading its answer). Live streams are exempt:
    /// their heartbeat watches them.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Open connections at most (live streams included); one more is answered 503 and closed.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Live stream connections one agent may have open at once; one more is answered 429.
    #[serde(default = "default_streams_per_agent")]
    pub streams_per_agent: usize,
    /// Changes waiting for the database writer at most; beyond, requests are answered 503.
    #[serde(default = "default_write_queue")]
    pub write_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout_secs: default_header_timeout(),
            body_timeout_secs: default_body_timeout(),
            idle_timeout_secs: default_idle_timeout(),
            max_connections: default_max_connections(),
            streams_per_agent: default_streams_per_agent(),
            write_queue: default_write_queue(),
        }
    }
}

fn default_header_timeout() -> u64 {
    10
}
fn default_body_timeout() -> u64 {
    30
}
fn default_idle_timeout() -> u64 {
    60
}
fn default_max_connections() -> usize {
    512
}
fn default_streams_per_agent() -> usize {
    8
}
fn default_write_queue() -> usize {
    crate::recorder::DEFAULT_QUEUE
}

/// A PBX webhook endpoint: switched on or off, and the secret token in its path. Its
/// `Debug`, like those of the other providers' sections, hides the secrets.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Whether the endpoint accepts events.
    #[serde(default)]
    pub enabled: bool,
    /// The token in the webhook path.
    #[serde(default)]
    pub token: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("enabled", &self.enabled)
            .field("token", &redacted(&self.token))
            .finish()
    }
}

/// `[placetel]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placetel {
    /// Whether `POST /api/v1/placetel/:token` accepts events.
    #[serde(default)]
    pub enabled: bool,
    /// The token in the webhook path.
    #[serde(default)]
    pub token: String,
    /// The shared secret of Placetel's `X-PLACETEL-SIGNATURE`; empty: not checked.
    #[serde(default)]
    pub signing_secret: String,
    /// Placetel web API token, for SIP user names and click-to-dial; empty: neither.
    #[serde(default)]
    pub api_token: String,
    /// Placetel's REST API.
    #[serde(default = "default_placetel_api")]
    pub api_url: String,
}

impl std::fmt::Debug for Placetel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Placetel")
            .field("enabled", &self.enabled)
            .field("token", &redacted(&self.token))
            .field("signing_secret", &redacted(&self.signing_secret))
            .field("api_token", &redacted(&self.api_token))
            .field("api_url", &self.api_url)
            .finish()
    }
}

impl Default for Placetel {
    fn default() -> Self {
        Placetel {
            enabled: false,
            token: String::new(),
            signing_secret: String::new(),
            api_token: String::new(),
            api_url: default_placetel_api(),
        }
    }
}

/// `[sipgate]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sipgate {
    /// Whether `POST /api/v1/sipgate/:token/{in,out}` accept events.
    #[serde(default)]
    pub enabled: bool,
    /// The token in the webhook path.
    #[serde(default)]
    pub token: String,
    /// Whether `X-Sipgate-Signature` must be valid.
    #[serde(default = "yes")]
    pub verify_signature: bool,
    /// sipgate's public key (PEM); empty: the key sipgate publishes.
    #[serde(default)]
    pub public_key: String,
    /// Personal access token id (`token-…`), for click-to-dial; empty: no dialing.
    #[serde(default)]
    pub api_token_id: String,
    /// Personal access token.
    #[serde(default)]
    pub api_token: String,
    /// sipgate's REST API.
    #[serde(default = "default_sipgate_api")]
    pub api_url: String,
}

impl Default for Sipgate {
    fn default() -> Self {
        Sipgate {
            enabled: false,
            token: String::new(),
            verify_signature: true,
            public_key: String::new(),
            api_token_id: String::new(),
            api_token: String::new(),
            api_url: default_sipgate_api(),
        }
    }
}

/// `store`: the engine that holds the hub's data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreEngine {
    /// A SQLite file in `data_dir`: one hub process, nothing else to run.
    #[default]
    Sqlite,
    /// A PostgreSQL server at `database_url`: several hub nodes share it.
    Postgres,
}

/// `database_url`: a PostgreSQL connection string (`postgresql://user:password@host/db` or
/// `host=… dbname=…`). Its `Debug` hides it: it may hold a password.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "<redacted>"
        })
    }
}

/// `log_format`: how the hub writes its log (to standard error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people to read.
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// How an incoming Twilio call reaches the agents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TwilioFlow {
    /// Ring every available agent at once; the first to answer gets the call.
    #[default]
    RingAll,
    /// The caller waits in a queue; available agents are rung one after another.
    SimpleQueue,
    /// A Twilio Studio flow routes the call; the hub lists available agents and follows
    /// the call's events.
    Studio,
}

impl std::fmt::Debug for Sipgate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sipgate")
            .field("enabled", &self.enabled)
            .field("token", &redacted(&self.token))
            .field("verify_signature", &self.verify_signature)
            .field("public_key", &self.public_key)
            .field("api_token_id", &self.api_token_id)
            .field("api_token", &redacted(&self.api_token))
            .finish()
    }
}

/// `[twilio]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Twilio {
    /// Whether `/api/v1/twilio/:token/…` accept requests.
    #[serde(default)]
    pub enabled: bool,
    /// The token in the webhook paths.
    #[serde(default)]
    pub token: String,
    /// The account SID (`AC…`), for click-to-dial.
    #[serde(default)]
    pub account_sid: String,
    /// The account's auth token: checks `X-Twilio-Signature` and authenticates API calls.
    #[serde(default)]
    pub auth_token: String,
    /// The Twilio number presented to agents and customers.
    #[serde(default)]
    pub number: String,
    /// How incoming calls reach agents.
    #[serde(default)]
    pub flow: TwilioFlow,
    /// Seconds an agent's phone rings.
    #[serde(default = "default_twilio_ring")]
    pub ring_secs: u32,
    /// Said to the caller when no agent is available.
    #[serde(default = "default_no_agent_message")]
    pub no_agent_message: String,
    /// Language of that message.
    #[serde(default = "default_language")]
    pub language: String,
    /// Twilio's REST API.
    #[serde(default = "default_twilio_api")]
    pub api_url: String,
}

impl std::fmt::Debug for Twilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twilio")
            .field("enabled", &self.enabled)
            .field("token", &redacted(&self.token))
            .field("account_sid", &self.account_sid)
            .field("auth_token", &redacted(&self.auth_token))
            .field("number", &self.number)
            .field("flow", &self.flow)
            .field("ring_secs", &self.ring_secs)
            .field("no_agent_message", &self.no_agent_message)
            .field("language", &self.language)
            .field("api_url", &self.api_url)
            .finish()
    }
}

impl Default for Twilio {
    fn default() -> Self {
        Twilio {
            enabled: false,
            token: String::new(),
            account_sid: String::new(),
            auth_token: String::new(),
            number: String::new(),
            flow: TwilioFlow::default(),
            ring_secs: default_twilio_ring(),
            no_agent_message: default_no_agent_message(),
            language: default_language(),
            api_url: default_twilio_api(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_placetel_api() -> String {
    "https://api.placetel.de/v2".into()
}
fn default_sipgate_api() -> String {
    "https://api.sipgate.com/v2".into()
}
fn default_twilio_api() -> String {
    "https://api.twilio.com".into()
}
fn default_twilio_ring() -> u32 {
    20
}
fn default_no_agent_message() -> String {
    "No agent is available at the moment. Please try again later. Goodbye.".into()
}
fn default_language() -> String {
    "en-US".into()
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
    /// Which provider dials for click-to-dial.
    #[serde(default)]
    pub dial_via: DialVia,
}

/// Which provider dials when an agent clicks a number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DialVia {
    /// The first of Placetel, sipgate and Twilio with API credentials at which the agent has
    /// an id.
    #[default]
    Auto,
    /// Placetel's API.
    Placetel,
    /// sipgate's API.
    Sipgate,
    /// Twilio's API.
    Twilio,
    /// None: the agent's own softphone, through a `tel:` link.
    Tel,
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

/// Seconds in an hour and in a day: the longest times the configuration accepts.
const HOUR: u64 = 60 * 60;
const DAY: u64 = 24 * HOUR;

/// The configuration after checks: what the running hub reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration as written.
    pub config: Config,
    /// `default_country`, resolved.
    pub country: DefaultCountry,
}

impl Config {
    /// Where the hub's data is, as `store`, `data_dir` and `database_url` say.
    pub fn store_location(&self) -> Location<'_> {
        match self.store {
            StoreEngine::Sqlite => Location::Sqlite(&self.data_dir),
            StoreEngine::Postgres => Location::Postgres {
                url: self.database_url.0.trim(),
                ca_file: self.database_ca_file.as_deref(),
            },
        }
    }

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

    /// `store` and `database_url` agree, and the URL is a connection string (its error
    /// never repeats the string, which may hold a password).
    fn check_store(&self) -> Result<(), ConfigError> {
        if self.database_ca_file.is_some() && self.store != StoreEngine::Postgres {
            return Err(ConfigError::Invalid {
                key: "database_ca_file",
                message: "is used with store = \"postgres\" only; remove it, or set store"
                    .to_owned(),
            });
        }
        let url = self.database_url.0.trim();
        let message = match self.store {
            StoreEngine::Sqlite if url.is_empty() => return Ok(()),
            StoreEngine::Sqlite => {
                "is used with store = \"postgres\" only; remove it, or set store".to_owned()
            }
            StoreEngine::Postgres if url.is_empty() => "store = \"postgres\" needs the \
                 PostgreSQL connection string, e.g. \
                 postgresql://ringside:password@db.example.com/ringside"
                .to_owned(),
            StoreEngine::Postgres => match url.parse::<postgres::Config>() {
                Ok(_) => return Ok(()),
                Err(_) if url.contains("sslmode=verify") => "sslmode is disable, prefer or \
                     require here: with require the hub verifies the server's certificate \
                     and name (as verify-full does); name a private authority with \
                     database_ca_file"
                    .to_owned(),
                Err(e) => format!("not a PostgreSQL connection string: {e}"),
            },
        };
        Err(ConfigError::Invalid {
            key: "database_url",
            message,
        })
    }

    fn check(mut self) -> Result<Settings, ConfigError> {
        let country =
            DefaultCountry::from_iso(&self.default_country).map_err(|e| ConfigError::Invalid {
                key: "default_country",
                message: e.to_string(),
            })?;
        self.check_store()?;
        if let Some(TlsSettings::Acme(acme)) = &self.tls {
            acme.check()?;
        }
        for (key, value, min, max) in [
            ("ring_timeout_secs", self.ring_timeout_secs, 1, DAY),
            ("heartbeat_secs", self.heartbeat_secs, 1, HOUR),
            ("twilio.ring_secs", u64::from(self.twilio.ring_secs), 1, 600),
            (
                "limits.header_timeout_secs",
                self.limits.header_timeout_secs,
                1,
                HOUR,
            ),
            (
                "limits.body_timeout_secs",
                self.limits.body_timeout_secs,
                1,
                HOUR,
            ),
            (
                "limits.idle_timeout_secs",
                self.limits.idle_timeout_secs,
                1,
                DAY,
            ),
            (
                "limits.max_connections",
                self.limits.max_connections as u64,
                1,
                1_000_000,
            ),
            (
                "limits.streams_per_agent",
                self.limits.streams_per_agent as u64,
                1,
                1_000_000,
            ),
            (
                "limits.write_queue",
                self.limits.write_queue as u64,
                1,
                1_000_000,
            ),
            (
                "zammad.full_sync_secs",
                self.zammad.full_sync_secs,
                60,
                7 * DAY,
            ),
            (
                "zammad.incremental_sync_secs",
                self.zammad.incremental_sync_secs,
                10,
                HOUR,
            ),
            (
                "zammad.maybe_ticket_days",
                self.zammad.maybe_ticket_days,
                1,
                3650,
            ),
            (
                "zammad.ticket_timeout_ms",
                self.zammad.ticket_timeout_ms,
                100,
                30_000,
            ),
        ] {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::Invalid {
                    key,
                    message: format!("must be between {min} and {max}, not {value}"),
                });
            }
        }
        let endpoints = [
            ("generic.token", self.generic.enabled, &self.generic.token),
            (
                "placetel.token",
                self.placetel.enabled,
                &self.placetel.token,
            ),
            ("sipgate.token", self.sipgate.enabled, &self.sipgate.token),
            ("twilio.token", self.twilio.enabled, &self.twilio.token),
            (
                "metrics.token",
                !self.metrics.token.is_empty(),
                &self.metrics.token,
            ),
        ];
        for (key, enabled, token) in endpoints {
            if enabled && token.len() < 16 {
                return Err(ConfigError::Invalid {
                    key,
                    message:
                        "must be at least 16 characters (ringside-hub init writes a random one)"
                            .into(),
                });
            }
        }
        if self.twilio.enabled && self.twilio.flow == TwilioFlow::SimpleQueue {
            for (key, value) in [
                ("twilio.account_sid", &self.twilio.account_sid),
                ("twilio.number", &self.twilio.number),
            ] {
                if value.trim().is_empty() {
                    return Err(ConfigError::Invalid {
                        key,
                        message: "is needed by the simple-queue flow, which calls agents through \
                                  Twilio's API"
                            .into(),
                    });
                }
            }
        }
        if self.twilio.enabled && self.twilio.auth_token.is_empty() {
            return Err(ConfigError::Invalid {
                key: "twilio.auth_token",
                message: "is needed to check the signature of Twilio's requests".into(),
            });
        }
        self.zammad.check()?;
        for rule in &mut self.inbound.block {
            rule.e164 = number::normalize(&rule.caller_id, &country).map(|n| n.as_str().to_owned());
        }
        Ok(Settings {
            config: self,
            country,
        })
    }
}

impl Settings {
    /// What in the configuration lets anyone who learns a webhook's token post events the
    /// hub cannot tell from the phone system's: the hub logs each as a warning at start.
    pub fn warnings(&self) -> Vec<String> {
        let config = &self.config;
        let mut warnings = Vec::new();
        if config.placetel.enabled && config.placetel.signing_secret.is_empty() {
            warnings.push(
                "placetel.signing_secret is empty: X-PLACETEL-SIGNATURE is not checked, so \
                 anyone who knows the webhook URL can post Placetel events; set the shared \
                 secret here and in Placetel's External API settings"
                    .to_owned(),
            );
        }
        if config.sipgate.enabled && !config.sipgate.verify_signature {
            warnings.push(
                "sipgate.verify_signature is false: X-Sipgate-Signature is not checked, so \
                 anyone who knows the webhook URL can post sipgate events"
                    .to_owned(),
            );
        }
        warnings.extend(self.public_url_warning());
        if let Some(TlsSettings::Acme(acme)) = &config.tls {
            warnings.extend(acme_warnings(acme, config));
        }
        warnings
    }

    /// What keeps the cloud providers switched on from reaching `public_url`: they post
    /// webhooks over the internet, to https addresses only.
    fn public_url_warning(&self) -> Option<String> {
        let config = &self.config;
        let cloud: Vec<&str> = [
            ("Placetel", config.placetel.enabled),
            ("sipgate", config.sipgate.enabled),
            ("Twilio", config.twilio.enabled),
        ]
        .into_iter()
        .filter_map(|(name, enabled)| enabled.then_some(name))
        .collect();
        let providers = match cloud.as_slice() {
            [] => return None,
            [one] => (*one).to_owned(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        };
        let url = &config.public_url;
        let parsed = url::Url::parse(url).ok().filter(|parsed| parsed.has_host());
        let Some(parsed) = parsed else {
            return Some(format!(
                "public_url {url:?} is not a URL with a host: the webhook URLs for \
                 {providers} cannot be made from it; set it to the https address under which \
                 the internet reaches this hub"
            ));
        };
        if is_loopback(&parsed) == Some(true) {
            return Some(format!(
                "public_url {url} is this computer: {providers} post(s) webhooks over the \
                 internet and cannot reach it; set it to the https address under which the \
                 internet reaches this hub"
            ));
        }
        if parsed.scheme() != "https" {
            return Some(format!(
                "public_url {url} is not https: {providers} post(s) webhooks to https \
                 addresses only and will refuse its webhook URLs; serve the hub over TLS (or \
                 behind a proxy that does) and set public_url to that https address"
            ));
        }
        None
    }
}

/// What may keep the ACME authority's check of `acme`'s names from reaching this hub.
fn acme_warnings(acme: &AcmeSettings, config: &Config) -> Vec<String> {
    let domains = acme.domains.join(", ");
    let mut warnings = Vec::new();
    let port = config.listen.port();
    if port != 443 {
        warnings.push(format!(
            "tls.acme: the ACME authority checks {domains} on port 443, and this hub listens \
             on {port}: forward port 443 to it, or listen on 443"
        ));
    }
    if config.store == StoreEngine::Postgres {
        warnings.push(format!(
            "tls.acme with store = \"postgres\": each node obtains its own certificate for \
             {domains}, and behind a load balancer the authority's check may reach another \
             node and fail; terminate TLS at the load balancer instead"
        ));
    }
    warnings
}

/// The keys an environment variable may override, with their TOML path.
const ENV_KEYS: &[(&str, &[&str])] = &[
    ("RINGSIDE_LISTEN", &["listen"]),
    ("RINGSIDE_DATA_DIR", &["data_dir"]),
    ("RINGSIDE_STORE", &["store"]),
    ("RINGSIDE_DATABASE_URL", &["database_url"]),
    ("RINGSIDE_DATABASE_CA_FILE", &["database_ca_file"]),
    ("RINGSIDE_PUBLIC_URL", &["public_url"]),
    ("RINGSIDE_DEFAULT_COUNTRY", &["default_country"]),
    ("RINGSIDE_RING_TIMEOUT_SECS", &["ring_timeout_secs"]),
    ("RINGSIDE_HEARTBEAT_SECS", &["heartbeat_secs"]),
    ("RINGSIDE_LOG_FORMAT", &["log_format"]),
    ("RINGSIDE_GENERIC_ENABLED", &["generic", "enabled"]),
    ("RINGSIDE_GENERIC_TOKEN", &["generic", "token"]),
    ("RINGSIDE_PLACETEL_ENABLED", &["placetel", "enabled"]),
    ("RINGSIDE_PLACETEL_TOKEN", &["placetel", "token"]),
    (
        "RINGSIDE_PLACETEL_SIGNING_SECRET",
        &["placetel", "signing_secret"],
    ),
    ("RINGSIDE_PLACETEL_API_TOKEN", &["placetel", "api_token"]),
    ("RINGSIDE_SIPGATE_ENABLED", &["sipgate", "enabled"]),
    ("RINGSIDE_SIPGATE_TOKEN", &["sipgate", "token"]),
    (
        "RINGSIDE_SIPGATE_VERIFY_SIGNATURE",
        &["sipgate", "verify_signature"],
    ),
    ("RINGSIDE_SIPGATE_PUBLIC_KEY", &["sipgate", "public_key"]),
    (
        "RINGSIDE_SIPGATE_API_TOKEN_ID",
        &["sipgate", "api_token_id"],
    ),
    ("RINGSIDE_SIPGATE_API_TOKEN", &["sipgate", "api_token"]),
    ("RINGSIDE_TWILIO_ENABLED", &["twilio", "enabled"]),
    ("RINGSIDE_TWILIO_TOKEN", &["twilio", "token"]),
    ("RINGSIDE_TWILIO_ACCOUNT_SID", &["twilio", "account_sid"]),
    ("RINGSIDE_TWILIO_AUTH_TOKEN", &["twilio", "auth_token"]),
    ("RINGSIDE_TWILIO_NUMBER", &["twilio", "number"]),
    ("RINGSIDE_TWILIO_FLOW", &["twilio", "flow"]),
    ("RINGSIDE_TWILIO_RING_SECS", &["twilio", "ring_secs"]),
    (
        "RINGSIDE_TWILIO_NO_AGENT_MESSAGE",
        &["twilio", "no_agent_message"],
    ),
    ("RINGSIDE_TWILIO_LANGUAGE", &["twilio", "language"]),
    ("RINGSIDE_PLACETEL_API_URL", &["placetel", "api_url"]),
    ("RINGSIDE_SIPGATE_API_URL", &["sipgate", "api_url"]),
    ("RINGSIDE_TWILIO_API_URL", &["twilio", "api_url"]),
    ("RINGSIDE_OUTBOUND_DIAL_VIA", &["outbound", "dial_via"]),
    (
        "RINGSIDE_OUTBOUND_DEFAULT_CALLER_ID",
        &["outbound", "default_caller_id"],
    ),
    (
        "RINGSIDE_LIMITS_HEADER_TIMEOUT_SECS",
        &["limits", "header_timeout_secs"],
    ),
    (
        "RINGSIDE_LIMITS_BODY_TIMEOUT_SECS",
        &["limits", "body_timeout_secs"],
    ),
    (
        "RINGSIDE_LIMITS_IDLE_TIMEOUT_SECS",
        &["limits", "idle_timeout_secs"],
    ),
    (
        "RINGSIDE_LIMITS_MAX_CONNECTIONS",
        &["limits", "max_connections"],
    ),
    (
        "RINGSIDE_LIMITS_STREAMS_PER_AGENT",
        &["limits", "streams_per_agent"],
    ),
    ("RINGSIDE_LIMITS_WRITE_QUEUE", &["limits", "write_queue"]),
    ("RINGSIDE_ZAMMAD_URL", &["zammad", "url"]),
    ("RINGSIDE_ZAMMAD_TOKEN", &["zammad", "token"]),
    ("RINGSIDE_ZAMMAD_TICKET_GROUP", &["zammad", "ticket_group"]),
    (
        "RINGSIDE_ZAMMAD_FULL_SYNC_SECS",
        &["zammad", "full_sync_secs"],
    ),
    (
        "RINGSIDE_ZAMMAD_INCREMENTAL_SYNC_SECS",
        &["zammad", "incremental_sync_secs"],
    ),
    (
        "RINGSIDE_ZAMMAD_MAYBE_NUMBERS_FROM_TICKETS",
        &["zammad", "maybe_numbers_from_tickets"],
    ),
    (
        "RINGSIDE_ZAMMAD_MAYBE_TICKET_DAYS",
        &["zammad", "maybe_ticket_days"],
    ),
    ("RINGSIDE_ZAMMAD_CTI_TOKEN", &["zammad", "cti_token"]),
    ("RINGSIDE_ZAMMAD_RELAY", &["zammad", "relay"]),
    (
        "RINGSIDE_ZAMMAD_RELAY_OUTBOX_MAX",
        &["zammad", "relay_outbox_max"],
    ),
    (
        "RINGSIDE_ZAMMAD_TICKET_TIMEOUT_MS",
        &["zammad", "ticket_timeout_ms"],
    ),
    ("RINGSIDE_ZAMMAD_LOG_CALLS", &["zammad", "log_calls"]),
    (
        "RINGSIDE_ZAMMAD_TICKET_WINDOW_HOURS",
        &["zammad", "ticket_window_hours"],
    ),
    ("RINGSIDE_METRICS_TOKEN", &["metrics", "token"]),
    ("RINGSIDE_TLS_CERT_FILE", &["tls", "cert_file"]),
    ("RINGSIDE_TLS_KEY_FILE", &["tls", "key_file"]),
];

/// The keys an environment variable sets to a whole number.
const NUMBER_KEYS: &[&str] = &[
    "ring_timeout_secs",
    "heartbeat_secs",
    "header_timeout_secs",
    "body_timeout_secs",
    "idle_timeout_secs",
    "max_connections",
    "streams_per_agent",
    "write_queue",
    "ring_secs",
    "full_sync_secs",
    "incremental_sync_secs",
    "maybe_ticket_days",
    "relay_outbox_max",
    "ticket_timeout_ms",
    "ticket_window_hours",
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
            Some(key) if NUMBER_KEYS.contains(key) => {
                toml::Value::Integer(value.parse().map_err(|_| ConfigError::Env {
                    name: name.clone(),
                    message: format!("{value:?} is not a whole number"),
                })?)
            }
            Some(&"enabled" | &"verify_signature" | &"maybe_numbers_from_tickets" | &"relay") => {
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

/// The commented `ringside.toml` that `ringside-hub init` writes, with a fresh token for
/// every webhook endpoint and for Prometheus from `new_token`.
pub fn template(mut new_token: impl FnMut() -> String) -> String {
    let generic_token = new_token();
    let placetel_token = new_token();
    let sipgate_token = new_token();
    let twilio_token = new_token();
    let metrics_token = new_token();
    format!(
        r#"# Ringside hub configuration. Every key but the lists block, routes and map can be
# overridden by an environment variable: RINGSIDE_ plus the key in upper case, sections
# joined with "_" (RINGSIDE_GENERIC_TOKEN). This file holds secrets: keep it mode 0600.

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
# The log on standard error: "text", or "json" (one object per line, for a log collector).
# Every webhook gets one line: provider, call id, outcome, status and time taken.
log_format = "text"

# Zammad-compatible generic CTI webhook: POST {{public_url}}/api/v1/cti/{{token}}
[generic]
enabled = true
token = "{generic_token}"

# Placetel: POST {{public_url}}/api/v1/placetel/{{token}} (Settings > External APIs).
[placetel]
enabled = false
token = "{placetel_token}"
# The shared secret for X-PLACETEL-SIGNATURE. Warning: "" leaves the signature unchecked,
# so anyone who learns the webhook URL can post events (the hub warns at start).
signing_secret = ""
# Placetel web API token: agent names of SIP users, and click-to-dial.
api_token = ""

# sipgate.io: {{public_url}}/api/v1/sipgate/{{token}}/in and .../out as the webhook URLs.
[sipgate]
enabled = false
token = "{sipgate_token}"
# Check X-Sipgate-Signature with sipgate's public key (public_key = "" uses the published one).
verify_signature = true
# Personal access token (id and token) for click-to-dial.
api_token_id = ""
api_token = ""

# Twilio: the number's voice URL is {{public_url}}/api/v1/twilio/{{token}}/voice.
[twilio]
enabled = false
token = "{twilio_token}"
account_sid = ""
# Checks X-Twilio-Signature and authenticates click-to-dial.
auth_token = ""
# The Twilio number shown to agents and customers.
number = ""
# ring-all, simple-queue or studio.
flow = "ring-all"
ring_secs = 20

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
# Who dials when an agent clicks a number: auto (the first provider with API credentials
# at which the agent has an id), placetel, sipgate, twilio, or tel (the agent's softphone).
dial_via = "auto"

[notify]
# Which agents are notified of calls to which number; empty: everyone.
# map = [{{ queue = "4930600000000", agents = ["anna"] }}]
map = []

# What clients may hold of the hub, so that a slow or hostile one cannot block the PBX.
[limits]
# Seconds to send a request's headers (also the longest wait for the next request on a
# kept-alive connection), 1 to 3600.
header_timeout_secs = 10
# Seconds to send a request's body once its headers are in, 1 to 3600.
body_timeout_secs = 30
# Seconds a connection may go without a byte moving while none of its requests is being
# handled (live streams are exempt), 1 to 86400.
idle_timeout_secs = 60
# Open connections at most, live streams included; one more is answered 503 and closed.
max_connections = 512
# Live streams one agent may have open at once; one more is answered 429.
streams_per_agent = 8
# Changes waiting for the database writer at most; beyond, requests are answered 503.
write_queue = 4096

# Zammad: the hub keeps a copy of its customers and organizations, so that every number in
# their phone, mobile and fax fields (and in their other text fields, as Zammad's own caller
# ID finds them) names the caller without asking Zammad during a call.
[zammad]
# Zammad's address, e.g. "https://zammad.example.com"; http only on loopback; "" is off.
url = ""
# An API access token (Profile > Token Access; the admin must turn on API Token Access under
# Settings > System > API) with the ticket.agent or admin.user permission.
# RINGSIDE_ZAMMAD_TOKEN keeps it out of this file.
token = ""
# The group that call tickets go to; with url and token, agents can create a call's ticket
# with one click.
ticket_group = ""
# Seconds between full passes over users and organizations, 60 to 604800. Without
# Elasticsearch these are the only sync; with it they notice deletions and merges.
full_sync_secs = 900
# Seconds between incremental passes (users changed since the last one), with
# Elasticsearch, 10 to 3600.
incremental_sync_secs = 60
# Numbers in the first customer-written article of recent tickets as "maybe" numbers
# of that customer (needs Elasticsearch and ticket.agent; see zammad check).
maybe_numbers_from_tickets = false
# How many days back a ticket counts as recent for those, 1 to 3650.
maybe_ticket_days = 30
# The token of Zammad's generic CTI endpoint (Admin > Integrations > CTI (generic)), for
# the relay. RINGSIDE_ZAMMAD_CTI_TOKEN keeps it out of this file.
cti_token = ""
# Forward every call event to Zammad's caller log (needs url and cti_token).
relay = false
# Relay items kept waiting or failed at most (1 to 10000000); beyond, new ones are dropped
# with an error in the log.
relay_outbox_max = 100000
# When a call rings, the matched customers' latest tickets are fetched from Zammad and the
# popup updates in place; this bounds one fetch, retries included, in milliseconds (100 to
# 30000). Beyond it Zammad counts as slow and the popup keeps the tickets of earlier calls.
ticket_timeout_ms = 2000
# Log calls of known Zammad customers as tickets in ticket_group (needs url, token and
# ticket_group): "off", "missed" (a missed call becomes a phone ticket) or "all" (an
# answered call too, as the answering agent's phone article). Exactly once per call.
log_calls = "off"
# Hours (0 to 720) within which another call from the same customer and number goes on
# their open call ticket as an article instead of a new ticket; 0: always a new ticket.
ticket_window_hours = 24

# Prometheus: GET {{public_url}}/metrics with "Authorization: Bearer <token>" (in the scrape
# config: authorization: {{ credentials: <token> }}). Admin tokens are accepted too; "" leaves
# admin tokens only.
[metrics]
token = "{metrics_token}"

# HTTPS, which Placetel, sipgate and Twilio require of public_url. Either a certificate the
# hub obtains and renews itself (the name must reach this hub on port 443: listen on
# 0.0.0.0:443, or forward 443 to it; setting acme agrees to the authority's terms)...
# [tls]
# acme = {{ domains = ["hub.example.com"], email = "admin@example.com" }}
# ...or files another program renews (certbot), put in force within a minute of renewal.
# [tls]
# cert_file = "/etc/ringside/fullchain.pem"
# key_file = "/etc/ringside/privkey.pem"
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
        let settings = load(&template(|| "0123456789abcdef0123".into()), &[]).unwrap();
        let config = settings.config;
        assert_eq!(config.listen, default_listen());
        assert_eq!(config.ring_timeout_secs, 120);
        assert!(config.generic.enabled);
        assert_eq!(config.generic.token, "0123456789abcdef0123");
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(settings.country.iso(), "DE");
        let json = load("", &[("RINGSIDE_LOG_FORMAT", "json")]).unwrap();
        assert_eq!(json.config.log_format, LogFormat::Json);
        assert!(load("log_format = \"xml\"", &[]).is_err());
    }

    /// The key and message of a refused configuration.
    fn refusal(text: &str, env: &[(&str, &str)]) -> (&'static str, String) {
        match load(text, env) {
            Err(ConfigError::Invalid { key, message }) => (key, message),
            other => panic!("refused as invalid, got {other:?}"),
        }
    }

    #[test]
    fn no_secret_shows_in_the_settings_debug() {
        let settings = load(
            r#"
store = "postgres"
database_url = "postgresql://ringside:s3cr3t-db@db.example/ringside"
[generic]
enabled = true
token = "s3cr3t-generic-0123456789"
[placetel]
enabled = true
token = "s3cr3t-placetel-0123456789"
signing_secret = "s3cr3t-signing"
api_token = "s3cr3t-placetel-api"
[sipgate]
enabled = true
token = "s3cr3t-sipgate-0123456789"
api_token_id = "token-ABC123"
api_token = "s3cr3t-sipgate-api"
[twilio]
enabled = true
token = "s3cr3t-twilio-0123456789"
account_sid = "AC0123"
auth_token = "s3cr3t-twilio-auth"
number = "+4930600000000"
[zammad]
url = "https://desk.example.com"
token = "s3cr3t-zammad"
cti_token = "s3cr3t-zammad-cti"
[metrics]
token = "s3cr3t-metrics-0123456789"
"#,
            &[],
        )
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("<redacted>") && shown.contains("AC0123"),
            "{shown}"
        );
    }

    #[test]
    fn the_store_settings_agree_and_never_repeat_the_connection_string() {
        let url = "postgresql://ringside:s3cret@db.example/ringside";
        let (key, _) = refusal(&format!("database_url = {url:?}"), &[]);
        assert_eq!(key, "database_url", "a URL without store = postgres");
        let (key, message) = refusal("store = \"postgres\"", &[]);
        assert_eq!(key, "database_url");
        assert!(
            message.contains("needs the PostgreSQL connection string"),
            "{message}"
        );
        let (_, message) = refusal(
            "store = \"postgres\"\ndatabase_url = \"postgresql://u:s3cret@db/x?bogus=1\"",
            &[],
        );
        assert!(!message.contains("s3cret"), "{message}");
        let (key, message) = refusal(
            "store = \"postgres\"",
            &[(
                "RINGSIDE_DATABASE_URL",
                &format!("{url}?sslmode=verify-full"),
            )],
        );
        assert_eq!(key, "database_url");
        assert!(
            message.contains("require") && message.contains("database_ca_file"),
            "libpq's verify-full is explained: {message}"
        );
        let (key, _) = refusal("database_ca_file = \"/etc/ringside/db-ca.pem\"", &[]);
        assert_eq!(key, "database_ca_file", "with SQLite");

        let settings = load(
            "store = \"postgres\"",
            &[
                ("RINGSIDE_DATABASE_URL", url),
                ("RINGSIDE_DATABASE_CA_FILE", "/etc/ringside/db-ca.pem"),
            ],
        )
        .unwrap();
        match settings.config.store_location() {
            Location::Postgres {
                url: found,
                ca_file,
            } => {
                assert_eq!(found, url);
                assert_eq!(ca_file, Some(Path::new("/etc/ringside/db-ca.pem")));
            }
            Location::Sqlite(_) => panic!("a PostgreSQL location"),
        }
        assert!(!format!("{:?}", settings.config).contains("s3cret"));
    }

    #[test]
    fn logging_calls_as_tickets_needs_url_token_and_group_and_a_bounded_window() {
        let with = |zammad: &str, env: &[(&str, &str)]| {
            load(&format!("[zammad]\n{zammad}"), env).map(|s| s.config.zammad)
        };
        let full = "url = \"https://desk.example.com\"\ntoken = \"t\"\nticket_group = \"Users\"\n";
        let on = with(&format!("{full}log_calls = \"missed\""), &[]).unwrap();
        assert_eq!(on.log_calls, LogCalls::Missed);
        assert_eq!(on.ticket_window_hours, 24, "the default window");
        assert!(on.tickets_possible());
        let off = with(full, &[]).unwrap();
        assert_eq!(off.log_calls, LogCalls::Off, "off by default");
        assert!(off.tickets_possible(), "one click still works");
        let refused = |zammad: &str| with(zammad, &[]).unwrap_err().to_string();
        assert!(refused(&format!("{full}log_calls = \"sometimes\"")).contains("sometimes"));
        assert!(
            refused("url = \"https://desk.example.com\"\ntoken = \"t\"\nlog_calls = \"all\"")
                .contains("zammad.ticket_group")
        );
        assert!(refused("ticket_group = \"Users\"\nlog_calls = \"all\"").contains("zammad.url"));
        assert!(
            refused(&format!("{full}ticket_window_hours = 721")).contains("ticket_window_hours")
        );
        let from_env = with(
            full,
            &[
                ("RINGSIDE_ZAMMAD_LOG_CALLS", "all"),
                ("RINGSIDE_ZAMMAD_TICKET_WINDOW_HOURS", "0"),
            ],
        )
        .unwrap();
        assert_eq!(
            (from_env.log_calls, from_env.ticket_window_hours),
            (LogCalls::All, 0)
        );
    }

    #[test]
    fn the_zammad_relay_needs_an_https_url_and_a_token_from_the_file_or_the_environment() {
        let with = |zammad: &str, env: &[(&str, &str)]| {
            load(&format!("[zammad]\n{zammad}"), env).map(|s| s.config.zammad)
        };
        let relay = with(
            "url = \"https://desk.example.com/\"\nrelay = true",
            &[("RINGSIDE_ZAMMAD_CTI_TOKEN", "cti-secret")],
        )
        .unwrap();
        assert!(relay.relay);
        assert_eq!(
            relay.cti_endpoint(),
            "https://desk.example.com/api/v1/cti/cti-secret"
        );
        assert!(!with("", &[]).unwrap().relay, "off by default");
        let refused = |zammad: &str| with(zammad, &[]).unwrap_err().to_string();
        assert!(refused("url = \"http://desk.example.com\"").contains("https"));
        assert!(refused("url = \"https://d.example\"\nrelay = true").contains("cti_token"));
        assert!(refused("relay = true\ncti_token = \"x\"").contains("zammad.url"));
        assert!(refused("relay_outbox_max = 0").contains("relay_outbox_max"));
        let relay_only = "url = \"http://127.0.0.1:3000\"\nrelay = true\ncti_token = \"x\"";
        assert!(
            with(relay_only, &[]).is_ok(),
            "the relay needs no API token"
        );
        assert!(with("url = \"http://localhost:3000\"\ntoken = \"t\"", &[]).is_ok());
        assert!(
            refused("url = \"https://d.example\"").contains("zammad.token"),
            "a URL with neither the sync's token nor the relay does nothing"
        );
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
            &template(|| "0123456789abcdef0123".into()),
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
        let queue = "[twilio]\nenabled = true\ntoken = \"0123456789abcdef0123\"\nauth_token = \"t\"\nflow = \"simple-queue\"";
        let err = load(queue, &[]).unwrap_err();
        assert!(err.to_string().starts_with("twilio.account_sid"), "{err}");
        let err = load("[generic]\nenabled = true\ntoken = \"short\"", &[]).unwrap_err();
        assert!(err.to_string().starts_with("generic.token"), "{err}");
        let err = load("[metrics]\ntoken = \"short\"", &[]).unwrap_err();
        assert!(err.to_string().starts_with("metrics.token"), "{err}");
    }

    #[test]
    fn a_cloud_provider_on_a_public_url_it_cannot_post_to_is_warned_of_by_name() {
        let twilio = "[twilio]\nenabled = true\ntoken = \"0123456789abcdef0123\"\nauth_token = \"t\"\nflow = \"studio\"\n";
        let placetel = "[placetel]\nenabled = true\ntoken = \"0123456789abcdef0123\"\nsigning_secret = \"s\"\n";
        let warned = |public_url: &str, sections: &str| {
            load(&format!("public_url = \"{public_url}\"\n{sections}"), &[])
                .unwrap()
                .warnings()
        };
        let plain = warned("http://hub.example.com", twilio);
        assert_eq!(plain.len(), 1, "{plain:?}");
        assert!(
            plain[0].contains("not https") && plain[0].contains("Twilio"),
            "{plain:?}"
        );
        let both = warned("http://127.0.0.1:8642", &format!("{twilio}{placetel}"));
        assert_eq!(both.len(), 1, "{both:?}");
        assert!(
            both[0].contains("this computer") && both[0].contains("Placetel and Twilio"),
            "{both:?}"
        );
        assert!(warned("https://hub.example.com", twilio).is_empty());
        let hostless = warned("mailto:hub", twilio);
        assert!(
            hostless[0].contains("not a URL with a host"),
            "{hostless:?}"
        );
        assert!(
            warned("http://127.0.0.1:8642", "").is_empty(),
            "the generic endpoint's PBX may be on the same network"
        );
    }

    #[test]
    fn tls_files_come_from_the_file_or_the_environment_and_need_both() {
        let settings = load(
            "[tls]\ncert_file = \"/etc/ringside/fullchain.pem\"\nkey_file = \"/etc/ringside/privkey.pem\"\n",
            &[],
        )
        .unwrap();
        let expected = TlsSettings::Files(TlsFiles {
            cert_file: "/etc/ringside/fullchain.pem".into(),
            key_file: "/etc/ringside/privkey.pem".into(),
        });
        assert_eq!(settings.config.tls.as_ref(), Some(&expected));
        let settings = load(
            "",
            &[
                ("RINGSIDE_TLS_CERT_FILE", "/etc/ringside/fullchain.pem"),
                ("RINGSIDE_TLS_KEY_FILE", "/etc/ringside/privkey.pem"),
            ],
        )
        .unwrap();
        assert_eq!(settings.config.tls, Some(expected));
        assert!(load("", &[]).unwrap().config.tls.is_none());
        let half = load(
            "",
            &[("RINGSIDE_TLS_CERT_FILE", "/etc/ringside/fullchain.pem")],
        )
        .expect_err("a certificate without its key is refused")
        .to_string();
        assert!(half.contains("key_file"), "{half}");
    }

    #[test]
    fn the_templates_tls_examples_load_when_uncommented() {
        let template = template(|| "0123456789abcdef0123".into());
        let acme = template
            .replacen("# [tls]\n# acme = ", "[tls]\nacme = ", 1)
            .replacen("listen = \"127.0.0.1:8642\"", "listen = \"0.0.0.0:443\"", 1);
        let settings = load(&acme, &[]).unwrap();
        assert!(matches!(settings.config.tls, Some(TlsSettings::Acme(_))));
        assert!(settings.warnings().is_empty(), "{:?}", settings.warnings());
        let files = template
            .replacen("# [tls]\n# cert_file", "[tls]\ncert_file", 1)
            .replacen("# key_file", "key_file", 1);
        let settings = load(&files, &[]).unwrap();
        assert!(matches!(settings.config.tls, Some(TlsSettings::Files(_))));
    }

    #[test]
    fn tls_takes_files_or_acme_never_both() {
        let settings = load(
            "[tls]\nacme = { domains = [\"hub.example.com\", \"calls.example.com\"] }\n",
            &[],
        )
        .unwrap();
        let expected = AcmeSettings {
            domains: vec!["hub.example.com".into(), "calls.example.com".into()],
            email: None,
            directory: "https://acme-v02.api.letsencrypt.org/directory".into(),
            ca_file: None,
        };
        assert_eq!(settings.config.tls, Some(TlsSettings::Acme(expected)));
        let full = load(
            "[tls.acme]\ndomains = [\"hub.example.com\"]\nemail = \"admin@example.com\"\n\
             directory = \"https://acme.internal.example/directory\"\n\
             ca_file = \"/etc/ringside/acme-ca.pem\"\n",
            &[],
        )
        .unwrap();
        let Some(TlsSettings::Acme(acme)) = full.config.tls else {
            panic!("acme expected");
        };
        assert_eq!(acme.email.as_deref(), Some("admin@example.com"));
        assert_eq!(
            acme.ca_file,
            Some(PathBuf::from("/etc/ringside/acme-ca.pem"))
        );
        for (text, named) in [
            (
                "[tls]\ncert_file = \"a.pem\"\nkey_file = \"k.pem\"\nacme = { domains = [\"hub.example.com\"] }\n",
                "either",
            ),
            ("[tls]\n", "empty"),
            ("[tls]\nkey_file = \"k.pem\"\n", "without cert_file"),
            ("[tls]\nacme = { domains = [\"hub.example.com\"], port = 443 }\n", "port"),
        ] {
            let refused = load(text, &[]).expect_err(text).to_string();
            assert!(refused.contains(named), "{text}: {refused}");
        }
    }

    #[test]
    fn acme_names_email_and_directory_are_checked_before_asking() {
        let acme = |inner: &str| format!("[tls]\nacme = {{ {inner} }}\n");
        for (inner, key, named) in [
            ("domains = []", "tls.acme.domains", "give 1 to 100"),
            (
                "domains = [\"*.example.com\"]",
                "tls.acme.domains",
                "wildcard",
            ),
            (
                "domains = [\"192.0.2.7\"]",
                "tls.acme.domains",
                "an address",
            ),
            (
                "domains = [\"Hub.Example.com\"]",
                "tls.acme.domains",
                "lower case",
            ),
            ("domains = [\"hub\"]", "tls.acme.domains", "domain name"),
            (
                "domains = [\"-hub.example.com\"]",
                "tls.acme.domains",
                "domain name",
            ),
            (
                "domains = [\"hub.example.com\"], email = \"admin\"",
                "tls.acme.email",
                "not an email",
            ),
            (
                "domains = [\"hub.example.com\"], directory = \"http://acme.example/dir\"",
                "tls.acme.directory",
                "https",
            ),
        ] {
            let (refused_key, message) = refusal(&acme(inner), &[]);
            assert_eq!(refused_key, key, "{inner}");
            assert!(message.contains(named), "{inner}: {message}");
        }
        let many = (0..101)
            .map(|i| format!("\"n{i}.example.com\""))
            .collect::<Vec<_>>()
            .join(", ");
        let (key, _) = refusal(&acme(&format!("domains = [{many}]")), &[]);
        assert_eq!(key, "tls.acme.domains");
    }

    #[test]
    fn acme_warns_when_its_check_may_not_reach_the_hub() {
        let acme = "[tls]\nacme = { domains = [\"hub.example.com\"] }\n";
        let on_443 = load(&format!("listen = \"0.0.0.0:443\"\n{acme}"), &[]).unwrap();
        assert!(on_443.warnings().is_empty(), "{:?}", on_443.warnings());
        let elsewhere = load(&format!("listen = \"0.0.0.0:8642\"\n{acme}"), &[]).unwrap();
        let warnings = elsewhere.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("port 443"), "{warnings:?}");
        let nodes = load(
            &format!(
                "listen = \"0.0.0.0:443\"\nstore = \"postgres\"\n\
                 database_url = \"postgresql://ringside@db.example.com/ringside\"\n{acme}"
            ),
            &[],
        )
        .unwrap();
        let warnings = nodes.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("load balancer"), "{warnings:?}");
    }

    #[test]
    fn the_metrics_token_is_optional_hidden_and_set_by_the_environment() {
        assert_eq!(load("", &[]).unwrap().config.metrics.token, "");
        let settings = load("", &[("RINGSIDE_METRICS_TOKEN", "scrape-0123456789abcdef")]).unwrap();
        assert_eq!(settings.config.metrics.token, "scrape-0123456789abcdef");
        let shown = format!("{:?}", settings.config);
        assert!(!shown.contains("scrape-0123456789abcdef"), "{shown}");
        let template = load(&template(|| "0123456789abcdef0123".into()), &[]).unwrap();
        assert_eq!(template.config.metrics.token, "0123456789abcdef0123");
    }

    #[test]
    fn numbers_out_of_range_are_refused_with_their_key_and_range() {
        let cases = [
            ("ring_timeout_secs = 0", "ring_timeout_secs:"),
            (
                "ring_timeout_secs = 9223372036854775807",
                "ring_timeout_secs:",
            ),
            ("heartbeat_secs = 0", "heartbeat_secs:"),
            ("heartbeat_secs = 18446744073709551", "heartbeat_secs:"),
            ("[twilio]\nring_secs = 0", "twilio.ring_secs:"),
            ("[twilio]\nring_secs = 601", "twilio.ring_secs:"),
            (
                "[limits]\nheader_timeout_secs = 0",
                "limits.header_timeout_secs:",
            ),
            (
                "[limits]\nbody_timeout_secs = 0",
                "limits.body_timeout_secs:",
            ),
            (
                "[limits]\nidle_timeout_secs = 0",
                "limits.idle_timeout_secs:",
            ),
            (
                "[limits]\nidle_timeout_secs = 86401",
                "limits.idle_timeout_secs:",
            ),
            ("[limits]\nmax_connections = 0", "limits.max_connections:"),
            (
                "[limits]\nstreams_per_agent = 0",
                "limits.streams_per_agent:",
            ),
            ("[limits]\nwrite_queue = 0", "limits.write_queue:"),
        ];
        for (text, key) in cases {
            let err = load(text, &[]).expect_err(text);
            let message = err.to_string();
            assert!(message.starts_with(key), "{text}: {message}");
            assert!(message.contains("must be between"), "{text}: {message}");
        }
        let err = load("", &[("RINGSIDE_HEARTBEAT_SECS", "0")]).unwrap_err();
        assert!(err.to_string().starts_with("heartbeat_secs:"), "{err}");
        let err = load("ring_timeout_secs = -1", &[]).unwrap_err();
        assert!(err.to_string().starts_with("ringside.toml:"), "{err}");
    }

    #[test]
    fn limits_have_documented_defaults_and_environment_overrides() {
        let limits = load("", &[]).unwrap().config.limits;
        assert_eq!(limits.header_timeout_secs, 10);
        assert_eq!(limits.body_timeout_secs, 30);
        assert_eq!(limits.idle_timeout_secs, 60);
        assert_eq!(limits.max_connections, 512);
        assert_eq!(limits.streams_per_agent, 8);
        assert_eq!(limits.write_queue, 4096);
        let limits = load(
            &template(|| "0123456789abcdef0123".into()),
            &[
                ("RINGSIDE_LIMITS_HEADER_TIMEOUT_SECS", "2"),
                ("RINGSIDE_LIMITS_BODY_TIMEOUT_SECS", "3"),
                ("RINGSIDE_LIMITS_IDLE_TIMEOUT_SECS", "4"),
                ("RINGSIDE_LIMITS_MAX_CONNECTIONS", "5"),
                ("RINGSIDE_LIMITS_STREAMS_PER_AGENT", "6"),
                ("RINGSIDE_LIMITS_WRITE_QUEUE", "7"),
            ],
        )
        .unwrap()
        .config
        .limits;
        assert_eq!(
            (
                limits.header_timeout_secs,
                limits.body_timeout_secs,
                limits.idle_timeout_secs,
                limits.max_connections,
                limits.streams_per_agent,
                limits.write_queue
            ),
            (2, 3, 4, 5, 6, 7)
        );
    }

    #[test]
    fn every_scalar_key_has_its_environment_variable() {
        let config = load(
            "",
            &[
                ("RINGSIDE_SIPGATE_VERIFY_SIGNATURE", "false"),
                ("RINGSIDE_SIPGATE_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----"),
                ("RINGSIDE_TWILIO_FLOW", "studio"),
                ("RINGSIDE_TWILIO_RING_SECS", "35"),
                ("RINGSIDE_TWILIO_NO_AGENT_MESSAGE", "Nobody is here."),
                ("RINGSIDE_TWILIO_LANGUAGE", "de-DE"),
            ],
        )
        .unwrap()
        .config;
        assert!(!config.sipgate.verify_signature);
        assert_eq!(config.sipgate.public_key, "-----BEGIN PUBLIC KEY-----");
        assert_eq!(config.twilio.flow, TwilioFlow::Studio);
        assert_eq!(config.twilio.ring_secs, 35);
        assert_eq!(config.twilio.no_agent_message, "Nobody is here.");
        assert_eq!(config.twilio.language, "de-DE");
        let err = load("", &[("RINGSIDE_SIPGATE_VERIFY_SIGNATURE", "no")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("RINGSIDE_SIPGATE_VERIFY_SIGNATURE"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_inside_lists_are_errors() {
        for (text, typo) in [
            (
                "[inbound]\nblock = [{ caller_id = \"491715000000\", notes = \"spam\" }]",
                "notes",
            ),
            (
                "[outbound]\nroutes = [{ dest = \"41*\", caller_id = \"41\", callerid = \"4\" }]",
                "callerid",
            ),
            (
                "[notify]\nmap = [{ queue = \"4930\", agents = [\"anna\"], agent = \"ben\" }]",
                "agent",
            ),
        ] {
            let err = load(text, &[]).unwrap_err();
            assert!(
                err.to_string().contains(&format!("unknown field `{typo}`")),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn unchecked_signatures_are_warned_about() {
        let placetel = "public_url = \"https://hub.example.com\"\n\
                        [placetel]\nenabled = true\ntoken = \"0123456789abcdef0123\"\n";
        let warnings = load(placetel, &[]).unwrap().warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("placetel.signing_secret is empty"));
        let signed = format!("{placetel}signing_secret = \"s3cret\"\n");
        assert!(load(&signed, &[]).unwrap().warnings().is_empty());
        let sipgate = "[sipgate]\nenabled = true\ntoken = \"0123456789abcdef0123\"\n\
                       verify_signature = false\n";
        let warnings = load(sipgate, &[]).unwrap().warnings();
        assert!(warnings[0].starts_with("sipgate.verify_signature is false"));
        let template = load(&template(|| "0123456789abcdef0123".into()), &[]).unwrap();
        assert!(
            template.warnings().is_empty(),
            "Placetel is off in the template"
        );
        assert!(
            template_says_placetel_is_unchecked(),
            "the template warns next to the key"
        );
    }

    #[test]
    fn zammad_is_off_by_default_and_checked_when_on() {
        let zammad = load(&template(|| "0123456789abcdef0123".into()), &[])
            .unwrap()
            .config
            .zammad;
        assert!(!zammad.enabled());
        assert_eq!(
            (zammad.full_sync_secs, zammad.incremental_sync_secs),
            (900, 60)
        );
        assert!(!zammad.maybe_numbers_from_tickets);
        assert_eq!(zammad.ticket_timeout_ms, 2000);
        let timeout = [("RINGSIDE_ZAMMAD_TICKET_TIMEOUT_MS", "500")];
        assert_eq!(
            load("", &timeout).unwrap().config.zammad.ticket_timeout_ms,
            500
        );
        let on = "[zammad]\nurl = \"https://zammad.example.com\"\ntoken = \"t0k3n\"\n";
        let zammad = load(on, &[]).unwrap().config.zammad;
        assert!(zammad.enabled());
        assert_eq!(zammad.token, "t0k3n");
        let loopback = "[zammad]\nurl = \"http://127.0.0.1:3000\"\ntoken = \"t\"\n";
        assert!(load(loopback, &[]).is_ok());
        let localhost = "[zammad]\nurl = \"http://localhost:3000\"\ntoken = \"t\"\n";
        assert!(load(localhost, &[]).is_ok());
        for (text, key) in [
            (
                "[zammad]\nurl = \"http://zammad.example.com\"\ntoken = \"t\"\n",
                "zammad.url:",
            ),
            ("[zammad]\nurl = \"zammad\"\ntoken = \"t\"\n", "zammad.url:"),
            (
                "[zammad]\nurl = \"https://zammad.example.com\"\n",
                "zammad.token:",
            ),
            ("[zammad]\nfull_sync_secs = 59", "zammad.full_sync_secs:"),
            (
                "[zammad]\nincremental_sync_secs = 0",
                "zammad.incremental_sync_secs:",
            ),
            (
                "[zammad]\nmaybe_ticket_days = 0",
                "zammad.maybe_ticket_days:",
            ),
            (
                "[zammad]\nticket_timeout_ms = 99",
                "zammad.ticket_timeout_ms:",
            ),
            (
                "[zammad]\nticket_timeout_ms = 30001",
                "zammad.ticket_timeout_ms:",
            ),
            ("[zammad]\ntokn = \"t\"", "ringside.toml:"),
        ] {
            let err = load(text, &[]).expect_err(text);
            assert!(err.to_string().starts_with(key), "{text}: {err}");
        }
    }

    #[test]
    fn zammad_keys_come_from_the_environment_and_the_token_is_never_shown() {
        let config = load(
            "",
            &[
                ("RINGSIDE_ZAMMAD_URL", "https://zammad.example.com"),
                ("RINGSIDE_ZAMMAD_TOKEN", "s3cr3t-t0k3n"),
                ("RINGSIDE_ZAMMAD_TICKET_GROUP", "Users"),
                ("RINGSIDE_ZAMMAD_FULL_SYNC_SECS", "600"),
                ("RINGSIDE_ZAMMAD_INCREMENTAL_SYNC_SECS", "30"),
                ("RINGSIDE_ZAMMAD_MAYBE_NUMBERS_FROM_TICKETS", "true"),
                ("RINGSIDE_ZAMMAD_MAYBE_TICKET_DAYS", "7"),
            ],
        )
        .unwrap()
        .config;
        let zammad = &config.zammad;
        assert_eq!(zammad.url, "https://zammad.example.com");
        assert_eq!(zammad.token, "s3cr3t-t0k3n");
        assert_eq!(zammad.ticket_group, "Users");
        assert_eq!(
            (
                zammad.full_sync_secs,
                zammad.incremental_sync_secs,
                zammad.maybe_ticket_days
            ),
            (600, 30, 7)
        );
        assert!(zammad.maybe_numbers_from_tickets);
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    fn template_says_placetel_is_unchecked() -> bool {
        let text = template(|| "t".into());
        let before_key = &text[..text.find("signing_secret = \"\"").unwrap()];
        let comment = before_key.rsplit("\n\n").next().unwrap();
        comment.contains("Warning") && comment.contains("unchecked")
    }
}
