//! Ringside's hub: receives call events from the phone system, keeps the team's call
//! journal, identifies callers from the directory and streams live events to the desktop
//! apps. Runs standalone (`ringside-hub serve`) or embedded in the desktop app ([`start`]).

pub mod api;
pub mod api_error;
pub mod call_rules;
pub mod config;
pub mod dial;
pub mod embedded;
pub mod extract;
pub mod intake;
pub mod janitor;
pub mod metrics;
pub mod online;
pub mod owner_only;
pub mod placetel_users;
pub mod recorder;
pub mod redact;
pub mod root_cause;
pub mod routes;
pub mod server;
pub mod state;
pub mod store;
pub mod stream;
pub mod stream_slots;
pub mod tls;
pub mod token;
pub mod webhook;
pub mod webhook_log;
pub mod webhook_url;
pub mod zammad;
pub mod zammad_relay;

use std::net::SocketAddr;
use std::sync::Arc;

use ringside_providers::sipgate::{KeyError, SipgateVerifier};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::recorder::{Recorder, RelayOutbox};
use crate::state::Hub;
use crate::store::{Store, StoreError};
use crate::stream_slots::StreamSlots;
use crate::webhook_log::WebhookLog;
use ringside_clock::{Clock, SystemClock};

/// Why the hub did not start, or ended with an error. Each message names what failed and
/// why, cause included.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The store could not be opened.
    #[error("opening {place}: {cause}")]
    Store {
        /// Which database, in words.
        place: String,
        /// Why.
        cause: StoreError,
    },
    /// The configured sipgate key is not a public key.
    #[error("sipgate.public_key: {0}")]
    SipgateKey(KeyError),
    /// The listening socket could not be bound.
    #[error("listening on {addr}: {cause}")]
    Listen {
        /// The configured address.
        addr: SocketAddr,
        /// Why.
        cause: std::io::Error,
    },
    /// The bound socket's address could not be read.
    #[error("{0}")]
    LocalAddr(std::io::Error),
    /// The server task panicked or was cancelled.
    #[error("server task: {0}")]
    Task(tokio::task::JoinError),
    /// The server's accept loop failed.
    #[error("{0}")]
    Serve(std::io::Error),
    /// The Zammad sync could not start.
    #[error("zammad: {0}")]
    Zammad(#[from] zammad::client::ZammadError),
    /// `[tls]` cannot serve: the certificate files do not, or the ACME client cannot be
    /// set up.
    #[error("tls: {0}")]
    Tls(#[from] tls::TlsStartError),
}

impl HubError {
    /// Whether another program holds the address the hub was to listen on.
    pub fn is_addr_in_use(&self) -> bool {
        matches!(self, HubError::Listen { cause, .. } if cause.kind() == std::io::ErrorKind::AddrInUse)
    }
}

/// A hub serving on a socket.
#[derive(Debug)]
pub struct RunningHub {
    /// The address it listens on (the real port when the config said port 0).
    pub addr: SocketAddr,
    /// Its shared state, for embedding and tests.
    pub hub: Arc<Hub>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
    janitor: JoinHandle<()>,
    zammad: Option<JoinHandle<()>>,
    relay: Option<JoinHandle<()>>,
    /// Where the `[tls]` certificate comes from, and the task that keeps it current.
    tls: Option<(tls::Tls, JoinHandle<()>)>,
}

impl RunningHub {
    /// The base URL, e.g. `http://127.0.0.1:8642` (`https://` with `[tls]`).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Puts the block list, outbound routes and notify map of `settings` in force for the
    /// calls from now on (the rest of the configuration takes effect at a restart); what
    /// they hold, in words.
    pub fn reload(&self, settings: &Settings) -> String {
        let rules = self.hub.rules.replace(&settings.config);
        match &self.tls {
            Some((tls, _)) => format!("{rules}; {}", tls.reload()),
            None => rules,
        }
    }

    /// Stops accepting, closes the live streams and lets requests in flight finish.
    pub async fn stop(self) -> Result<(), HubError> {
        self.janitor.abort();
        if let Some((_, keeper)) = &self.tls {
            keeper.abort();
        }
        if let Some(zammad) = &self.zammad {
            zammad.abort();
        }
        if let Some(relay) = &self.relay {
            relay.abort();
        }
        self.hub.stopping.send_replace(true);
        let _ = self.stop.send(());
        self.server
            .await
            .map_err(HubError::Task)?
            .map_err(HubError::Serve)
    }

    /// Waits until the server ends by itself (it does not, unless it fails).
    pub async fn wait(self) -> Result<(), HubError> {
        self.server
            .await
            .map_err(HubError::Task)?
            .map_err(HubError::Serve)
    }
}

/// The checker of sipgate's signatures, from the configured key or the published one.
fn sipgate_verifier(settings: &Settings) -> Result<Option<SipgateVerifier>, HubError> {
    let sipgate = &settings.config.sipgate;
    if !sipgate.enabled || !sipgate.verify_signature {
        return Ok(None);
    }
    let pem = if sipgate.public_key.trim().is_empty() {
        ringside_providers::sipgate::SIPGATE_PUBLIC_KEY
    } else {
        sipgate.public_key.as_str()
    };
    let verifier = SipgateVerifier::from_pem(pem).map_err(HubError::SipgateKey)?;
    Ok(Some(verifier))
}

/// Opens the store, binds the listener and serves in the background, on the system's clock.
pub async fn start(settings: Settings) -> Result<RunningHub, HubError> {
    start_with_clock(settings, Arc::new(SystemClock)).await
}

/// [`start`] on `clock`: a test's [`ringside_clock::ManualClock`] drives the janitor and the time of
/// every change.
pub async fn start_with_clock(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<RunningHub, HubError> {
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let location = settings.config.store_location();
    let (store, writer) = Store::open_at(location).map_err(|cause| HubError::Store {
        place: location.to_string(),
        cause,
    })?;
    if let Some(server) = store.postgres_server() {
        let tls = if server.uses_tls() {
            "over TLS, the server's certificate verified"
        } else {
            "without TLS"
        };
        tracing::info!("store: {location}, {tls}");
    }
    let sipgate_verifier = sipgate_verifier(&settings)?;
    let tls = settings
        .config
        .tls
        .as_ref()
        .map(|tls| tls::Tls::load(tls, &settings.config.data_dir, clock.as_ref()))
        .transpose()?;
    let listener = TcpListener::bind(settings.config.listen)
        .await
        .map_err(|cause| HubError::Listen {
            addr: settings.config.listen,
            cause,
        })?;
    let addr = listener.local_addr().map_err(HubError::LocalAddr)?;
    let limits = settings.config.limits.clone();
    let mut recorder =
        Recorder::with_queue(store.clone(), writer, limits.write_queue, clock.clone());
    let zammad_config = &settings.config.zammad;
    let tickets = zammad_config
        .tickets_possible()
        .then(|| recorder::call_tickets::CallTicketing {
            log: zammad_config.log_calls,
            group: zammad_config.ticket_group.clone(),
            window_hours: zammad_config.ticket_window_hours,
        });
    let relaying = zammad_config.relay || tickets.is_some();
    if relaying {
        recorder = recorder.relaying_to(RelayOutbox {
            cti: zammad_config.relay,
            tickets,
            country: settings.country.clone(),
            cap: zammad_config.relay_outbox_max,
            wake: Arc::default(),
            outcomes: Arc::default(),
        });
    }
    let zammad_health = zammad_config
        .enabled()
        .then(|| Arc::new(zammad::health::ZammadHealth::default()));
    let (zammad, zammad_customers) = match &zammad_health {
        Some(health) => {
            let (sync, customers, task) =
                zammad_sync(&settings, clock.clone(), &recorder, &store, health.clone())?;
            (Some((sync, task)), Some(customers))
        }
        None => (None, None),
    };
    let live_tickets = match &zammad_health {
        Some(health) => {
            let fetcher =
                zammad::tickets::TicketFetcher::new(zammad_config, health.clone(), clock.clone())?;
            Some(Arc::new(zammad::live::LiveTickets::new(
                fetcher,
                recorder.clone(),
                store.clone(),
                clock.clone(),
            )))
        }
        None => None,
    };
    let certificates = tls.as_ref().map(|tls| tls.certificates().clone());
    let mut metrics = metrics::Metrics::new(store.read_times(), recorder.commit_times());
    if certificates.is_some() {
        metrics = metrics.with_certificate_expiry();
    }
    let hub = Arc::new(Hub {
        metrics: Arc::new(metrics),
        certificates,
        rules: call_rules::LiveRules::new(&settings.config),
        recorder,
        stream_slots: StreamSlots::new(limits.streams_per_agent),
        store,
        settings,
        webhook_log: WebhookLog::default(),
        stopping: tokio::sync::watch::Sender::new(false),
        sipgate_verifier,
        placetel_users: Default::default(),
        clock,
        zammad: zammad.as_ref().map(|(sync, _)| sync.clone()),
        zammad_health,
        live_tickets,
        zammad_customers,
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let app = routes::router(hub.clone());
    let acceptor = tls.as_ref().map(|tls| tls.certificates().acceptor());
    let server =
        tokio::spawn(async move { server::serve(listener, app, &limits, acceptor, stopped).await });
    let janitor = tokio::spawn(janitor::run(hub.clone()));
    let relay = relaying.then(|| tokio::spawn(zammad_relay::run(hub.clone())));
    let tls = tls.map(|tls| {
        let keeper = tls.keep_current(hub.clock.clone());
        (tls, keeper)
    });
    Ok(RunningHub {
        addr,
        hub,
        stop,
        server,
        janitor,
        zammad: zammad.map(|(_, task)| task),
        relay,
        tls,
    })
}

/// Starts the Zammad sync's task, with a database connection of its own (and the
/// writer, which refreshes the journal's callers after a pass), reporting to `health`;
/// with it, the creation of customers from popups, which shares its connections.
#[allow(clippy::type_complexity)]
fn zammad_sync(
    settings: &Settings,
    clock: Arc<dyn Clock>,
    recorder: &Recorder,
    store: &Store,
    health: Arc<zammad::health::ZammadHealth>,
) -> Result<
    (
        Arc<zammad::task::ZammadSync>,
        zammad::customer::Customers,
        JoinHandle<()>,
    ),
    HubError,
> {
    let config = &settings.config.zammad;
    let client = zammad::client::ZammadClient::new(config, Default::default())?;
    let location = settings.config.store_location();
    let (_, db) = Store::open_at(location).map_err(|cause| HubError::Store {
        place: location.to_string(),
        cause,
    })?;
    let syncer = zammad::sync::Syncer::new(client, settings.country.clone(), db)
        .with_maybe_numbers(
            config
                .maybe_numbers_from_tickets
                .then_some(config.maybe_ticket_days),
        )
        .with_lease(store.lease(store::lease::Work::ZammadSync));
    let refresh = zammad::task::CallerRefresh {
        recorder: recorder.clone(),
        country: settings.country.clone(),
    };
    let (sync, task) = zammad::task::spawn(syncer.clone(), config, clock, refresh, health);
    // "Sync now" asked of another node.
    let asked = sync.clone();
    recorder
        .signals()
        .on(store::signal::Signal::ZammadSync, move || {
            asked.demand_full_pass()
        });
    let customers =
        zammad::customer::Customers::new(syncer, sync.clone(), recorder.clone(), store.clone());
    Ok((sync, customers, task))
}
